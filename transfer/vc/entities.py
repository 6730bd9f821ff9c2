"""One entity to and from its file: ThingsBoard's EntityExportData
``{"entityType", "entity", "relations"?, "attributes"?, "credentials"?, "metaData"?}``.

Ids: in a file every entity id is its external id (ThingsBoard's ``externalId``): the entity's own
id, or the repository id it was loaded from (transfer.models.ExternalId). Loading maps them back:
an entity of this tenant with that id, or the one loaded from it, is updated; else one is created.

Rights: attributes are read and saved through the telemetry endpoints (READ_/WRITE_ATTRIBUTES and
their other rules apply; devices, assets and customers keep attributes there); a relation is
committed only when the user reads the entity at its other end, and loaded only when the user
writes the entities at both ends (roles/), as ThingsBoard's relation API checks.
"""

import copy
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from types import SimpleNamespace

from django.apps import apps

from devices import relations as relation_store
from roles.choices import RESOURCES
from roles.enforcement import NO_PERMISSION
from roles.rights import rights_of
from transfer.models import ExternalId
from transfer.vc.calls import CallError, call
from transfer.vc.layout import TYPES

__all__ = ["MODELS", "model_of", "exists", "external_id", "internal_id", "export_entity", "import_entity",
           "SERVER_OWNED", "file_problem", "relation_problem", "allowed", "remembered_ids", "prefetch_internal_ids"]

MODELS = {"CUSTOMER": "tenants.Customer", "ASSET_PROFILE": "devices.AssetProfile",
          "DEVICE_PROFILE": "devices.DeviceProfile", "CONVERTER": "converters.Converter",
          "RULE_CHAIN": "rulechains.RuleChain", "DASHBOARD": "dashboards.Dashboard", "ASSET": "devices.Asset",
          "DEVICE": "devices.Device"}
SERVER_OWNED = ("createdTime", "version", "tenantId", "externalId")
ATTRIBUTE_SCOPES = ("SERVER_SCOPE", "SHARED_SCOPE")
#: the entity types the telemetry API keeps attributes of (shared ones: devices only)
ATTRIBUTE_TYPES = ("DEVICE", "ASSET", "CUSTOMER")
MAX_RELATION_TYPE = 255  # the column's bound
#: internal_id's answers while remembered_ids() is on: {(tenant id, entity type, external id): internal id | None}
_MEMO: ContextVar[dict | None] = ContextVar("transfer_internal_ids", default=None)


def model_of(entity_type: str):
    return apps.get_model(MODELS[entity_type])


def exists(tenant_id, entity_type: str, pk) -> bool:
    return model_of(entity_type).objects.filter(tenant_id=tenant_id, pk=pk).exists()


def external_id(tenant_id, entity_type: str, internal) -> str:
    link = ExternalId.objects.filter(tenant_id=tenant_id, entity_type=entity_type, internal_id=internal).first()
    return str(link.external_id if link else internal)


def internal_id(tenant_id, entity_type: str, external) -> str | None:
    memo, key = _MEMO.get(), (str(tenant_id), entity_type, str(external))
    if memo is not None and key in memo:
        return memo[key]
    found = None
    if exists(tenant_id, entity_type, external):
        found = str(external)
    else:
        link = ExternalId.objects.filter(tenant_id=tenant_id, entity_type=entity_type, external_id=external).first()
        found = str(link.internal_id) if link and exists(tenant_id, entity_type, link.internal_id) else None
    if memo is not None:
        memo[key] = found
    return found


@contextmanager
def remembered_ids():
    """internal_id answers each (entity type, external id) once in the block (one import or export): what
    import_entity saves meanwhile is remembered with its id; nothing else may create or delete the entities."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def prefetch_internal_ids(tenant_id, pairs) -> None:
    """Look up many (entity type, external id) at once for internal_id (a few queries per type), when remembered."""
    memo, wanted = _MEMO.get(), {}
    if memo is None:
        return
    for kind, ext in pairs:
        if (str(tenant_id), kind, str(ext)) not in memo:
            wanted.setdefault(kind, set()).add(str(ext))
    for kind, exts in wanted.items():
        rows = model_of(kind).objects.filter(tenant_id=tenant_id)
        own = {str(pk) for pk in rows.filter(pk__in=exts).values_list("pk", flat=True)}
        linked = ExternalId.objects.filter(tenant_id=tenant_id, entity_type=kind, external_id__in=exts - own)
        links = {str(ext): str(pk) for ext, pk in linked.values_list("external_id", "internal_id")}
        live = {str(pk) for pk in rows.filter(pk__in=set(links.values())).values_list("pk", flat=True)} if links \
            else set()
        for ext in exts:
            link = links.get(ext)
            memo[(str(tenant_id), kind, ext)] = ext if ext in own else (link if link in live else None)


def _remember(tenant_id, entity_type: str, external: str, pk: str) -> None:
    memo = _MEMO.get()
    if memo is not None:
        memo[(str(tenant_id), entity_type, str(external))] = memo[(str(tenant_id), entity_type, str(pk))] = str(pk)


def _ref(value) -> tuple[str, str] | None:
    if isinstance(value, dict) and set(value) == {"entityType", "id"} and value["entityType"] in TYPES:
        try:
            return value["entityType"], str(uuid.UUID(str(value["id"])))
        except ValueError:
            return None
    return None


def _map_ids(value, mapper):
    """``value`` with every entity id ``{"entityType", "id"}`` of a versioned type replaced by ``mapper``'s."""
    ref = _ref(value)
    if ref is not None:
        mapped = mapper(*ref)
        return {"entityType": ref[0], "id": mapped or ref[1]}
    if isinstance(value, dict):
        return {k: _map_ids(v, mapper) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_ids(v, mapper) for v in value]
    return value


