"""What the audit log keeps of an entity: its API JSON (secrets already masked by the API's
serializers) and, apart, the raw secrets, only compared, never stored, so that a changed secret
shows in the diff as ``******`` -> ``******``."""

from ai.configs import secret_keys
from ai.models import AiModel
from ai.providers import PROVIDERS, get_provider
from ai.rendering import model_json
from audit.diff import join, json_diff
from converters.api.serializers import ConverterSerializer
from converters.models import Converter
from dashboards.api.serializers import DashboardSerializer
from dashboards.models import Dashboard
from devices.api.entity_views import EntityViewSerializer
from devices.api.groups import EntityGroupSerializer
from devices.api.profiles import AssetProfileSerializer, DeviceProfileSerializer
from devices.api.serializers import AssetSerializer, DeviceSerializer
from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityGroup, EntityView
from integrations.api.serializers import IntegrationSerializer
from integrations.models import Integration
from integrations.types import TYPES
from integrations.types.base import MASK, _get, split_path
from rulechains.api.serializers import RuleChainSerializer
from rulechains.metadata import export_metadata
from rulechains.models import RuleChain
from rulechains.nodes import NODES
from tenants.api.customers import CustomerSerializer
from tenants.api.serializers import UserSerializer
from tenants.models import Customer, User

__all__ = ["AUDITED", "Snapshot", "snapshot", "metadata_snapshot", "changes"]

class AiModelJson:
    """ThingsBoard's AiModel JSON (credentials masked) in a serializer's shape."""

    def __init__(self, obj):
        self.data = model_json(obj)


#: model -> (ThingsBoard entity type, serializer)
#: (ThingsBoard audits these entity types' changes made by users; those the uplink pipeline
#: provisions have no user acting and are not audited, see audit/context.py)
AUDITED = {Converter: ("CONVERTER", ConverterSerializer), Integration: ("INTEGRATION", IntegrationSerializer),
           RuleChain: ("RULE_CHAIN", RuleChainSerializer), Device: ("DEVICE", DeviceSerializer),
           Asset: ("ASSET", AssetSerializer), Customer: ("CUSTOMER", CustomerSerializer),
           EntityGroup: ("ENTITY_GROUP", EntityGroupSerializer),
           DeviceProfile: ("DEVICE_PROFILE", DeviceProfileSerializer),
           AssetProfile: ("ASSET_PROFILE", AssetProfileSerializer), User: ("USER", UserSerializer),
           EntityView: ("ENTITY_VIEW", EntityViewSerializer), Dashboard: ("DASHBOARD", DashboardSerializer),
           AiModel: ("AI_MODEL", AiModelJson)}
#: changed on every save, or by the system: not a user's change
VOLATILE = frozenset({"version", "createdTime", "externalId"})


class Snapshot:
    def __init__(self, entity: dict, secrets: dict):
        self.entity, self.secrets = entity, secrets


def snapshot(obj) -> Snapshot:
    _, serializer = AUDITED[type(obj)]
    entity = dict(serializer(obj).data)
    if isinstance(obj, Integration):  # ours, set by POST /api/integration/{id}/converterVersion
        entity["pinnedConverterVersion"] = obj.pinned_converter_version
        return Snapshot(entity, _integration_secrets(obj))
    if isinstance(obj, DeviceProfile):  # its API JSON shows the provision secret to the tenant admin: not here
        return Snapshot(entity, _provision_secret(entity))
    if isinstance(obj, AiModel):
        return Snapshot(entity, _ai_model_secrets(obj))
    return Snapshot(entity, {})


def metadata_snapshot(chain: RuleChain) -> Snapshot:
    metadata = export_metadata(chain)
    secrets = {}
    for i, node in enumerate(chain.nodes.order_by("index", "pk")):
        paths = NODES.load(node.type).secret_fields if node.type in NODES else ()
        for path in paths:
            secrets[f"nodes.{i}.configuration.{path}"] = _get(node.configuration or {}, path)
    for node in metadata["nodes"]:  # node ids change when a chain is replaced whole: compare what the user sees
        node.pop("id", None)
        node.pop("ruleChainId", None)
    return Snapshot(metadata, secrets)


def _integration_secrets(obj: Integration) -> dict:
    values = TYPES.load(obj.type).secret_values(obj.configuration) if obj.type in TYPES else {}
    out = {f"configuration.{p}": value for p, value in values.items()}
    out["secret"] = obj.secret or None
    return out


def _ai_model_secrets(obj: AiModel) -> dict:
    configuration = obj.configuration or {}
    if configuration.get("provider") not in PROVIDERS:
        return {}
    out = {}
    for keys in secret_keys(get_provider(configuration["provider"])):
        value = configuration
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        out["configuration." + ".".join(keys)] = value
    return out


def _provision_secret(entity: dict) -> dict:
    """Mask ``profileData.provisionConfiguration.provisionDeviceSecret`` in ``entity`` (a copy of the nested
    parts, the serializer's data may be cached) and keep the value apart, to compare only."""
    data = entity.get("profileData")
    config = data.get("provisionConfiguration") if isinstance(data, dict) else None
    if not isinstance(config, dict) or not config.get("provisionDeviceSecret"):
        return {}
    secret = config["provisionDeviceSecret"]
    entity["profileData"] = {**data, "provisionConfiguration": {**config, "provisionDeviceSecret": MASK}}
    return {"profileData.provisionConfiguration.provisionDeviceSecret": secret}


def changes(before: Snapshot, after: Snapshot) -> list[dict]:
    """The diff of what the API shows, plus one masked entry per secret that changed."""
    diff = json_diff(before.entity, after.entity, VOLATILE)
    shown = {d["path"] for d in diff}
    for path in dict.fromkeys([*before.secrets, *after.secrets]):
        old, new = before.secrets.get(path), after.secrets.get(path)
        if (old or None) != (new or None):
            entry = {"path": _display(path), "old": MASK if old else None, "new": MASK if new else None}
            diff = [d for d in diff if d["path"] != entry["path"]] if entry["path"] in shown else diff
            diff.append(entry)
    return diff


def _display(path: str) -> str:
    """``configuration.clientConfiguration.otherProperties[sasl.jaas.config]`` in the diff's notation."""
    out = ""
    for part in split_path(path):
        out = join(out, part)
    return out
