"""Devices that register themselves (ThingsBoard's device provisioning,
thingsboard.io/docs/user-guide/device-provisioning/), the rules of its DeviceProvisionService.

    answer = provision(request)    # request: ProvisionRequest (what POST /api/v1/provision carried)

The profile is found by its ``provisionDeviceKey`` alone (unique on the server,
:class:`~devices.models.DeviceProfile`), and its profile JSON decides:

- ``provisionType`` ALLOW_CREATE_NEW_DEVICES: a device of that name must not exist in the profile's
  tenant yet; it is made (a random 20-character name when none was sent) with the credentials the
  request brings, or a new access token; FAILURE, as ThingsBoard's createDevice, when that fails (a name
  over 255 characters, credentials refused or taken, the tenant profile's ``maxDevices`` reached:
  devices/device_quota.py);
- CHECK_PRE_PROVISIONED_DEVICES: the device must exist with that profile and not be provisioned
  yet; its credentials are answered as they are;
- DISABLED (or any other), no such key, or a secret other than
  ``profileData.provisionConfiguration.provisionDeviceSecret``: NOT_FOUND.

A provisioned device gets the SERVER_SCOPE attribute ``provisionState`` = ``"provisioned"`` and is
never provisioned again. Answers are ThingsBoard's JSON: ``{"credentialsValue", "credentialsType",
"status": "SUCCESS"}``, or ``{"errorMsg": "Provision data was not found!", "status": "NOT_FOUND"}``
/ ``{"errorMsg": "Failed to provision device!", "status": "FAILURE"}``.

As ThingsBoard's, an outcome about a device (made, provisioned, or refused because it exists or
was provisioned already) goes to the rule engine as a PROVISION_SUCCESS / PROVISION_FAILURE
message from that device, through :data:`devices.services.device_posted` (integrations/device_posts.py
subscribes), with ThingsBoard's metadata ``tenantId``. Not done: ThingsBoard's ENTITY_CREATED message
and its PROVISION_SUCCESS / PROVISION_FAILURE audit entries (no device creation without a user is
audited here).
"""

import hmac
import json
import secrets
import string
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, transaction

from devices import credentials, services
from devices.attributes import attribute_values, save_attributes
from devices.choices import AttributeScope, CredentialsType
from devices.device_quota import DevicesLimitReached
from devices.models import Device, DeviceCredentials, DeviceProfile

__all__ = ["ProvisionRequest", "provision", "NOT_FOUND", "FAILURE", "PROVISION_STATE", "PROVISIONED",
           "PROVISION_SUCCESS_MSG", "PROVISION_FAILURE_MSG"]

NOT_FOUND = {"errorMsg": "Provision data was not found!", "status": "NOT_FOUND"}
FAILURE = {"errorMsg": "Failed to provision device!", "status": "FAILURE"}
PROVISION_STATE, PROVISIONED = "provisionState", "provisioned"
#: ThingsBoard's rule-engine message types (TbMsgType) for a provisioning's outcome
PROVISION_SUCCESS_MSG, PROVISION_FAILURE_MSG = "PROVISION_SUCCESS", "PROVISION_FAILURE"
_NAME_ALPHABET = string.ascii_letters + string.digits
_NAME_MAX = 255  # the column's bound, ThingsBoard's too


@dataclass
class ProvisionRequest:
    """ThingsBoard's ProvisionDeviceRequestMsg: every field a string, "" when absent."""

    key: str
    secret: str
    device_name: str = ""
    credentials_type: str = CredentialsType.ACCESS_TOKEN
    data: dict = field(default_factory=dict)  # token, hash, username, password, clientId


def provision(request: ProvisionRequest) -> dict:
    """The answer to ``request`` (see the module doc); never raises for what a device sends."""
    name = request.device_name.strip() if request.device_name else ""
    if request.device_name and not name:
        return FAILURE
    if not request.key or not request.secret:
        return NOT_FOUND
    profile = DeviceProfile.objects.filter(provision_device_key=request.key).first()
    config = ((profile.additional_info.get("profileData") or {}).get("provisionConfiguration") or {}) if profile else {}
    expected = config.get("provisionDeviceSecret") if isinstance(config, dict) else None
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), request.secret.encode()):
        return NOT_FOUND
    kind = profile.additional_info.get("provisionType")
    existing = Device.objects.filter(tenant_id=profile.tenant_id, name=name).first() if name else None
    if kind == "ALLOW_CREATE_NEW_DEVICES":
        if existing is not None:
            return _notify(existing, request, FAILURE)
        return _create(profile, name, request)
    if kind == "CHECK_PRE_PROVISIONED_DEVICES":
        if existing is None or existing.profile_id != profile.pk:
            return FAILURE
        return _provision_existing(existing, request)
    return NOT_FOUND


