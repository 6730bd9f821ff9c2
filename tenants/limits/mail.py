"""Limits on the account mails anyone can make this server send without a login: the password-reset
request. Two limits in ThingsBoard's rate-limit format, taken from the limiter every other limit takes
from (one count across processes through REDIS_URL, this process's own in embedded mode):

- per target address (``ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT``), counted whether an account has the
  address or not: a refusal must tell nobody which addresses have accounts;
- per client (``ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT``), for the anonymous reset request: its
  REMOTE_ADDR (uvicorn takes X-Forwarded-For only from a proxy it trusts, so a client cannot choose
  its own), an IPv6 client by its /64, which one subscriber usually holds whole.

Both are the anonymous requests' own buckets: the mails an authenticated administrator causes (a new
user's activation mail, ``sendActivationMail``) take from neither, as ThingsBoard's reset limit never
touches invitations; strangers asking for resets must not keep an administrator from inviting
someone. Those are bounded by the tenant's REST limits (tbproject/api/throttles.py).

A target address is keyed by an HMAC of it: the shared store never holds addresses.

    wait = mail.take("carol@example.com", client=mail.client_of(request))   # 0: send; else seconds
"""

import ipaddress

from django.conf import settings

from tenants.limits import buckets

__all__ = ["PER_ADDRESS", "PER_CLIENT", "take", "client_of"]

PER_ADDRESS = "resetRequestsPerAddress"
PER_CLIENT = "resetRequestsPerClient"


def take(address: str, client: str | None = None) -> int:
    """One reset request from ``client``'s budget (when given), then from ``address``'s: 0 when both had it,
    else the seconds until one will be there (a client refused takes nothing from the address)."""
    if client:
        wait = buckets.take(PER_CLIENT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT, client)
        if wait:
            return wait
    normal = str(address).strip().lower()
    return buckets.take(PER_ADDRESS, settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, buckets.digest(normal))


def client_of(request) -> str:
    """The client a request counts against: its address, an IPv6 one as its /64 network."""
    raw = str(request.META.get("REMOTE_ADDR") or "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
