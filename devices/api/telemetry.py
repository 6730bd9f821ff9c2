"""ThingsBoard's /api/plugins/telemetry tree: what the read and write views share.

Paths name an entity as ``{entityType}/{entityId}``; this module resolves that pair to a row the
caller may see (another tenant's or another customer's entity is a 404, like an unknown one),
parses key lists and attribute scopes, and renders values as ThingsBoard does. The views are in
telemetry_reads.py and telemetry_writes.py, the routes in telemetry_urls.py.
"""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.views import APIView

from devices.choices import AttributeScope
from devices.entity_views import target_is_own
from devices.models import Asset, Device, EntityView
from devices.values import as_text
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantUser
from tenants.models import Customer

__all__ = ["ENTITY_MODELS", "TelemetryView", "keys_param", "attribute_scope", "render_value", "MAX_KEY_LENGTH",
           "entity_ref", "visible", "not_found"]

#: entityType path values we keep data for, and where their rows live
ENTITY_MODELS = {"DEVICE": Device, "ASSET": Asset, "CUSTOMER": Customer, "ENTITY_VIEW": EntityView}
_KINDS = {"DEVICE": "Device", "ASSET": "Asset", "CUSTOMER": "Customer", "ENTITY_VIEW": "Entity view"}
#: same bound as the key columns (TelemetryKey.key, Attribute.key)
MAX_KEY_LENGTH = 255


class TelemetryView(APIView):
    """Base of every telemetry/attribute view: tenant admins and customer users, on visible entities.

    Customer users may read and write the data of their own customer's entities, as ThingsBoard's
    "TENANT_ADMIN or CUSTOMER_USER" endpoints allow; anything else is not found.
    """

    permission_classes = [IsTenantUser]

    def entity(self, entity_type: str, entity_id: str):
        """The visible row for a path's entity; 400 for an unsupported type or bad id, 404 if unseen."""
        entity_type, model, pk = entity_ref(entity_type, entity_id)
        obj = visible(model, self.request.user).filter(pk=pk).first()
        if obj is None or (model is EntityView and not target_is_own(obj)):
            raise not_found(entity_type, pk)
        obj.entity_type = entity_type
        return obj

    def device(self, device_id: str):
        return self.entity("DEVICE", device_id)


def entity_ref(entity_type: str, entity_id: str):
    """(ENTITY_TYPE, model, uuid) of a path's entity; 400 for an unsupported type or a bad id."""
    entity_type = entity_type.upper()
    model = ENTITY_MODELS.get(entity_type)
    if model is None:
        raise ValidationError(f"Unsupported entity type: {entity_type:.32}. Supported: {', '.join(ENTITY_MODELS)}")
    return entity_type, model, parse_uuid(entity_id)


def visible(model, user):
    """The rows of ``model`` that ``user`` may see (another tenant's or customer's are not there)."""
    rows = model.objects.for_user(user)
    if model in (Device, Asset):  # the type (profile name) is read when the entity's data changes
        rows = rows.select_related("profile")
    return rows


def not_found(entity_type: str, pk) -> NotFound:
    return NotFound(f"{_KINDS[entity_type]} with id [{pk}] is not found")


def keys_param(params, *, required: bool = False) -> list[str] | None:
    """Keys from ``?keys=a,b`` and/or repeated ``?key=`` (for keys holding commas); None when absent."""
    keys = [part.strip() for raw in params.getlist("keys") for part in raw.split(",")]
    keys += [raw.strip() for raw in params.getlist("key")]
    keys = list(dict.fromkeys(k for k in keys if k))
    if not keys:
        if required:
            raise ValidationError("Required request parameter 'keys' is not present")
        return None
    return keys


def attribute_scope(scope: str) -> str:
    """A valid attribute scope name, or a 400 naming the valid ones."""
    if scope not in AttributeScope.values:
        raise ValidationError(f"Invalid attribute scope: {scope:.32}. Supported: {', '.join(AttributeScope.values)}")
    return scope


def render_value(value, strict: bool):
    """ThingsBoard sends time-series values as strings unless useStrictDataTypes=true."""
    return value if strict else as_text(value)