def export_entity(user, entity_type: str, pk, config: dict) -> dict:
    """The file of an entity of ``user``'s tenant (CallError when it cannot be read)."""
    tenant_id = user.tenant_id
    segment, _name = TYPES[entity_type]
    entity = call(user, "GET", f"/api/{segment}/{pk}")
    entity = {k: v for k, v in entity.items() if k not in ("version", "externalId")}
    outward = lambda kind, value: external_id(tenant_id, kind, value)  # noqa: E731
    data = {"entityType": entity_type, "entity": _map_ids(entity, outward)}
    if entity_type == "RULE_CHAIN":
        metadata = call(user, "GET", f"/api/ruleChain/{pk}/metadata")
        for node in metadata.get("nodes") or []:
            for key in ("id", "createdTime", "ruleChainId", "version"):
                node.pop(key, None)
        metadata.pop("version", None)
        data["metaData"] = _map_ids(metadata, outward)
    if config.get("saveCredentials") and entity_type == "DEVICE":
        creds = call(user, "GET", f"/api/device/{pk}/credentials")
        data["credentials"] = {k: creds.get(k) for k in ("credentialsType", "credentialsId", "credentialsValue")}
    if config.get("saveAttributes") and entity_type in ATTRIBUTE_TYPES:
        data["attributes"] = {
            scope: [{k: a[k] for k in ("key", "value", "lastUpdateTs")}
                    for a in call(user, "GET", f"/api/plugins/telemetry/{entity_type}/{pk}/values/attributes/{scope}")]
            for scope in _scopes(entity_type)}
    if config.get("saveRelations"):
        data["relations"] = _export_relations(user, entity_type, pk, outward)
    return data


def _scopes(entity_type: str) -> tuple[str, ...]:
    return ATTRIBUTE_SCOPES if entity_type == "DEVICE" else ATTRIBUTE_SCOPES[:1]


def allowed(user, entity_type: str, operation: str) -> bool:
    """Whether ``user``'s roles allow ``operation`` on entities of ``entity_type`` (generic rights)."""
    return rights_of(user).allows(entity_type if entity_type in RESOURCES else "ALL", operation)



def _export_relations(user, entity_type, pk, outward) -> list[dict]:
    """The entity's relations whose other end ``user`` may read (ThingsBoard filters relations so)."""
    tenant_id, end = user.tenant_id, SimpleNamespace(pk=pk, entity_type=entity_type)
    rows = [r for r in relation_store.find(tenant_id, source=end) if allowed(user, r.to_type, "READ")]
    rows += [r for r in relation_store.find(tenant_id, target=end) if allowed(user, r.from_type, "READ")]
    return [_map_ids({"from": {"entityType": r.from_type, "id": str(r.from_id)},
                      "to": {"entityType": r.to_type, "id": str(r.to_id)}, "type": r.type,
                      "typeGroup": r.type_group, "additionalInfo": r.additional_info}, outward) for r in rows]


def _attribute_rows_problem(attributes) -> str | None:
    if not isinstance(attributes, dict):
        return "attributes must be an object of scope -> attributes"
    for scope, rows in attributes.items():
        if not isinstance(rows, list) or not all(
                isinstance(a, dict) and isinstance(a.get("key"), str) and a["key"] and "value" in a for a in rows):
            return f"attributes.{str(scope)[:40]} must be a list of {{key, value}}"
    return None


