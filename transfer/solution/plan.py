"""What importing a solution into a tenant would do, worked out without writing: which entity of the tenant
each solution entity updates (the one with its id, or the one an earlier import or version load made from it:
transfer.models.ExternalId) and which are new, and what stands in the way:

- problems: the solution's own (an unsupported type, a malformed entity, an entity twice): a 400;
- conflicts: with the tenant's data (another entity has the name where names are unique, another device has
  the credentials, another profile the provision key): ThingsBoard's 409;
- limits: the new entities would pass the tenant profile's entity limits (tenants/limits/entities.py): a 400;
- warnings: references to entities neither in the solution nor in the tenant (a device profile's rule chain
  left out of the export): the import leaves them unset, never fails on them.
"""

from collections import Counter
from dataclasses import dataclass

from devices import credentials as device_credentials
from devices.models import DeviceCredentials, DeviceProfile
from tenants.limits import entities as limits
from transfer.solution import shape
from transfer.vc import entities

__all__ = ["Entry", "Plan", "make_plan"]


@dataclass
class Entry:
    kind: str
    data: dict
    ext: str  # its id in the solution (an external id)
    name: str
    target: str | None  # the tenant's entity it updates; None: a new one

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name[:100]}'"


@dataclass
class Plan:
    entries: list[Entry]
    summary: dict
    problems: list[str]
    conflicts: list[str]
    limits: list[str]
    warnings: list[str]
    new: Counter


def make_plan(tenant_id, body) -> Plan:
    """Call it inside entities.remembered_ids(): the tenant's entities are looked up in bulk, once."""
    found, problems, summary = shape.check_solution(body)
    entities.prefetch_internal_ids(tenant_id, [(kind, shape.ext_of(data)) for kind, data in found])
    entries = [Entry(kind, data, shape.ext_of(data), shape.name_of(data),
                     entities.internal_id(tenant_id, kind, shape.ext_of(data))) for kind, data in found]
    new = Counter(e.kind for e in entries if e.target is None)
    credentials = _credential_ids(entries, problems)
    return Plan(entries, summary, problems, _conflicts(tenant_id, entries, credentials), _limits(tenant_id, new),
                _warnings(tenant_id, entries), new)


def _credential_ids(entries: list[Entry], problems: list[str]) -> dict:
    """{credentials id as devices/credentials.py stores it (MQTT_BASIC, X.509: derived from the value): entry}."""
    out = {}
    for e in entries:
        creds = e.data.get("credentials")
        if e.kind != "DEVICE" or not isinstance(creds, dict):
            continue
        try:
            derived, _value = device_credentials.normalize(creds.get("credentialsType"), creds.get("credentialsId"),
                                                           creds.get("credentialsValue"))
        except device_credentials.CredentialsError as err:
            problems.append(f"{e.label}: credentials: {err}")
            continue
        if derived in out:
            problems.append(f"{e.label}: its credentials are {out[derived].label}'s too")
        out.setdefault(derived, e)
    return out


def _conflicts(tenant_id, entries: list[Entry], credentials: dict) -> list[str]:
    """One query per type for names, one for credentials, one for provision keys."""
    out = []
    for kind in shape.UNIQUE_NAMES:
        named = {e.name.strip(): e for e in entries if e.kind == kind}
        if not named:
            continue
        field = shape.TYPES[kind][1]
        rows = entities.model_of(kind).objects.filter(tenant_id=tenant_id, **{f"{field}__in": list(named)})
        for name, pk in rows.values_list(field, "pk"):
            e = named.get(name)
            if e is not None and str(pk) != e.target:
                out.append(f"{e.label}: this tenant has another {limits.normal_name(kind).lower()} of that "
                           f"name ({pk})")
    if credentials:
        for creds_id, device in DeviceCredentials.objects.filter(
                credentials_id__in=list(credentials)).values_list("credentials_id", "device_id"):
            if str(device) != credentials[creds_id].target:
                out.append(f"{credentials[creds_id].label}: its credentials are another device's")
    keys = {e.data["entity"]["provisionDeviceKey"]: e for e in entries if e.kind == "DEVICE_PROFILE"
            and isinstance(e.data["entity"].get("provisionDeviceKey"), str) and e.data["entity"]["provisionDeviceKey"]}
    if keys:
        for key, pk in DeviceProfile.objects.filter(provision_device_key__in=list(keys)).values_list(
                "provision_device_key", "pk"):
            if str(pk) != keys[key].target:
                out.append(f"{keys[key].label}: its provision device key is another device profile's")
    return sorted(set(out), key=out.index)


def _limits(tenant_id, new: Counter) -> list[str]:
    out = []
    for kind, adding in new.items():
        limit = limits.limit_of(tenant_id, kind) if kind in limits.ENTITY_KEYS else 0
        have = limits.count(tenant_id, kind) if limit else 0
        if limit and have + adding > limit:
            out.append(f"{limits.normal_name(kind)}s limit reached: the solution creates {adding}, this tenant has "
                       f"{have} of {limit}")
    return out


def _references(entries: list[Entry]) -> set:
    """Every (entity type, id) the entries reference, for one bulk lookup."""
    found = set()

    def visit(kind, ref, top):
        found.add((kind, ref))
        return shape.KEEP

    for e in entries:
        shape.rewrite_refs(e.data["entity"], visit)
        shape.rewrite_nested({k: v for k, v in (e.data.get("metaData") or {}).items() if k != "ruleChainId"}, visit)
        found.update(end for _rel, ends in shape.relation_ends(e.data) for end in ends if end is not None)
    return found


def _warnings(tenant_id, entries: list[Entry]) -> list[str]:
    keys, known, out = {(e.kind, e.ext) for e in entries}, {}, []
    entities.prefetch_internal_ids(tenant_id, _references(entries) - keys)

    def resolvable(kind: str, ref: str) -> bool:
        if (kind, ref) not in known:
            known[(kind, ref)] = (kind, ref) in keys or entities.internal_id(tenant_id, kind, ref) is not None
        return known[(kind, ref)]

    for e in entries:
        def visit(kind, ref, top, e=e):
            if not resolvable(kind, ref):
                outcome = "it is imported without that reference" if top else "the reference is kept as it is"
                out.append(f"{e.label} references {kind} {ref}, which is neither in the solution nor in this "
                           f"tenant: {outcome}")
            return shape.KEEP

        shape.rewrite_refs(e.data["entity"], visit)
        shape.rewrite_nested({k: v for k, v in (e.data.get("metaData") or {}).items() if k != "ruleChainId"}, visit)
        for rel, ends in shape.relation_ends(e.data):
            if None in ends:
                out.append(f"{e.label}: its '{rel.get('type')}' relation with an entity of a type no solution holds "
                           "is not imported")
            for end in ends:
                if end is not None and not resolvable(*end):
                    out.append(f"{e.label}: its '{rel.get('type')}' relation with {end[0]} {end[1]} is not imported: "
                               "that entity is neither in the solution nor in this tenant")
        if e.data.get("calculatedFields"):
            out.append(f"{e.label}: calculated fields are not imported")
        if (e.data.get("attributes") or {}).get("CLIENT_SCOPE"):
            out.append(f"{e.label}: its CLIENT_SCOPE attributes are not imported (the device reports them)")
    return list(dict.fromkeys(out))
