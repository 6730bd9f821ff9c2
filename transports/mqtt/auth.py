"""Who a CONNECT is: ThingsBoard's MQTT credential check (its DeviceCredentialsService.validateBasic).

    identity = authenticate(client_id, username, password)   # Identity, or None: CONNACK refused
    identity = authenticate(client_id, username, password, certificate)   # over TLS: the client's (DER)
    device = current(identity)                                # the device still, or None: disconnect

ThingsBoard CE's order (DefaultTransportApiService.validateCredentials of a ValidateBasicMqttCredRequestMsg),
exactly; devices/credentials.py stores MQTT_BASIC ``{"clientId", "userName", "password"}`` under the id
``sha3(clientId|userName)``, ``userName`` or ``sha3(clientId)``:

1. No user name: only the MQTT_BASIC row ``sha3(clientId)``, which must match (below); nothing else.
2. A user name: the row ``sha3(clientId|userName)`` when it is MQTT_BASIC: a match connects; a stored
   password not given or different refuses outright (PASSWORD_MISMATCH); a stored client id or user name
   that differs (HASH_MISMATCH) goes on to 3. No such row: 3.
3. The row whose id is the user name: an ACCESS_TOKEN connects (client id and password not looked at); an
   MQTT_BASIC must match; anything else refuses. ``sha3(clientId)`` alone is never tried with a user name.

An MQTT_BASIC row matches when its stored client id and user name, where set, are the ones given (else
HASH_MISMATCH), and its stored password, where set, is given and equal (else PASSWORD_MISMATCH).

A client certificate (two-way TLS, tls.py) decides alone, as ThingsBoard's processX509CertConnect: the device
whose X509_CERTIFICATE credentials have the certificate's id (devices/credentials.py's rule: the SHA3-256 hash
of its Base64 text, the one an uploaded PEM gets), user name and password not looked at; none: refused. A
certificate outside its validity dates is refused (logged), as ThingsBoard's checkValidity at CONNECT. A TLS
client without a certificate authenticates as above. X.509 certificate chain provisioning (a device
profile's X509_CERTIFICATE_CHAIN strategy) is not served: an unknown certificate is refused.

:func:`current` is asked before each message a session handles: a device deleted, its credentials changed
or its tenant marked for deletion is gone at once in this process (the signals below) and within
:data:`TTL` seconds in others, as the device HTTP API's tokens are (devices/api/device_http.py).
"""

import datetime
import hashlib
import hmac
import json
import logging
import ssl
from typing import NamedTuple

from cryptography import x509
from django.db.models.signals import post_delete, post_save

from devices import credentials
from devices.choices import CredentialsType
from devices.models import Device, DeviceCredentials
from devices.tenant_assign import device_moved
from tbproject.process_cache import ProcessCache
from tenants.deletion import tenant_marked
from tenants.models import Tenant

__all__ = ["Identity", "authenticate", "current", "certificate_credentials", "peer_certificate", "TTL"]

log = logging.getLogger(__name__)

#: seconds a checked credential is trusted in a process that did not see its change
TTL = 5.0
_MAX = 255  # DeviceCredentials.credentials_id's bound
_CACHE = ProcessCache(max_entries=20_000)


class Identity(NamedTuple):
    """A connected session's credentials: the row's id, kind and stored value, and the device they named."""

    credentials_id: str
    credentials_type: str
    credentials_value: str | None
    device: Device


def _sha3(text: str) -> str:
    return hashlib.sha3_256(text.encode()).hexdigest()


def _row(credentials_id: str, kind: str | None = None) -> DeviceCredentials | None:
    """The credentials row of that id (of that kind when given) of a tenant not being deleted."""
    if not credentials_id or len(credentials_id) > _MAX or "\x00" in credentials_id:
        return None
    rows = DeviceCredentials.objects.filter(credentials_id=credentials_id, device__tenant__deleting_ts__isnull=True)
    if kind is not None:
        rows = rows.filter(credentials_type=kind)
    return rows.select_related("device__profile").first()


def _same(given: str | None, stored: str | None) -> bool:
    return hmac.compare_digest((given or "").encode(), (stored or "").encode())


VALID, HASH_MISMATCH, PASSWORD_MISMATCH = "VALID", "HASH_MISMATCH", "PASSWORD_MISMATCH"


