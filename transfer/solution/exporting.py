"""``POST /api/solution/export``: the requested entities of the caller's tenant, each as version control
exports it (read through the REST endpoints as the caller, so READ, READ_ATTRIBUTES and READ_CREDENTIALS
apply), grouped by type, and a warning for each reference to an entity left out of the solution.

An id that names no entity of the caller's tenant is a 404, whoever's it is (as version control's export)."""

from rest_framework.exceptions import NotFound

from devices.models import DeviceCredentials
from transfer.models import ExternalId
from transfer.solution import shape
from transfer.vc import entities

__all__ = ["export_solution"]


def _selection(tenant_id, internal, external) -> list[tuple[str, str]]:
    """(entity type, internal id) of each requested entity, once, in import order; NotFound for any other."""
    chosen = {}
    for kind, pk in internal:
        if not entities.exists(tenant_id, kind, pk):
            raise NotFound(f"{kind} {pk} not found")
        chosen[(kind, pk)] = None
    for kind, ext in external:
        pk = entities.internal_id(tenant_id, kind, ext)
        if pk is None:
            raise NotFound(f"{kind} with external id {ext} not found")
        chosen[(kind, pk)] = None
    return sorted(chosen, key=lambda key: shape.IMPORT_ORDER.index(key[0]))


def export_solution(user, body) -> dict:
    """ThingsBoard's SolutionExportResponse: ``{"solution": {"entities": {...}}, "warnings": [...]}``."""
    internal, external, config = shape.check_request(body)
    with entities.remembered_ids():
        return _export(user, internal, external, config)


def _export(user, internal, external, config) -> dict:
    tenant_id = user.tenant_id
    selected = _selection(tenant_id, internal, external)
    outward = {pk: entities.external_id(tenant_id, kind, pk) for kind, pk in selected}
    grouped = {}
    for kind, pk in selected:
        data = entities.export_entity(user, kind, pk, config)
        if "attributes" in data:
            data["attributes"] = shape.outward_attributes(data["attributes"])
        if "credentials" in data:
            data["credentials"] = _credentials(pk, outward[pk], data["credentials"])
        grouped.setdefault(kind, []).append(data)
    _bare_ids_outward(tenant_id, grouped)
    keys = {(kind, outward[pk]) for kind, pk in selected}
    return {"solution": {"entities": grouped}, "warnings": _warnings(user, grouped, keys)}


def _configurations(grouped: dict):
    """(holder, key) of each configuration that may name entities by a bare id: dashboards', rule nodes'."""
    for data in grouped.get("DASHBOARD", []):
        if data["entity"].get("configuration") is not None:
            yield data["entity"], "configuration"
    for data in grouped.get("RULE_CHAIN", []):
        for node in (data.get("metaData") or {}).get("nodes") or []:
            if node.get("configuration") is not None:
                yield node, "configuration"


def _bare_ids_outward(tenant_id, grouped: dict) -> None:
    """Bare ids of entities loaded from elsewhere become their external ids, as references do (version control's
    exporter maps those), whether or not the entity is in the solution."""
    found = set()
    for holder, key in _configurations(grouped):
        found |= shape.uuid_strings(holder[key])
    rows = ExternalId.objects.filter(tenant_id=tenant_id, internal_id__in=found) if found else []
    renamed = {str(row.internal_id): str(row.external_id) for row in rows}
    if renamed:
        for holder, key in _configurations(grouped):
            holder[key] = shape.replace_strings(holder[key], lambda value: renamed.get(value, value))


def _credentials(pk, ext: str, creds: dict) -> dict:
    """ThingsBoard's DeviceCredentials (its id and device id, which its clients require, beside what is loaded)."""
    row = DeviceCredentials.objects.filter(device_id=pk).values_list("pk", flat=True).first()
    return {"id": {"id": str(row)} if row else None, "deviceId": {"entityType": "DEVICE", "id": ext}, **creds}


def _warnings(user, grouped: dict, keys: set) -> list[str]:
    """One line per reference, and per relation, to an entity that is not in the solution; named only when the
    caller may read entities of its type (else its id alone)."""
    out, described, tenant_id = [], {}, user.tenant_id

    def describe(kind: str, ext: str) -> str:
        if (kind, ext) not in described:
            pk = entities.internal_id(tenant_id, kind, ext) if entities.allowed(user, kind, "READ") else None
            name_field = shape.TYPES[kind][1]
            row = entities.model_of(kind).objects.filter(pk=pk).values_list(name_field, flat=True).first() if pk \
                else None
            described[(kind, ext)] = f"{kind} '{row}' ({ext})" if row is not None else f"{kind} {ext}"
        return described[(kind, ext)]

    for kind, files in grouped.items():
        for data in files:
            this = f"{kind} '{shape.name_of(data)}'"

            def visit(ref_kind, ref, top, this=this):
                if (ref_kind, ref) not in keys:
                    out.append(f"{this} references {describe(ref_kind, ref)}, which is not in the solution")
                return shape.KEEP

            shape.rewrite_refs(data["entity"], visit)
            shape.rewrite_nested({k: v for k, v in (data.get("metaData") or {}).items() if k != "ruleChainId"}, visit)
            for rel, ends in shape.relation_ends(data):
                if None in ends:
                    out.append(f"{this} has a '{rel.get('type')}' relation with an entity of a type no solution "
                               "holds: it is not imported")
                for end in ends:
                    if end is not None and end not in keys:
                        out.append(f"{this} has a '{rel.get('type')}' relation with {describe(*end)}, which is not "
                                   "in the solution: it is imported only where that entity exists")
    return list(dict.fromkeys(out))
