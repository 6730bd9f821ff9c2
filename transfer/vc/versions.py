"""Creating versions (ThingsBoard's SINGLE_ENTITY and COMPLEX VersionCreateRequest) and reading
them back: versions (commits) of a branch, the entities of a version, an entity's diff and info."""

import json
from contextlib import contextmanager

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.utils.encoders import JSONEncoder

from tbproject.api.ids import parse_uuid
from tenants.models import Tenant
from transfer.vc import entities, layout
from transfer.vc.repository import get_settings, remote_for

__all__ = ["opened", "check_create", "check_entity", "create_version", "list_versions", "entities_at",
           "entity_file", "diff", "info", "branches", "dump"]

STRATEGIES = ("MERGE", "OVERWRITE")


def dump(data: dict) -> bytes:
    return (json.dumps(data, cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n").encode()


@contextmanager
def opened(tenant_id):
    """The tenant's repository, fetched, with the set of this server's tenants (to tell foreign commits)."""
    row = get_settings(tenant_id)
    with remote_for(row) as remote:
        remote.fetch()
        remote.settings = row
        remote.server_tenants = {str(pk) for pk in Tenant.objects.values_list("pk", flat=True)}
        yield remote


def _visible_commit(remote, tenant_id, version_id: str):
    commit = remote.commit_of(version_id) if isinstance(version_id, str) and len(version_id) == 40 else None
    if commit is None or layout.foreign(layout.tenant_of(commit), tenant_id, remote.server_tenants):
        raise NotFound(f"Version {str(version_id)[:64]} not found")
    return commit


def _file_owner(data) -> str | None:
    entity = data.get("entity") if isinstance(data, dict) else None
    tenant = entity.get("tenantId") if isinstance(entity, dict) else None
    return str(tenant.get("id")) if isinstance(tenant, dict) and tenant.get("id") else None


def entity_file(remote, tenant_id, commit, path: str) -> dict | None:
    """The parsed file at ``path``, None when absent, unreadable or another tenant's."""
    raw = remote.read(commit, path)
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict) or layout.foreign(_file_owner(data), tenant_id, remote.server_tenants):
        return None
    return data


# creating ----------------------------------------------------------------------------------------

def _entity_ref(value, where: str) -> tuple[str, str]:
    if not isinstance(value, dict) or value.get("entityType") not in layout.TYPES:
        raise ValidationError(f"{where}.entityType must be one of: {', '.join(layout.TYPES)}")
    return value["entityType"], str(parse_uuid(value.get("id"), f"{where}.id"))


def check_create(tenant_id, body) -> dict:
    """The request, or a 400/404 before anything starts."""
    if not isinstance(body, dict):
        raise ValidationError("The body must be a VersionCreateRequest")
    row = get_settings(tenant_id)
    if row.read_only:
        raise ValidationError("The repository is read-only: versions cannot be created")
    name = body.get("versionName")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Version name should be specified!")
    if body.get("branch") is not None and (not isinstance(body["branch"], str) or not body["branch"].strip()):
        raise ValidationError("branch must be a branch name")
    if body.get("type") == "SINGLE_ENTITY":
        entity_type, pk = _entity_ref(body.get("entityId"), "entityId")
        check_entity(tenant_id, entity_type, pk)
    elif body.get("type") == "COMPLEX":
        if body.get("syncStrategy", "MERGE") not in STRATEGIES:
            raise ValidationError("syncStrategy must be MERGE or OVERWRITE")
        types = body.get("entityTypes")
        if not isinstance(types, dict) or any(t not in layout.TYPES or not isinstance(c, dict)
                                              for t, c in types.items()):
            raise ValidationError(f"entityTypes must map entity types ({', '.join(layout.TYPES)}) to configs")
    else:
        raise ValidationError("type must be SINGLE_ENTITY or COMPLEX")
    return body


def _selection(user, body) -> list[tuple[str, list, dict, str]]:
    """(entity type, internal ids, save config, sync strategy) per entity type of the request."""
    if body["type"] == "SINGLE_ENTITY":
        entity_type, pk = _entity_ref(body["entityId"], "entityId")
        return [(entity_type, [pk], body.get("config") or {}, "MERGE")]
    out = []
    for entity_type, config in body["entityTypes"].items():
        model = entities.model_of(entity_type).objects.filter(tenant_id=user.tenant_id)
        if not config.get("allEntities"):
            model = model.filter(pk__in=[str(i) for i in config.get("entityIds") or []])
        ids = [str(pk) for pk in model.order_by("created_time", "pk").values_list("pk", flat=True)]
        out.append((entity_type, ids, config, config.get("syncStrategy") or body.get("syncStrategy") or "MERGE"))
    return out


def create_version(user, body) -> dict:
    """Commit the requested entities; ThingsBoard's VersionCreationResult."""
    tenant_id = user.tenant_id
    counts = {"added": 0, "modified": 0, "removed": 0}
    with opened(tenant_id) as remote:
        branch = (body.get("branch") or remote.settings.default_branch).strip()
        head = remote.head(branch)
        base = remote.commit_of(head.decode()) if head else None
        changes = {}
        for entity_type, ids, config, strategy in _selection(user, body):
            written = set()
            for pk in ids:
                data = entities.export_entity(user, entity_type, pk, config)
                path = layout.path_of(entity_type, entities.external_id(tenant_id, entity_type, pk))
                content, written = dump(data), written | {path}
                before = remote.read(base, path) if base else None
                if before != content:
                    changes[path] = content
                    counts["added" if before is None else "modified"] += 1
            if strategy == "OVERWRITE" and base is not None:
                folder = entity_type.lower() + "/"
                for path in remote.files(base, folder):
                    if path not in written and entity_file(remote, tenant_id, base, path) is not None:
                        changes[path] = None
                        counts["removed"] += 1
        sha = remote.commit(branch, changes, layout.message(body["versionName"].strip(), tenant_id),
                            _author(user))
        version = layout.version_json(remote.commit_of(sha.decode()))
    return {"version": version, **counts, "error": None, "done": True}


def _author(user) -> str:
    name = " ".join(filter(None, [getattr(user, "first_name", ""), getattr(user, "last_name", "")])) or user.email
    return f"{name} <{user.email}>"


# reading -----------------------------------------------------------------------------------------

def list_versions(tenant_id, branch: str | None, req, entity_type: str | None = None, external=None) -> dict:
    """PageData of EntityVersion: the branch's commits (touching the entity or type when given)."""
    with opened(tenant_id) as remote:
        branch = branch or remote.settings.default_branch
        if entity_type and external:
            paths = [layout.path_of(entity_type, external)]
        else:
            paths = [entity_type.lower()] if entity_type else None
        rows = [layout.version_json(c) for c in remote.log(branch, paths)
                if not layout.foreign(layout.tenant_of(c), tenant_id, remote.server_tenants)]
    if req.text_search:
        rows = [r for r in rows if req.text_search.lower() in r["name"].lower()]
    if req.sort_property not in (None, "timestamp"):
        raise ValidationError("Unsupported sortProperty; use timestamp")
    if req.sort_order == "ASC" and req.sort_property == "timestamp":
        rows.reverse()
    start = req.page * req.page_size
    return {"data": rows[start:start + req.page_size], "totalPages": -(-len(rows) // req.page_size),
            "totalElements": len(rows), "hasNext": start + req.page_size < len(rows)}


def entities_at(tenant_id, version_id: str, entity_type: str | None = None) -> list[dict]:
    """VersionedEntityInfo of each entity file of the version (of one type when given)."""
    with opened(tenant_id) as remote:
        commit = _visible_commit(remote, tenant_id, version_id)
        out = []
        for path in remote.files(commit, entity_type.lower() + "/" if entity_type else ""):
            parsed = layout.parse_path(path)
            if parsed and entity_file(remote, tenant_id, commit, path) is not None:
                out.append({"externalId": {"entityType": parsed[0], "id": parsed[1]}, "path": path})
    return out


def version_file(tenant_id, version_id: str, entity_type: str, external) -> dict:
    with opened(tenant_id) as remote:
        commit = _visible_commit(remote, tenant_id, version_id)
        data = entity_file(remote, tenant_id, commit, layout.path_of(entity_type, external))
    if data is None:
        raise NotFound(f"{entity_type} {external} is not in version {version_id[:64]}")
    return data


def check_entity(tenant_id, entity_type: str, pk) -> None:
    if not entities.exists(tenant_id, entity_type, pk):
        raise NotFound(f"{entity_type} {pk} not found")


def diff(user, entity_type: str, pk, version_id: str) -> dict:
    """EntityDataDiff: the entity now and in the version, both as files."""
    check_entity(user.tenant_id, entity_type, pk)
    other = version_file(user.tenant_id, version_id, entity_type, entities.external_id(user.tenant_id, entity_type, pk))
    config = {"saveAttributes": "attributes" in other, "saveRelations": "relations" in other,
              "saveCredentials": "credentials" in other}
    return {"currentVersion": entities.export_entity(user, entity_type, pk, config), "otherVersion": other}


def info(tenant_id, version_id: str, entity_type: str, external) -> dict:
    data = version_file(tenant_id, version_id, entity_type, external)
    return {"hasRelations": bool(data.get("relations")), "hasAttributes": bool(data.get("attributes")),
            "hasCredentials": bool(data.get("credentials")), "hasCalculatedFields": bool(data.get("calculatedFields")),
            "hasPermissions": bool(data.get("permissions")), "hasGroupEntities": bool(data.get("groupEntities"))}


def branches(tenant_id) -> list[dict]:
    with opened(tenant_id) as remote:
        default = remote.settings.default_branch
        return [{"name": name, "default": name == default} for name in sorted(remote.heads)]