def file_problem(data, entity_type: str) -> str | None:
    """What makes ``data`` no file of an entity of ``entity_type`` (None when it is one)."""
    if not isinstance(data, dict) or data.get("entityType") != entity_type:
        return f"entityType must be {entity_type}"
    entity = data.get("entity")
    if not isinstance(entity, dict):
        return "entity must be an object"
    ref = entity.get("id")
    if not isinstance(ref, dict) or ref.get("entityType") != entity_type or _ref(ref) is None:
        return f"entity.id must be a {entity_type} id {{entityType, id (UUID)}}"
    if data.get("attributes") is not None:
        problem = _attribute_rows_problem(data["attributes"])
        if problem:
            return problem
    for key, kind in (("relations", list), ("credentials", dict), ("metaData", dict)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            return f"{key} must be {'a list' if kind is list else 'an object'}"
    for i, rel in enumerate(data.get("relations") or []):
        problem = relation_problem(rel)
        if problem:
            return f"relations[{i}]: {problem}"
    return None


def relation_problem(rel) -> str | None:
    """What the relation API (devices/api/relations.py) refuses in a relation of a file (None: nothing)."""
    if not isinstance(rel, dict):
        return "must be a relation object {from, to, type, typeGroup, additionalInfo}"
    rel_type = rel.get("type")
    if not isinstance(rel_type, str) or not rel_type.strip():
        return "'type' must be a non-empty string"
    if len(rel_type) > MAX_RELATION_TYPE:
        return f"'type' must be at most {MAX_RELATION_TYPE} characters"
    group = rel.get("typeGroup") or relation_store.COMMON
    if not isinstance(group, str) or group not in relation_store.TYPE_GROUPS:
        return f"Invalid relationTypeGroup: {group!s:.32}. Supported: {', '.join(relation_store.TYPE_GROUPS)}"
    if rel.get("additionalInfo") is not None and not isinstance(rel["additionalInfo"], dict):
        return "'additionalInfo' must be an object or null"
    return None


def import_entity(user, data: dict, config: dict) -> tuple[str, str]:
    """Save the entity of a file into ``user``'s tenant; ("created"|"updated", its id). CallError
    when an endpoint refuses it."""
    tenant_id, entity_type = user.tenant_id, data["entityType"]
    segment, name_field = TYPES[entity_type]
    body = copy.deepcopy(data["entity"])
    ext = str(body.get("id", {}).get("id"))
    target = known = internal_id(tenant_id, entity_type, ext)
    if target is None and config.get("findExistingEntityByName") and body.get(name_field):
        found = model_of(entity_type).objects.filter(tenant_id=tenant_id, **{name_field: body[name_field]}).first()
        target = str(found.pk) if found else None
    inward = lambda kind, value: internal_id(tenant_id, kind, value)  # noqa: E731
    body = _map_ids({k: v for k, v in body.items() if k not in SERVER_OWNED and k != "id"}, inward)
    if target is not None:
        body["id"] = {"entityType": entity_type, "id": target}
    saved = call(user, "POST", f"/api/{segment}", body)
    pk = saved["id"]["id"]
    if pk != ext and pk != known:  # known: ext's link to pk is there already
        ExternalId.objects.update_or_create(tenant_id=tenant_id, entity_type=entity_type, external_id=ext,
                                            defaults={"internal_id": pk})
    _remember(tenant_id, entity_type, ext, pk)
    if entity_type == "RULE_CHAIN" and isinstance(data.get("metaData"), dict):
        metadata = _map_ids(data["metaData"], inward)
        metadata["ruleChainId"] = {"entityType": "RULE_CHAIN", "id": pk}
        call(user, "POST", "/api/ruleChain/metadata", metadata)
    if config.get("loadCredentials") and isinstance(data.get("credentials"), dict):
        current = call(user, "GET", f"/api/device/{pk}/credentials")
        call(user, "POST", "/api/device/credentials",
             {**data["credentials"], "id": current["id"], "deviceId": {"entityType": "DEVICE", "id": pk}})
    if config.get("loadAttributes") and isinstance(data.get("attributes"), dict) and entity_type in ATTRIBUTE_TYPES:
        for scope in ATTRIBUTE_SCOPES:
            values = {a["key"]: a["value"] for a in data["attributes"].get(scope) or []}
            if values:
                call(user, "POST", f"/api/plugins/telemetry/{entity_type}/{pk}/attributes/{scope}", values)
    return ("updated" if target else "created"), pk


def import_relations(user, data: dict) -> int:
    """The file's relations whose both ends are entities of ``user``'s tenant (after loading)."""
    tenant_id, count = user.tenant_id, 0
    for rel in data.get("relations") or []:
        problem = relation_problem(rel)
        if problem:  # file_problem says so before anything is loaded; never stored unchecked
            raise CallError(400, problem)
        ends = []
        for key in ("from", "to"):
            ref = _ref(rel.get(key)) if isinstance(rel, dict) else None
            found = internal_id(tenant_id, *ref) if ref else None
            if found is None:
                break
            ends.append(SimpleNamespace(pk=uuid.UUID(found), entity_type=ref[0]))
        if len(ends) == 2 and isinstance(rel.get("type"), str):
            if not all(allowed(user, end.entity_type, "WRITE") for end in ends):
                raise CallError(403, NO_PERMISSION)
            relation_store.save(tenant_id, ends[0], ends[1], rel["type"], rel.get("typeGroup") or "COMMON",
                                rel.get("additionalInfo"))
            count += 1
    return count
