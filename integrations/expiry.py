"""Credential expiry warnings (our addition; README "Beyond ThingsBoard").

Every saved integration's configuration is read for credentials that carry an expiry date
(:func:`scan`, called by Integration.save): PEM certificates anywhere in it (the MQTT family's
``caCert``/``cert``, AWS IoT, Azure IoT Hub X.509; their ``notAfter``, read with
``cryptography``), the certificates of PKCS12 keystores (OPC-UA's ``keystore``, base64, opened
with its ``password``) and Azure SAS tokens (``SharedAccessSignature sr=...&se=<expiry>``, in a
connection string or on their own). The result is stored on the integration
(``credential_expiry``: path, kind, subject, expiresTs, and the warning already given).

A credential warns 30 and 7 days before it expires, and once it has expired: :func:`warn` records
one LC_EVENT (``event`` CREDENTIALS_EXPIRING or CREDENTIALS_EXPIRED, status Failure, ``error``
saying which credential and when) per credential and level it newly reached. It runs after each
save (the API and the admin page) and every few hours (:func:`check_all`, a periodic job that
also reads configurations saved before this existed), so a warning is given once per level.
The API answer carries :func:`report` as ``credentialExpiry`` beside ThingsBoard's JSON; the
integration page shows it as a banner.
"""

import base64
import datetime
import re
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from integrations import events
from tbproject.clock import now_ms

__all__ = ["scan", "rescan", "level", "report", "warn", "check_all", "EXPIRED", "WEEK", "MONTH"]

DAY_MS = 24 * 3600 * 1000
#: warning levels, mildest first
MONTH, WEEK, EXPIRED = "30days", "7days", "expired"
_ORDER = (None, MONTH, WEEK, EXPIRED)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s\\n]+?-----END CERTIFICATE-----")
_SAS = re.compile(r"SharedAccessSignature\s+([^;\"'\s]+)")
KIND_LABEL = {"certificate": "TLS certificate", "sasToken": "SAS token"}


def scan(configuration) -> list[dict]:
    """Credentials with an expiry in ``configuration``, soonest first: {path, kind, subject, expiresTs}."""
    found: list[dict] = []
    _walk(configuration, "", found)
    return sorted(found, key=lambda c: (c["expiresTs"], c["path"]))


def rescan(configuration, stored) -> list[dict]:
    """:func:`scan`, keeping the warning already given for a credential that is still there."""
    given = {(c["path"], c["kind"], c["expiresTs"]): c.get("warned") for c in stored or [] if isinstance(c, dict)}
    found = scan(configuration)
    for credential in found:
        warned = given.get((credential["path"], credential["kind"], credential["expiresTs"]))
        if warned:
            credential["warned"] = warned
    return found


def _walk(value, path: str, found: list) -> None:
    if isinstance(value, dict):
        if value.get("type") == "PKCS12" and isinstance(value.get("fileContent"), str) and value["fileContent"]:
            found.extend(_keystore(value, f"{path}.fileContent" if path else "fileContent"))
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", found)
    elif isinstance(value, str) and len(value) < 1_000_000:
        if "-----BEGIN CERTIFICATE-----" in value:
            found.extend(_certificates(value, path))
        if "SharedAccessSignature" in value:
            found.extend(_sas_tokens(value, path))


def _certificates(text: str, path: str) -> list[dict]:
    out = []
    for block in _PEM.findall(text.replace("\\n", "\n")):
        try:
            cert = x509.load_pem_x509_certificate(block.encode("ascii"))
        except ValueError:  # not a readable certificate: the type's own check reports it
            continue
        out.append(_entry(path, cert))
    return out