def _create(profile: DeviceProfile, name: str, request: ProvisionRequest) -> dict:
    name = name or "".join(secrets.choice(_NAME_ALPHABET) for _ in range(20))
    if len(name) > _NAME_MAX:  # ThingsBoard's validator refuses it, and its createDevice answers FAILURE
        return FAILURE
    try:
        with transaction.atomic():
            device = Device.objects.create(tenant_id=profile.tenant_id, name=name, profile=profile)
            row = _requested_credentials(device, request)  # the signal issued an access token already
            save_attributes(device.pk, AttributeScope.SERVER_SCOPE, {PROVISION_STATE: PROVISIONED},
                            tenant_id=device.tenant_id)
    except (IntegrityError, DataError, credentials.CredentialsError, DevicesLimitReached):
        # a device of that name made meanwhile, a value no column holds, credentials refused or taken, or the
        # tenant profile's maxDevices reached: nothing is kept, and ThingsBoard's createDevice answers FAILURE
        existing = Device.objects.filter(tenant_id=profile.tenant_id, name=name).first()
        return FAILURE if existing is None else _notify(existing, request, FAILURE)
    return _notify(device, request, _success(row or DeviceCredentials.objects.get(device=device)))


def _provision_existing(device: Device, request: ProvisionRequest) -> dict:
    with transaction.atomic():
        Device.objects.select_for_update().filter(pk=device.pk).first()  # one of two racing requests wins
        state = attribute_values([device.pk], AttributeScope.SERVER_SCOPE, [PROVISION_STATE])
        if (device.pk, PROVISION_STATE) in state:
            # provisioned already (or in a state ThingsBoard does not know)
            return _notify(device, request, FAILURE)
        save_attributes(device.pk, AttributeScope.SERVER_SCOPE, {PROVISION_STATE: PROVISIONED},
                        tenant_id=device.tenant_id)
    row = DeviceCredentials.objects.filter(device=device).first()
    return FAILURE if row is None else _notify(device, request, _success(row))


def _notify(device: Device, request: ProvisionRequest, answer: dict) -> dict:
    """Tell the rule engine (:data:`devices.services.device_posted`) what became of ``device``'s
    provisioning, as ThingsBoard's PROVISION_SUCCESS / PROVISION_FAILURE message, and return ``answer``.
    The data is ThingsBoard's ProvisionRequest without the provision secret and the password."""
    data = request.data
    message = {"deviceName": device.name, "credentialsType": request.credentials_type,
               "credentials": {"provisionDeviceKey": request.key},
               "credentialsData": {"token": data.get("token") or None, "clientId": data.get("clientId") or None,
                                   "username": data.get("username") or None,
                                   "x509CertHash": data.get("hash") or None}}
    msg_type = PROVISION_SUCCESS_MSG if answer.get("status") == "SUCCESS" else PROVISION_FAILURE_MSG
    services.on_device_posted(device, msg_type, message)
    return answer


def _requested_credentials(device: Device, request: ProvisionRequest) -> DeviceCredentials | None:
    """Store the credentials the request brings (ThingsBoard applies them when any of token, hash,
    username, password or clientId is non-empty); None when it brings none."""
    data = request.data
    if not any(data.get(k) for k in ("token", "hash", "username", "password", "clientId")):
        return None
    kind = request.credentials_type
    if kind == CredentialsType.ACCESS_TOKEN:
        return credentials.update(device, kind, data.get("token"), None)
    if kind == CredentialsType.MQTT_BASIC:
        value = {"clientId": data.get("clientId") or None, "userName": data.get("username") or None,
                 "password": data.get("password") or None}
        return credentials.update(device, kind, None, json.dumps(value))
    if kind == CredentialsType.X509_CERTIFICATE:
        return credentials.update(device, kind, None, data.get("hash"))
    return None  # LwM2M credentials cannot be provisioned this way: the access token stays


def _success(row: DeviceCredentials) -> dict:
    answer = {"credentialsType": row.credentials_type}
    if row.credentials_type == CredentialsType.ACCESS_TOKEN:
        answer["credentialsValue"] = row.credentials_id
    elif row.credentials_type == CredentialsType.MQTT_BASIC:
        answer["credentialsValue"] = json.loads(row.credentials_value or "{}")
    elif row.credentials_type == CredentialsType.X509_CERTIFICATE:
        answer["credentialsValue"] = row.credentials_value
    answer["status"] = "SUCCESS"
    return answer
