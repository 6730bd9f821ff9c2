"""Device credentials, made, checked and stored by ThingsBoard's rules.

Every device has one :class:`~devices.models.DeviceCredentials` row. :func:`issue_access_tokens`
is the one place that makes it: a random 20-character access token, as ThingsBoard gives a device
saved without credentials. It takes many devices and inserts them at once, so auto-provisioning
pays one INSERT per batch (devices/provisioning.py); a device saved one at a time (the REST API,
the admin, commands, tests) gets its row from devices/signals.py; devices that existed before
credentials did got theirs from migration 0006.

:func:`normalize` checks and formats what a client sends, as ThingsBoard's device credentials
service and its validator do (messages kept close to theirs): an access token as given, an X.509
certificate trimmed to its Base64 text and identified by its SHA3-256 hash, MQTT basic
credentials re-serialised and identified by the user name or a hash of client id and user name,
LwM2M credentials by endpoint, PSK identity or certificate hash. :func:`update` stores them. A
``credentials_id`` is unique across the whole server (the transports look devices up by it), and
a clash says only that it is taken, never whose it is.
"""

import hashlib
import json
import re
import secrets
import string

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from devices import device_quota
from devices.choices import CredentialsType
from devices.models import DeviceCredentials
from tbproject.api.ids import entity_id
from tbproject.text import check_json

__all__ = ["CredentialsError", "credentials_updated", "new_token", "issue_access_tokens", "normalize", "update",
           "as_json", "ASSIGNED", "TOKEN_LENGTH"]

TOKEN_LENGTH = 20  # ThingsBoard's StringUtils.randomAlphanumeric(20)
MAX_TOKEN_LENGTH = 32
MAX_ID_LENGTH = 255  # the column's bound
_ALPHABET = string.ascii_letters + string.digits
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_HEX = re.compile(r"-?[0-9a-fA-F]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
BEGIN, END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
ASSIGNED = "Device credentials are already assigned to another device!"
LWM2M_INVALID = "Invalid credentials body for LwM2M credentials!"
MQTT_INVALID = "Invalid credentials body for simple mqtt credentials!"

#: Sent after a user changed a device's credentials (sender DeviceCredentials; ``user``,
#: ``device``, ``credentials``: the saved row). The audit log records ThingsBoard's
#: CREDENTIALS_UPDATED from it.
credentials_updated = Signal()


class CredentialsError(ValueError):
    """Credentials a client sent that ThingsBoard would refuse; the text is its message."""


def new_token() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(TOKEN_LENGTH))


def issue_access_tokens(devices) -> list[DeviceCredentials]:
    """Give each of ``devices`` (new, saved rows) a random access token, in one INSERT. Every way of making
    a device comes here, so the tenant profile's ``maxDevices`` is enforced here too (devices/device_quota.py:
    DevicesLimitReached, the caller's transaction rolls the devices back)."""
    devices = list(devices)
    device_quota.check_new_devices(devices)
    rows = [DeviceCredentials(tenant_id=d.tenant_id, device_id=d.pk, credentials_id=new_token()) for d in devices]
    if rows:
        DeviceCredentials.objects.bulk_create(rows)
    return rows


def as_json(row: DeviceCredentials) -> dict:
    """ThingsBoard's DeviceCredentials JSON."""
    return {"id": {"id": str(row.pk)}, "createdTime": row.created_time, "deviceId": entity_id("DEVICE", row.device_id),
            "credentialsType": row.credentials_type, "credentialsId": row.credentials_id,
            "credentialsValue": row.credentials_value, "version": row.version}


def normalize(kind, credentials_id, value) -> tuple[str, str | None]:
    """(credentialsId, credentialsValue) to store for what a client sent; CredentialsError if refused."""
    if kind is None or kind == "":
        raise CredentialsError("Device credentials type should be specified!")
    if kind not in CredentialsType.values:
        supported = ", ".join(CredentialsType.values)
        raise CredentialsError(f"Invalid credentialsType: {str(kind)[:40]}. Supported: {supported}")
    if kind == CredentialsType.ACCESS_TOKEN:
        found = (_access_token(credentials_id), None)
    elif kind == CredentialsType.X509_CERTIFICATE:
        found = _certificate(value)
    elif kind == CredentialsType.MQTT_BASIC:
        found = _mqtt_basic(value)
    else:
        found = _lwm2m(value)
    _storable(found)
    if len(found[0]) > MAX_ID_LENGTH:
        raise CredentialsError(f"Device credentials id should be at most {MAX_ID_LENGTH} characters!")
    return found


def update(device, kind, credentials_id, value, *, credentials_pk=None, user=None) -> DeviceCredentials:
    """Replace the credentials of ``device`` (a row the caller may write), atomically;
    ``credentials_pk``, when the client named one, must be the device's own. Returns the saved
    row. Raises CredentialsError, or DeviceCredentials.DoesNotExist for a device inserted around
    :func:`issue_access_tokens` (a script's bulk_create)."""
    new_id, new_value = normalize(kind, credentials_id, value)
    with transaction.atomic():
        row = DeviceCredentials.objects.select_for_update().get(device_id=device.pk)  # DoesNotExist: none yet
        if credentials_pk is not None and credentials_pk != row.pk:
            raise CredentialsError("Unable to update non-existent device credentials!")
        if DeviceCredentials.objects.filter(credentials_id=new_id).exclude(pk=row.pk).exists():
            raise CredentialsError(ASSIGNED)
        changed = (row.credentials_type, row.credentials_id, row.credentials_value) != (kind, new_id, new_value)
        row.credentials_type, row.credentials_id, row.credentials_value = kind, new_id, new_value
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # taken by a concurrent save between the check and ours
            raise CredentialsError("Specified credentials are already registered!") from None
        if changed and user is not None:
            credentials_updated.send(DeviceCredentials, user=user, device=device, credentials=row)
    return row


