"""White labeling documents per level: read as saved (for editing), merged top-down (what a user sees),
saved, deleted; the login page's params found by the request's host name.

    current(owner, kind)        the level's own params, every field (null where unset): getCurrent...
    merged(owner, kind)         system -> tenant -> customer (levels not allowed white labeling skipped)
    save(owner, kind, data, request_host)   checked (branding/params.py) and stored; the saved params
    for_host(host)              LoginWhiteLabelingParams of the level whose domainName is ``host``, merged
    platform_hosts()            the platform's own hosts: no tenant or customer login page may claim one
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework.exceptions import NotFound, ValidationError

from branding import domains, params
from branding.choices import WhiteLabelingKind as Kind
from branding.levels import SYSTEM, Owner, parents, white_labeling_allowed
from branding.models import WhiteLabeling
from tbproject.text import check_json

__all__ = ["stored", "current", "merged", "save", "delete", "for_host", "preview", "mail_templates",
           "save_mail_templates", "owner_of_row", "platform_hosts", "login_domain"]


def stored(owner: Owner, kind: str) -> dict | None:
    row = WhiteLabeling.objects.filter(kind=kind, **owner.filter()).only("settings").first()
    return row.settings if row is not None and isinstance(row.settings, dict) else None


def current(owner: Owner, kind: str) -> dict:
    return params.full(stored(owner, kind), login=kind == Kind.LOGIN)


def _chain(owner: Owner, kind: str, top: dict | None = None) -> dict:
    """The merge of the levels above ``owner`` and (``top`` or) its own params."""
    out: dict = {}
    for level in [*parents(owner), owner]:
        if level.level != "SYSTEM" and not white_labeling_allowed(level):
            continue
        settings = top if level == owner and top is not None else stored(level, kind)
        if isinstance(settings, dict):
            out = params.merge(out, settings)
    return out


def merged(owner: Owner, kind: str) -> dict:
    return params.full(_chain(owner, kind), login=kind == Kind.LOGIN)


def preview(owner: Owner, data) -> dict:
    """The params ``data`` would give once saved at ``owner``'s level, merged with its parents; nothing saved."""
    return params.full(_chain(owner, Kind.GENERAL, params.clean(data)))


def _bare(host: str) -> str:
    host = (host or "").strip().lower()
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def platform_hosts(request_host: str = "") -> set[str]:
    """The host names the platform itself answers on (no port): PUBLIC_BASE_URL's, the system login page's
    baseUrl, the explicit ALLOWED_HOSTS (``.example.com``: example.com itself), localhost and ``request_host``.
    No tenant or customer may claim one of them for its login page."""
    urls = [getattr(settings, "PUBLIC_BASE_URL", ""), (stored(SYSTEM, Kind.LOGIN) or {}).get("baseUrl") or ""]
    hosts = {urlsplit(url).hostname or "" for url in urls if isinstance(url, str) and url}
    hosts |= {h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"}
    hosts |= {"localhost", "127.0.0.1", _bare(request_host)}
    return {h.lower() for h in hosts} - {""}


def login_domain(owner: Owner, settings_: dict, request_host: str) -> str:
    """The login page's host name: ``domainName``, or the name of the OAuth domain ``domainId`` names (they
    must agree when both are sent); a 400 for the platform's own hosts, a 404 for an unknown domain."""
    domain = settings_.get("domainName") or ""
    domain_id = (settings_.get("domainId") or {}).get("id")
    if domain_id and domains.has_resolver():
        name = domains.domain_name(uuid.UUID(domain_id))
        if name is None:
            raise NotFound(f"Domain with id [{domain_id}] is not found")
        name = name.strip().lower()
        if domain and _bare(domain) != _bare(name):
            raise ValidationError(f"'domainName' {domain} is not the name of the domain 'domainId' names ({name})")
        domain = domain or name
    if domain and owner.level == "SYSTEM":
        raise ValidationError("The system's login page needs no domain name")
    if domain and _bare(domain) in platform_hosts(request_host):
        raise ValidationError(f"Domain name '{domain}' is the platform's own host: only the system's login page "
                              "is served there")
    return domain


def save(owner: Owner, kind: str, data, request_host: str = "") -> dict:
    login = kind == Kind.LOGIN
    settings_ = params.clean(data, login=login)
    domain = login_domain(owner, settings_, request_host) if login else ""
    for attempt in (1, 2):  # a concurrent first save of the level inserts beside ours: once more, as an update
        try:
            with transaction.atomic():
                WhiteLabeling.objects.update_or_create(kind=kind, **owner.filter(),
                                                       defaults={"settings": settings_, "domain_name": domain})
            break
        except IntegrityError:
            taken = domain and WhiteLabeling.objects.filter(kind=Kind.LOGIN, domain_name=domain).exclude(
                **owner.filter()).exists()
            if taken:
                raise ValidationError(f"Domain name '{domain}' is already used by another login page") from None
            if attempt == 2:
                raise ValidationError("The white labeling params were changed concurrently: try again") from None
    return params.full(settings_, login=login)


def delete(owner: Owner, kind: str) -> None:
    WhiteLabeling.objects.filter(kind=kind, **owner.filter()).delete()


def owner_of_row(row: WhiteLabeling) -> Owner:
    return Owner(row.tenant_id, row.customer_id)


def for_host(host: str) -> dict:
    """The login page's params for ``host`` (with or without its port): the level that claimed the domain,
    merged over its parents; the system's where none did, where the host is the platform's own (a row saved
    before that was refused) or where its owner may not white label any more."""
    host = (host or "").strip().lower()
    names = {host, _bare(host)} - {""}
    row = None
    if names and _bare(host) not in platform_hosts():
        row = WhiteLabeling.objects.filter(kind=Kind.LOGIN, domain_name__in=names).exclude(domain_name="").first()
    owner = owner_of_row(row) if row is not None else SYSTEM
    if not white_labeling_allowed(owner):
        owner = SYSTEM
    return merged(owner, Kind.LOGIN)


def mail_templates(owner: Owner, system_by_default: bool) -> dict:
    """The level's mail templates; with ``system_by_default`` the system's when the level has none."""
    found = stored(owner, Kind.MAIL_TEMPLATES)
    if found is None and system_by_default and owner != SYSTEM:
        found = stored(SYSTEM, Kind.MAIL_TEMPLATES)
    return found or {}


def save_mail_templates(owner: Owner, data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    for name, template in data.items():
        if isinstance(template, dict) and not all(isinstance(template.get(k, ""), str) for k in ("subject", "body")):
            raise ValidationError(f"Mail template '{name}': 'subject' and 'body' must be strings")
    try:
        check_json(data)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    WhiteLabeling.objects.update_or_create(kind=Kind.MAIL_TEMPLATES, **owner.filter(), defaults={"settings": data})
    return data
