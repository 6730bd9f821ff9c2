"""Data a device posted itself (ThingsBoard's device HTTP API, devices/api/device_http.py) into the
rule engine, through the same hand-off as integration uplinks (integrations/handoff.py).

The data is stored when :data:`devices.services.device_posted` is sent, so the messages go as
``stored`` ones. Their shape is ThingsBoard's device transport's: one POST_TELEMETRY_REQUEST per
timestamp with the flat ``{key: value}`` as data and the ``ts`` in metadata, one
POST_ATTRIBUTES_REQUEST with the client attributes; metadata ``deviceName`` and ``deviceType``
(and ``notifyDevice`` "false" for attributes: the device sent them). A provisioning's outcome
(devices/device_provision.py) goes as ThingsBoard's PROVISION_SUCCESS / PROVISION_FAILURE with the
request as data and metadata ``tenantId``.
"""

from django.dispatch import receiver

from devices.device_provision import PROVISION_FAILURE_MSG, PROVISION_SUCCESS_MSG
from devices.models import Device
from devices.services import device_posted
from integrations import handoff

__all__ = ["rule_engine_messages"]


def rule_engine_messages(device, msg_type: str, data) -> list[handoff.RuleEngineMsg]:
    base = {"deviceName": device.name, "deviceType": device.type}
    if msg_type == handoff.POST_TELEMETRY_REQUEST:
        return [handoff.RuleEngineMsg(msg_type, device.tenant_id, "DEVICE", device.pk, dict(values),
                                      {**base, "ts": str(ts)})
                for ts, values in data if values]
    if msg_type == handoff.POST_ATTRIBUTES_REQUEST and data:
        return [handoff.RuleEngineMsg(msg_type, device.tenant_id, "DEVICE", device.pk, dict(data),
                                      {**base, "notifyDevice": "false"})]
    if msg_type in (PROVISION_SUCCESS_MSG, PROVISION_FAILURE_MSG):  # devices/device_provision.py
        return [handoff.RuleEngineMsg(msg_type, device.tenant_id, "DEVICE", device.pk, dict(data),
                                      {"tenantId": str(device.tenant_id)})]
    return []


@receiver(device_posted, sender=Device, dispatch_uid="integrations.device_posts")
def hand_off(sender, device, msg_type: str, data, **kwargs) -> None:
    handoff.dispatch(rule_engine_messages(device, msg_type, data))
