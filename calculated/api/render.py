"""ThingsBoard's CalculatedField and CalculatedFieldInfo JSON."""

from calculated.models import CalculatedField
from devices.models import Asset, AssetProfile, Device, DeviceProfile
from tbproject.clock import now_ms

__all__ = ["render", "render_info"]

_MODELS = {"DEVICE": Device, "ASSET": Asset, "DEVICE_PROFILE": DeviceProfile, "ASSET_PROFILE": AssetProfile}


def render(field: CalculatedField) -> dict:
    return {
        "id": {"entityType": "CALCULATED_FIELD", "id": str(field.pk)},
        "createdTime": field.created_time,
        "tenantId": {"entityType": "TENANT", "id": str(field.tenant_id)},
        "entityId": {"entityType": field.entity_type, "id": str(field.entity_id)},
        "type": field.kind,
        "name": field.name,
        "debugSettings": {"failuresEnabled": field.debug_failures_enabled, "allEnabled": False,
                          "allEnabledUntil": field.debug_all_enabled_until},
        "debugMode": field.debug_all_enabled_until > now_ms(),
        "configurationVersion": field.configuration_version,
        "configuration": field.configuration,
        "version": field.version,
        "additionalInfo": field.additional_info or None,
    }


def render_info(fields) -> list[dict]:
    """CalculatedFieldInfo: the field plus its entity's name (one query per entity type)."""
    names: dict = {}
    for entity_type, model in _MODELS.items():
        ids = [f.entity_id for f in fields if f.entity_type == entity_type]
        if ids:
            names.update(model.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [{**render(f), "entityName": names.get(f.entity_id)} for f in fields]
