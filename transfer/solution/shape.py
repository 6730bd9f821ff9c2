"""The JSON of an export request and of a solution (ThingsBoard's SolutionExportRequest and SolutionData).

A solution's entity is version control's file (transfer/vc/entities.py): ``{"entityType", "entity",
"relations"?, "attributes"?, "credentials"?, "metaData"?}``, every id in it an external id. Attributes go out as
ThingsBoard's AttributeExportData (``{key, lastUpdateTs, booleanValue|longValue|doubleValue|strValue|jsonValue}``)
and come in in that shape or as version control's ``{key, value}``.
"""

import json
import uuid

from rest_framework.exceptions import ValidationError

from rulechains.nodes import NODES
from tenants.choices import NULL_UUID
from transfer import conf
from transfer.vc import entities, layout

__all__ = ["TYPES", "IMPORT_ORDER", "UNIQUE_NAMES", "KEEP", "DROP", "check_request",
           "check_solution", "ref_of", "rewrite_refs", "rewrite_nested", "replace_strings", "outward_attributes",
           "name_of", "ext_of", "relation_ends", "uuid_strings"]

TYPES = layout.TYPES
#: dependencies first: profiles name rule chains and dashboards; devices and assets their profiles and customers.
#: What points the other way (a dashboard's aliases, rule nodes' ids) is set once everything exists.
IMPORT_ORDER = ("CUSTOMER", "RULE_CHAIN", "DASHBOARD", "ASSET_PROFILE", "DEVICE_PROFILE", "CONVERTER", "ASSET",
                "DEVICE")
#: types whose names are unique in a tenant (the database says so): another one of that name is a conflict
UNIQUE_NAMES = ("CUSTOMER", "ASSET_PROFILE", "DEVICE_PROFILE", "ASSET", "DEVICE")
SOLUTION_SHAPE = 'The body must be a solution: {"entities": {"<entity type>": [<entity export data>, ...]}}'
#: EntityExportSettings flag -> version control's save option
_SETTINGS = {"exportRelations": "saveRelations", "exportAttributes": "saveAttributes",
             "exportCredentials": "saveCredentials"}
_OTHER_SETTINGS = ("exportCalculatedFields", "exportPermissions", "exportGroupEntities", "embedGroupMembers")
_TYPED = ("booleanValue", "longValue", "doubleValue", "strValue", "jsonValue")
KEEP, DROP = object(), object()


# the export request -----------------------------------------------------------------------------

def check_request(body) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict]:
    """(internal ids, external ids, version control's save config) of a SolutionExportRequest; else a 400."""
    if not isinstance(body, dict):
        raise ValidationError('The body must be a SolutionExportRequest: {"internalIds": [...], '
                              '"externalIds": [...], "settings": {...}}')
    internal, external = _ids(body.get("internalIds"), "internalIds"), _ids(body.get("externalIds"), "externalIds")
    if not internal and not external:
        raise ValidationError("At least one of 'internalIds' or 'externalIds' must be non-empty")
    if len(internal) + len(external) > conf.max_entities():
        raise ValidationError(f"A solution holds at most {conf.max_entities()} entities")
    return internal, external, _config(body.get("settings"))