def _basic_check(row: DeviceCredentials, client_id: str, username: str | None, password: str | None) -> str:
    """ThingsBoard's validateMqttCredentials: VALID, HASH_MISMATCH or PASSWORD_MISMATCH."""
    try:
        stored = json.loads(row.credentials_value or "{}")
    except ValueError:
        return HASH_MISMATCH
    if not isinstance(stored, dict):
        return HASH_MISMATCH
    if stored.get("clientId") and not _same(client_id, stored["clientId"]):
        return HASH_MISMATCH
    if stored.get("userName") and not _same(username, stored["userName"]):
        return HASH_MISMATCH
    if stored.get("password") and not (password and _same(password, stored["password"])):
        return PASSWORD_MISMATCH
    return VALID


def _identity(row: DeviceCredentials) -> Identity:
    value = None if row.credentials_type == CredentialsType.ACCESS_TOKEN else row.credentials_value
    return Identity(row.credentials_id, row.credentials_type, value, row.device)


def certificate_credentials(der: bytes) -> tuple[str, str]:
    """(credentialsId, credentialsValue) of a certificate (DER), as its PEM uploaded as X509_CERTIFICATE."""
    return credentials.normalize(CredentialsType.X509_CERTIFICATE, None, ssl.DER_cert_to_PEM_cert(der))


def _outside_validity(der: bytes) -> str | None:
    """Why the certificate cannot be used now (expired, not yet valid, unreadable), or None."""
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return "it is no X.509 certificate"
    now = datetime.datetime.now(datetime.UTC)
    if now > certificate.not_valid_after_utc:
        return f"it expired at {certificate.not_valid_after_utc.isoformat()}"
    if now < certificate.not_valid_before_utc:
        return f"it is not valid before {certificate.not_valid_before_utc.isoformat()}"
    return None


def peer_certificate(writer) -> bytes | None:
    """The certificate (DER) the client of this connection presented over TLS, else None."""
    ssl_object = writer.get_extra_info("ssl_object")
    return (ssl_object.getpeercert(binary_form=True) or None) if ssl_object is not None else None


def authenticate(client_id: str, username: str | None, password: str | None,
                 certificate: bytes | None = None) -> Identity | None:
    """The device these CONNECT credentials (or this client certificate) name, or None (the module's docstring)."""
    if certificate:
        refused = _outside_validity(certificate)
        if refused:
            log.info("device MQTT: client certificate refused (CONNACK 5): %s", refused)
            return None
        row = _row(certificate_credentials(certificate)[0], CredentialsType.X509_CERTIFICATE)
        return _identity(row) if row is not None else None
    client_id = client_id or ""
    if not username:
        row = _row(_sha3(client_id), CredentialsType.MQTT_BASIC)
        return _identity(row) if row is not None and _basic_check(row, client_id, None, password) == VALID else None
    row = _row(_sha3(f"{client_id}|{username}"), CredentialsType.MQTT_BASIC)
    if row is not None:
        result = _basic_check(row, client_id, username, password)
        if result == VALID:
            return _identity(row)
        if result == PASSWORD_MISMATCH:
            return None
    row = _row(username)
    if row is None:
        return None
    if row.credentials_type == CredentialsType.ACCESS_TOKEN:
        return _identity(row)
    if row.credentials_type == CredentialsType.MQTT_BASIC and _basic_check(row, client_id, username, password) == VALID:
        return _identity(row)
    return None


def _load(identity: Identity) -> Device | None:
    row = _row(identity.credentials_id, identity.credentials_type)
    if row is None or row.credentials_value != identity.credentials_value or row.device_id != identity.device.pk:
        return None
    return row.device


def current(identity: Identity) -> Device | None:
    """The session's device as it is now (its tenant unchanged), or None once it may no longer connect."""
    key = (identity.credentials_id, identity.credentials_type, identity.credentials_value)
    device = _CACHE.get(key)
    if device is None:
        since = _CACHE.generation
        device = _load(identity)
        if device is None:
            return None
        _CACHE.put_many([(key, device)], since, TTL)
    return device if device.tenant_id == identity.device.tenant_id else None


def _forget(sender, **kwargs) -> None:
    _CACHE.forget_now_and_on_commit()


post_save.connect(_forget, sender=DeviceCredentials, dispatch_uid="transports.mqtt.auth.credentials_saved")
post_delete.connect(_forget, sender=DeviceCredentials, dispatch_uid="transports.mqtt.auth.credentials_deleted")
tenant_marked.connect(_forget, sender=Tenant, dispatch_uid="transports.mqtt.auth.tenant_marked")
device_moved.connect(_forget, sender=Device, dispatch_uid="transports.mqtt.auth.device_moved")
