"""Loading a version (ThingsBoard's VersionLoadRequest): SINGLE_ENTITY restores one entity,
ENTITY_TYPE every entity of the listed types (dependencies first: customers and profiles before the
devices that name them), then the relations once every end exists. With ``rollbackOnError`` (and
always for a single entity) nothing stays when one entity fails."""

from django.db import transaction
from rest_framework.exceptions import ValidationError

from transfer.vc import autocommit, entities, layout
from transfer.vc.calls import CallError, call
from transfer.vc.versions import _entity_ref, _visible_commit, entity_file, opened

__all__ = ["check_load", "load_version"]


class _Failed(Exception):
    def __init__(self, error: dict):
        super().__init__(error["message"])
        self.error = error


def check_load(body) -> dict:
    if not isinstance(body, dict):
        raise ValidationError("The body must be a VersionLoadRequest")
    if not isinstance(body.get("versionId"), str) or not body["versionId"]:
        raise ValidationError("versionId should be specified!")
    if body.get("type") == "SINGLE_ENTITY":
        _entity_ref(body.get("externalEntityId"), "externalEntityId")
        if body.get("config") is not None and not isinstance(body["config"], dict):
            raise ValidationError("config must be a VersionLoadConfig object")
    elif body.get("type") == "ENTITY_TYPE":
        types = body.get("entityTypes")
        if not isinstance(types, dict) or not types or any(
                t not in layout.TYPES or not isinstance(c, dict) for t, c in types.items()):
            raise ValidationError(f"entityTypes must map entity types ({', '.join(layout.TYPES)}) to configs")
    else:
        raise ValidationError("type must be SINGLE_ENTITY or ENTITY_TYPE")
    return body


def _files(remote, tenant_id, commit, body) -> list[tuple[str, dict, dict]]:
    """(entity type, file, load config) in load order."""
    if body["type"] == "SINGLE_ENTITY":
        entity_type, external = _entity_ref(body["externalEntityId"], "externalEntityId")
        path = layout.path_of(entity_type, external)
        data = entity_file(remote, tenant_id, commit, path)
        if data is None:
            raise _Failed({"type": "ENTITY_NOT_FOUND", "source": body["externalEntityId"], "target": None,
                           "message": f"{entity_type} {external} is not in version {commit.id.decode()}"})
        _check_file(path, data, entity_type, external)
        return [(entity_type, data, body.get("config") or {})]
    out = []
    for entity_type in layout.LOAD_ORDER:
        config = body["entityTypes"].get(entity_type)
        if config is None:
            continue
        for path in remote.files(commit, entity_type.lower() + "/"):
            parsed = layout.parse_path(path)
            data = entity_file(remote, tenant_id, commit, path) if parsed else None
            if data is not None:
                _check_file(path, data, entity_type, parsed[1])
                out.append((entity_type, data, config))
    return out


def _check_file(path: str, data: dict, entity_type: str, external: str) -> None:
    problem = entities.file_problem(data, entity_type)
    if problem:
        raise _Failed({"type": "ENTITY_LOAD_FAILED", "source": {"entityType": entity_type, "id": external},
                       "target": None, "message": f"{path} is not a valid entity file: {problem}"})


def _load(user, files, body, counts: dict) -> dict:
    loaded = {}
    for entity_type, data, config in files:
        row = counts.setdefault(entity_type, {"entityType": entity_type, "created": 0, "updated": 0, "deleted": 0,
                                              "groupsCreated": 0, "groupsUpdated": 0, "groupsDeleted": 0})
        try:
            outcome, pk = entities.import_entity(user, data, config)
        except CallError as e:
            raise _Failed({"type": "ENTITY_LOAD_FAILED", "source": data["entity"].get("id"), "target": None,
                           "message": f"{entity_type} {data['entity'].get('name') or data['entity'].get('title')}: "
                                      f"{e.message}"}) from None
        row[outcome] += 1
        loaded.setdefault(entity_type, set()).add(pk)
    for _kind, data, config in files:
        if config.get("loadRelations"):
            entities.import_relations(user, data)
    if body["type"] == "ENTITY_TYPE":
        for entity_type, config in body["entityTypes"].items():
            if config.get("removeOtherEntities"):
                counts.setdefault(entity_type, {"entityType": entity_type, "created": 0, "updated": 0, "deleted": 0,
                                                "groupsCreated": 0, "groupsUpdated": 0, "groupsDeleted": 0})
                counts[entity_type]["deleted"] += _remove_others(user, entity_type, loaded.get(entity_type, set()))
    return counts


def _remove_others(user, entity_type, keep: set) -> int:
    segment, _name = layout.TYPES[entity_type]
    others = (entities.model_of(entity_type).objects.filter(tenant_id=user.tenant_id)
              .exclude(pk__in=list(keep)).values_list("pk", flat=True))
    removed = 0
    for pk in list(others):
        try:
            call(user, "DELETE", f"/api/{segment}/{pk}")
            removed += 1
        except CallError as e:
            raise _Failed({"type": "ENTITY_DELETE_FAILED", "source": None,
                           "target": {"entityType": entity_type, "id": str(pk)}, "message": e.message}) from None
    return removed


def load_version(user, body) -> dict:
    """ThingsBoard's VersionLoadResult."""
    rollback = body["type"] == "SINGLE_ENTITY" or body.get("rollbackOnError", True) is not False
    with opened(user.tenant_id) as remote:
        commit = _visible_commit(remote, user.tenant_id, body["versionId"])
        try:
            files = _files(remote, user.tenant_id, commit, body)
        except _Failed as failed:
            return {"result": [], "error": failed.error, "done": True}
    counts = {}
    try:
        with autocommit.suppressed():
            _run(user, files, body, counts, rollback)
    except _Failed as failed:
        return {"result": [] if rollback else list(counts.values()), "error": failed.error, "done": True}
    return {"result": list(counts.values()), "error": None, "done": True}


def _run(user, files, body, counts, rollback) -> None:
    if rollback:
        with transaction.atomic():
            _load(user, files, body, counts)
    else:
        _load(user, files, body, counts)