def _ids(value, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{where} must be a list of entity ids {{entityType, id}}")
    out = []
    for i, item in enumerate(value):
        kind = item.get("entityType") if isinstance(item, dict) else None
        if kind not in TYPES:
            raise ValidationError(f"{where}[{i}].entityType: {str(kind)[:40]} cannot be exported; "
                                  f"one of: {', '.join(TYPES)}")
        try:
            out.append((kind, str(uuid.UUID(str(item.get("id"))))))
        except ValueError:
            raise ValidationError(f"{where}[{i}].id: Invalid UUID string: {str(item.get('id'))[:64]}") from None
    return out


def _config(settings) -> dict:
    """No settings: everything (ThingsBoard's default); settings: the flags set (a missing one is false)."""
    if settings is None:
        return dict.fromkeys(_SETTINGS.values(), True)
    if not isinstance(settings, dict):
        raise ValidationError("settings must be an EntityExportSettings object")
    for key in (*_SETTINGS, *_OTHER_SETTINGS):
        if settings.get(key) is not None and not isinstance(settings[key], bool):
            raise ValidationError(f"settings.{key} must be true or false")
    return {name: bool(settings.get(key)) for key, name in _SETTINGS.items()}


# a solution -------------------------------------------------------------------------------------

def check_solution(body) -> tuple[list[tuple[str, dict]], list[str], dict]:
    """(entity type, file) per entity of a SolutionData in import order, what is wrong with the rest, and how
    many entities of each type the body lists. A body that is no solution at all is a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("entities"), dict):
        raise ValidationError(SOLUTION_SHAPE)
    found, problems, seen, names, summary = [], [], set(), set(), {}
    for kind, items in body["entities"].items():
        kind = str(kind)[:40]
        if isinstance(items, list):
            summary[kind] = len(items)
        if kind not in TYPES:
            problems.append(f"Unsupported entity type {kind}: a solution here holds {', '.join(TYPES)}")
            continue
        if not isinstance(items, list):
            problems.append(f"entities.{kind} must be a list")
            continue
        for i, item in enumerate(items):
            where = f"entities.{kind}[{i}]"
            data, problem = _file(item, kind)
            if problem:
                problems.append(f"{where}: {problem}")
                continue
            key, name = (kind, ext_of(data)), (kind, name_of(data))
            if key in seen:
                problems.append(f"{where}: {kind} {key[1]} is in the solution more than once")
            elif kind in UNIQUE_NAMES and name in names:
                problems.append(f"{where}: more than one {kind} is named '{name[1][:100]}'")
            else:
                seen.add(key)
                names.add(name)
                found.append((kind, data))
    problems += _sizes(summary, found)
    if not found and not problems:
        problems.append("The solution has no entities")
    found.sort(key=lambda pair: IMPORT_ORDER.index(pair[0]))
    return found, problems[:50], summary


def _sizes(summary: dict, found: list) -> list[str]:
    """What passes SOLUTION_MAX_ENTITIES, _RELATIONS, _ATTRIBUTES (transfer/conf.py)."""
    out = []
    if sum(summary.values()) > conf.max_entities():
        out.append(f"A solution holds at most {conf.max_entities()} entities")
    relations = sum(len(data.get("relations") or []) for _kind, data in found)
    if relations > conf.max_relations():
        out.append(f"A solution holds at most {conf.max_relations()} relations ({relations} here)")
    attributes = sum(len(rows) for _kind, data in found for rows in (data.get("attributes") or {}).values())
    if attributes > conf.max_attributes():
        out.append(f"A solution holds at most {conf.max_attributes()} attributes ({attributes} here)")
    return out


def _file(item, kind: str) -> tuple[dict | None, str | None]:
    if not isinstance(item, dict):
        return None, "must be an entity export data object"
    data = dict(item)
    if isinstance(data.get("attributes"), dict):
        rows = {}
        for scope, scope_rows in data["attributes"].items():
            if isinstance(scope_rows, list):
                try:
                    scope_rows = [_plain_row(row) for row in scope_rows]
                except ValueError:
                    return None, f"attributes.{str(scope)[:40]}: jsonValue must be a JSON text"
            rows[scope] = scope_rows
        data["attributes"] = rows
    problem = entities.file_problem(data, kind)
    if problem:
        return None, problem
    field = TYPES[kind][1]
    if field != "name" and data["entity"].get(field) is None and isinstance(data["entity"].get("name"), str):
        data["entity"] = {**data["entity"], field: data["entity"]["name"]}  # ThingsBoard's ExportableEntity: name
    name = data["entity"].get(field)
    if not isinstance(name, str) or not name.strip():
        return None, f"entity.{field} must be a non-empty string"
    if data.get("credentials") is not None and not isinstance(data["credentials"].get("credentialsId"), str):
        return None, "credentials.credentialsId must be a string"
    if kind == "RULE_CHAIN" and data.get("metaData") is not None:
        return data, _nodes_problem(data["metaData"].get("nodes"))
    return data, None


def _nodes_problem(nodes) -> str | None:
    if nodes is not None and (not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes)):
        return "metaData.nodes must be a list of rule node objects"
    unsupported = sorted({str(n.get("type"))[:120] for n in nodes or []
                          if not isinstance(n.get("type"), str) or n["type"] not in NODES})
    return f"metaData: unsupported rule node type {', '.join(unsupported)}" if unsupported else None


def _plain_row(row):
    """Version control's ``{key, value, lastUpdateTs}`` of an AttributeExportData row (ValueError: bad jsonValue)."""
    if not isinstance(row, dict) or "value" in row:
        return row
    for typed in _TYPED:
        if row.get(typed) is not None:
            value = json.loads(row[typed]) if typed == "jsonValue" and isinstance(row[typed], str) else row[typed]
            return {"key": row.get("key"), "value": value, "lastUpdateTs": row.get("lastUpdateTs")}
    return row


def outward_attributes(attributes: dict) -> dict:
    """Version control's attribute rows as ThingsBoard's AttributeExportData."""
    return {scope: [_typed_row(row) for row in rows] for scope, rows in attributes.items()}


def _typed_row(row: dict) -> dict:
    value, out = row.get("value"), {"key": row["key"]}
    if isinstance(row.get("lastUpdateTs"), int):
        out["lastUpdateTs"] = row["lastUpdateTs"]
    if isinstance(value, bool):
        out["booleanValue"] = value
    elif isinstance(value, int):
        out["longValue"] = value
    elif isinstance(value, float):
        out["doubleValue"] = value
    elif isinstance(value, str):
        out["strValue"] = value
    else:
        out["jsonValue"] = json.dumps(value)
    return out


def ext_of(data: dict) -> str:
    return str(uuid.UUID(str(data["entity"]["id"]["id"])))


def name_of(data: dict) -> str:
    return str(data["entity"].get(TYPES[data["entityType"]][1]) or "")


# references -------------------------------------------------------------------------------------

def ref_of(value) -> tuple[str, str] | None:
    """(entity type, id) of a reference ``{"entityType", "id"}`` to an entity of a solution type (not ThingsBoard's
    null id)."""
    if not (isinstance(value, dict) and set(value) == {"entityType", "id"} and value["entityType"] in TYPES):
        return None
    try:
        ref = str(uuid.UUID(str(value["id"])))
    except ValueError:
        return None
    return None if ref == NULL_UUID else (value["entityType"], ref)


def rewrite_refs(entity: dict, fn) -> dict:
    """A copy of an entity's JSON with each reference (but its own id) passed through ``fn(kind, id, top)``:
    a new id, KEEP, or at the top level DROP (the key goes, so that the endpoint's default applies)."""
    out = {}
    for key, value in entity.items():
        ref = ref_of(value) if key != "id" else None
        if ref is None:
            out[key] = value if key == "id" else rewrite_nested(value, fn)
            continue
        new = fn(*ref, True)
        if new is not DROP:
            out[key] = value if new is KEEP else {"entityType": ref[0], "id": new}
    return out


def rewrite_nested(value, fn):
    ref = ref_of(value)
    if ref is not None:
        new = fn(*ref, False)
        return value if new is KEEP or new is DROP else {"entityType": ref[0], "id": new}
    if isinstance(value, dict):
        return {k: rewrite_nested(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite_nested(v, fn) for v in value]
    return value


def replace_strings(value, fn):
    """``value`` with each string passed through ``fn`` (ids held as bare strings: rule node configurations,
    a dashboard's entity-list aliases)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: replace_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_strings(v, fn) for v in value]
    return value


def uuid_strings(value) -> set[str]:
    """The strings in ``value`` that are UUIDs (candidates for bare entity ids)."""
    found = set()

    def collect(text: str) -> str:
        try:
            if str(uuid.UUID(text)) == text:
                found.add(text)
        except ValueError:
            pass
        return text

    replace_strings(value, collect)
    return found


def relation_ends(data: dict) -> list[tuple[dict, list]]:
    """(relation, [(entity type, id) or None per end]) of a file's relations."""
    out = []
    for rel in data.get("relations") or []:
        if isinstance(rel, dict):
            out.append((rel, [ref_of(rel.get("from")), ref_of(rel.get("to"))]))
    return out
