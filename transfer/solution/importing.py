"""``POST /api/solution/import`` and ``POST /api/solution/validate``.

The import saves each entity with version control's importer (transfer/vc/entities.py), through the REST
endpoints as the caller, all in one transaction: the first failure undoes everything. An entity updates the
tenant's entity it stands for (its id, or the one an earlier import made from it), else a new one is created
and remembered for its id (transfer.models.ExternalId), so that importing again updates instead of duplicating.

Order and references: dependencies first (shape.IMPORT_ORDER); a reference to a solution entity becomes that
entity's id here, to one of the tenant's own stays, to anything else is left out at the top level (the
endpoint's default applies: a device without its profile gets the profile of its ``type``) and kept as it is
deeper down. What points at entities not saved yet (a dashboard's aliases at devices, rule nodes at other
chains) is set by a second pass once everything exists; rule chains get their nodes in that pass. Relations
are saved last, where both ends exist. Credentials and attributes are loaded when the solution has them.

The validation is the plan (transfer/solution/plan.py) of the same import, nothing written: a dry run of the
import's own checks, not of every rule of the endpoints it saves through.

The tenant's entities are looked up in bulk once per import (entities.remembered_ids). Rule-engine messages
the saves make (attributes updated) wait in devices.services.BATCHED and are published once the import
committed: a rolled-back import sends none."""

import logging
from collections import Counter

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from devices import services
from tbproject.api.exceptions import Conflict
from tenants.limits import entities as limits
from transfer.models import ExternalId
from transfer.solution import shape
from transfer.solution.plan import Entry, Plan, make_plan
from transfer.vc import entities
from transfer.vc.calls import CallError

__all__ = ["import_solution", "validate_solution"]

_CREDENTIALS = ("credentialsType", "credentialsId", "credentialsValue")
log = logging.getLogger(__name__)


def _joined(lines: list[str]) -> str:
    text = "; ".join(lines)
    return text if len(text) <= 2000 else text[:2000] + "..."


def validate_solution(user, body) -> dict:
    """ThingsBoard's SolutionValidationResult."""
    with entities.remembered_ids():
        plan = make_plan(user.tenant_id, body)
    blocking = plan.problems + plan.conflicts + plan.limits
    return {"valid": not blocking, "entitySummary": plan.summary, "conflicts": blocking, "warnings": plan.warnings}


def import_solution(user, body) -> dict:
    """ThingsBoard's SolutionImportResult: ``{"success", "created": {type: n}, "idMapping": {external: internal}}``."""
    with entities.remembered_ids():
        plan = make_plan(user.tenant_id, body)
        if plan.problems:
            raise ValidationError(f"The solution cannot be imported: {_joined(plan.problems)}")
        if plan.conflicts:
            raise Conflict(f"The solution conflicts with this tenant's entities: {_joined(plan.conflicts)}")
        if plan.limits:
            raise ValidationError(plan.limits[0])
        batched: dict = {}
        token = services.BATCHED.set(batched)
        try:
            with transaction.atomic():
                for kind, adding in plan.new.items():
                    if kind in limits.ENTITY_KEYS:
                        limits.check_room(user.tenant_id, kind, adding)  # counted again, the tenant locked
                result = _run(user, plan)
                transaction.on_commit(lambda: _publish(batched), robust=True)
                return result
        except limits.EntitiesLimitReached as e:
            raise ValidationError(str(e)) from None
        except IntegrityError:
            raise ValidationError("The solution could not be imported: a name or key is taken") from None
        finally:
            services.BATCHED.reset(token)


def _publish(batched: dict) -> None:
    """The rule-engine work the import's saves left to the batch, once it committed (never raises: it did)."""
    for flush, items in batched.items():
        try:
            flush(items)
        except Exception:
            log.exception("solution import: %d items of %s not handed on", len(items),
                          getattr(flush, "__qualname__", flush))


def _linked(tenant_id, plan: Plan) -> dict:
    """Bare ids in the solution's dashboards and rule nodes that name entities an earlier import or version load
    made here (outside the solution): their ids here."""
    found = set()
    for e in plan.entries:
        if e.kind == "DASHBOARD":
            found |= shape.uuid_strings(e.data["entity"].get("configuration"))
        for node in (e.data.get("metaData") or {}).get("nodes") or []:
            found |= shape.uuid_strings(node.get("configuration"))
    rows = ExternalId.objects.filter(tenant_id=tenant_id, external_id__in=found) if found else []
    return {str(row.external_id): str(row.internal_id) for row in rows}


def _run(user, plan: Plan) -> dict:
    keys, linked = {(e.kind, e.ext) for e in plan.entries}, _linked(user.tenant_id, plan)
    done, later, created = {}, [], Counter()
    for e in plan.entries:
        data, deferred = _prepared(user.tenant_id, e, keys, done, linked, first=True)
        outcome, pk = _save(user, e, data, {"loadAttributes": True, "loadCredentials": True})
        done[(e.kind, e.ext)] = pk
        created[e.kind] += outcome == "created"
        if deferred or (e.kind == "RULE_CHAIN" and isinstance(e.data.get("metaData"), dict)):
            later.append(e)
    for e in later:
        _save(user, e, _prepared(user.tenant_id, e, keys, done, linked, first=False)[0], {})
    for e in plan.entries:
        if e.data.get("relations"):
            try:
                entities.import_relations(user, e.data)
            except CallError as err:
                raise CallError(err.status, f"{e.label}, relations: {err.message}") from None
    return {"success": True, "created": {kind: n for kind, n in created.items() if n},
            "idMapping": {e.ext: done[(e.kind, e.ext)] for e in plan.entries}}


def _save(user, e: Entry, data: dict, config: dict) -> tuple[str, str]:
    try:
        return entities.import_entity(user, data, config)
    except CallError as err:
        raise CallError(err.status, f"{e.label}: {err.message}") from None


def _prepared(tenant_id, e: Entry, keys: set, done: dict, linked: dict, *, first: bool) -> tuple[dict, bool]:
    """The file to save in this pass, and whether it points at solution entities not saved yet."""
    deferred = False
    saved = {**linked, **{ext: pk for (_kind, ext), pk in done.items()}}
    pending = {ext for _kind, ext in keys} - set(saved)

    def resolve(kind, ref, top):
        nonlocal deferred
        if (kind, ref) in keys:
            if (kind, ref) in done:
                return done[(kind, ref)]
            deferred = True
            return shape.DROP if top else shape.KEEP
        found = entities.internal_id(tenant_id, kind, ref)
        return found if found else (shape.DROP if top else shape.KEEP)

    def string(value: str) -> str:
        nonlocal deferred
        deferred = deferred or value in pending
        return saved.get(value, value)

    entity = shape.rewrite_refs(e.data["entity"], resolve)
    if e.kind == "DASHBOARD" and entity.get("configuration") is not None:
        entity["configuration"] = shape.replace_strings(entity["configuration"], string)
    data = {"entityType": e.kind, "entity": entity}
    if first:
        if e.data.get("attributes") is not None:
            data["attributes"] = e.data["attributes"]
        if e.data.get("credentials") is not None:
            data["credentials"] = {k: e.data["credentials"].get(k) for k in _CREDENTIALS}
    elif isinstance(e.data.get("metaData"), dict):
        metadata = {k: shape.rewrite_nested(v, resolve) for k, v in e.data["metaData"].items() if k != "ruleChainId"}
        for node in metadata.get("nodes") or []:
            if isinstance(node, dict):
                node["configuration"] = shape.replace_strings(node.get("configuration"), string)
        data["metaData"] = metadata
    return data, deferred