def _keystore(keystore: dict, path: str) -> list[dict]:
    """The certificates of a PKCS12 keystore, base64 (OPC-UA's ``keystore``), opened with its password."""
    try:
        data = base64.b64decode(keystore["fileContent"], validate=False)
        _, cert, extra = pkcs12.load_key_and_certificates(data, str(keystore.get("password") or "").encode() or None)
    except (ValueError, TypeError):  # unreadable or the password does not fit: the type's own check says so
        return []
    return [_entry(path, c) for c in [cert, *extra] if c is not None]


def _entry(path: str, cert) -> dict:
    return {"path": path, "kind": "certificate", "subject": cert.subject.rfc4514_string()[:200],
            "expiresTs": int(cert.not_valid_after_utc.timestamp() * 1000)}


def _sas_tokens(text: str, path: str) -> list[dict]:
    out = []
    for token in _SAS.findall(text):
        fields = urllib.parse.parse_qs(token)
        try:
            expires = int(fields["se"][0])
        except (KeyError, ValueError):
            continue
        out.append({"path": path, "kind": "sasToken", "subject": fields.get("sr", [""])[0][:200],
                    "expiresTs": expires * 1000})
    return out


def level(expires_ts: int, now: int) -> str | None:
    """EXPIRED, WEEK (within 7 days), MONTH (within 30 days) or None."""
    left = expires_ts - now
    if left <= 0:
        return EXPIRED
    return WEEK if left <= 7 * DAY_MS else MONTH if left <= 30 * DAY_MS else None


def describe(credential: dict, now: int) -> str:
    what = f"{KIND_LABEL.get(credential['kind'], credential['kind'])} in configuration.{credential['path']}"
    if credential.get("subject"):
        what += f" ({credential['subject']})"
    when = datetime.datetime.fromtimestamp(credential["expiresTs"] / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = credential["expiresTs"] - now
    if left <= 0:
        return f"{what} expired on {when}"
    days = -(-left // DAY_MS)  # whole days, rounded up: "in 1 day" until it has expired
    return f"{what} expires in {days} day{'s' if days != 1 else ''}, on {when}"


def report(integration, now: int | None = None) -> list[dict]:
    """The stored credentials as the API and the page show them: plus ``level`` and ``message``."""
    now = now_ms() if now is None else now
    return [{"path": c["path"], "kind": c["kind"], "subject": c.get("subject", ""), "expiresTs": c["expiresTs"],
             "level": level(c["expiresTs"], now), "message": describe(c, now)}
            for c in integration.credential_expiry or []]


def warn(integration, now: int | None = None) -> int:
    """Record an LC_EVENT for each credential that reached a level it was not yet warned about;
    returns how many. One UPDATE of the remembered levels (not a save: no version bump)."""
    now = now_ms() if now is None else now
    stored = list(integration.credential_expiry or [])
    emitted = 0
    for credential in stored:
        reached = level(credential["expiresTs"], now)
        if _ORDER.index(reached) <= _ORDER.index(credential.get("warned")):
            continue
        event = "CREDENTIALS_EXPIRED" if reached == EXPIRED else "CREDENTIALS_EXPIRING"
        events.lifecycle(integration, event, error=describe(credential, now), now=now)
        credential["warned"] = reached
        emitted += 1
    if emitted:
        type(integration).objects.filter(pk=integration.pk).update(credential_expiry=stored)
        integration.credential_expiry = stored
    return emitted


def check_all(now: int | None = None) -> int:
    """Periodic: read every configuration again (integrations saved before this existed, or
    changed without a save), then :func:`warn` those with a credential due; returns the warnings."""
    from integrations.models import Integration

    now = now_ms() if now is None else now
    total = 0
    rows = Integration.objects.only("id", "tenant_id", "configuration", "credential_expiry")
    for integration in rows.iterator(chunk_size=200):
        found = rescan(integration.configuration, integration.credential_expiry)
        if found != (integration.credential_expiry or []):
            Integration.objects.filter(pk=integration.pk).update(credential_expiry=found)
            integration.credential_expiry = found
        if any(level(c["expiresTs"], now) for c in found):
            total += warn(integration, now)
    return total