def _storable(value) -> None:
    """Refuse what PostgreSQL cannot store or the transports would never match: a NUL character
    or a lone surrogate in any text, JSON keys included (ThingsBoard's JSON refuses them too)."""
    try:
        check_json(value)
    except ValueError:
        raise CredentialsError("Device credentials must not contain NUL characters or lone surrogates!") from None


def _access_token(token) -> str:
    if token is None or token == "":
        raise CredentialsError("Device credentials id should be specified!")
    if not isinstance(token, str):
        raise CredentialsError("Access token should be a string!")
    _storable(token)
    if any(c.isspace() for c in token):
        raise CredentialsError("Access token should not contain spaces!")
    if len(token) > MAX_TOKEN_LENGTH:
        raise CredentialsError(f"Access token length must be from 1 to {MAX_TOKEN_LENGTH} characters.")
    return token


def _sha3(text: str) -> str:
    return hashlib.sha3_256(text.encode()).hexdigest()


def _trim_certificate(pem: str) -> str:
    """ThingsBoard's certTrimNewLines: the markers and line breaks go, the Base64 text stays."""
    return pem.replace(BEGIN, "").replace("\n", "").replace("\r", "").replace(END, "")


def _certificate(value) -> tuple[str, str]:
    if not isinstance(value, str) or not value.strip():
        raise CredentialsError("X509 certificate should be specified in PEM format!")
    cert = _trim_certificate(value)
    if not cert.strip() or not _BASE64.fullmatch(cert):
        raise CredentialsError("Invalid X509 certificate: expected PEM (Base64 between -----BEGIN CERTIFICATE----- "
                               "and -----END CERTIFICATE-----)!")
    return _sha3(cert), cert


def _json_object(value, message: str) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise CredentialsError(message) from None
    if not isinstance(value, dict):
        raise CredentialsError(message)
    _storable(value)  # escaped in the stored JSON, but its texts become ids the transports look up
    return value


def _text(value, message: str) -> str | None:
    """A JSON scalar as Jackson reads it into a String field (numbers and booleans as text)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise CredentialsError(message)


def _mqtt_basic(value) -> tuple[str, str]:
    data = _json_object(value, MQTT_INVALID)
    client, user, password = (_text(data.get(k), MQTT_INVALID) for k in ("clientId", "userName", "password"))
    if any(v and _CONTROL.search(v) for v in (client, user, password)):  # MQTT 3.1.1 §1.5.3: SHOULD NOT hold them
        raise CredentialsError("MQTT client id, user name and password must not contain control characters!")
    if not client and not user:
        raise CredentialsError("Both mqtt client id and user name are empty!")
    if client and password and not user:
        raise CredentialsError("Password cannot be specified along with client id")
    credentials_id = user if not client else _sha3(client) if not user else _sha3(f"{client}|{user}")
    stored = json.dumps({"clientId": client, "userName": user, "password": password}, separators=(",", ":"))
    return credentials_id, stored


def _lwm2m(value) -> tuple[str, str]:
    data = _json_object(value, LWM2M_INVALID)
    client = data.get("client")
    if not isinstance(client, dict):
        raise CredentialsError("LwM2M client credentials must be specified!")
    endpoint = client.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise CredentialsError("LwM2M client endpoint must be specified!")
    mode = client.get("securityConfigClientMode")
    if mode == "PSK":
        credentials_id = _psk(client)
    elif mode == "RPK":
        if not isinstance(client.get("key"), str) or not client["key"].strip():
            raise CredentialsError("LwM2M client RPK key must be specified!")
        credentials_id = endpoint
    elif mode == "X509":
        cert = client.get("cert")
        credentials_id = _sha3(_trim_certificate(cert)) if isinstance(cert, str) and cert.strip() else endpoint
    elif mode == "NO_SEC":
        credentials_id = endpoint
    else:
        raise CredentialsError(LWM2M_INVALID)
    bootstrap = data.get("bootstrap")
    if not isinstance(bootstrap, dict):
        raise CredentialsError("LwM2M bootstrap credentials must be specified!")
    if not isinstance(bootstrap.get("bootstrapServer"), dict):
        raise CredentialsError("LwM2M bootstrap server credentials must be specified!")
    if not isinstance(bootstrap.get("lwm2mServer"), dict):
        raise CredentialsError("LwM2M lwm2m server credentials must be specified!")
    return credentials_id, json.dumps(data, separators=(",", ":"))


def _psk(client: dict) -> str:
    identity, key = client.get("identity"), client.get("key")
    if not isinstance(identity, str) or not identity.strip():
        raise CredentialsError("LwM2M client PSK identity must be specified and must be an utf8 string!")
    if identity == "NO_SEC":
        raise CredentialsError("The PSK ID of the LwM2M client must not be 'NO_SEC'!")
    if not isinstance(key, str) or not key.strip():
        raise CredentialsError("LwM2M client PSK key must be specified!")
    if not _HEX.fullmatch(key):
        raise CredentialsError("LwM2M client PSK key must be random sequence in hex encoding!")
    if len(key) % 32 != 0 or len(key) > 128:
        raise CredentialsError(f"LwM2M client PSK key length = {len(key)}. Key must be HexDec format: 32, 64, "
                               "128 characters!")
    return identity
