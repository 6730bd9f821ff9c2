"""Computing calculated fields after telemetry or attributes were written.

    run(tenant_id or None, changes, depth)   # changes: [(entity_id, "TS"|"ATTRIBUTE", key, scope)]

For each change the fields with an argument of that key are found (calculated/index.py): fields
of the entity itself or of its profile, with the argument on the entity; and fields with the
argument on that entity named by ``refEntityId`` (computed for their own entity, or for every
entity of their profile). Each is computed with the latest values (calculated/arguments.py): a
missing argument without ``defaultValue`` means no output, as in ThingsBoard. The result is saved
through devices/ (calculated/outputs.py), whose write announces it in turn: a field whose argument
is another field's output is computed next, up to MAX_DEPTH links (a cycle stops there, recorded
as an error of the field whose write went one link too far).
"""

import logging
import threading
import uuid
from collections import defaultdict
from functools import lru_cache

from calculated import arguments as args_mod
from calculated import debug, index, outputs, scripts
from calculated.choices import FieldEntityType, FieldKind
from calculated.expressions import ExpressionError, parse
from devices.models import Asset, Device
from tbproject.clock import now_ms

__all__ = ["run", "MAX_DEPTH", "current_depth", "current_fields", "simple_result", "script_calls"]

log = logging.getLogger(__name__)

#: links of a chain of fields (a field's output triggering the next) computed from one write
MAX_DEPTH = 10
#: entities of one profile a field with a referenced argument is computed for at once
MAX_PROFILE_ENTITIES = 10_000

_state = threading.local()


def current_depth() -> int:
    """The chain depth of the computation running in this thread (0: none, a write from outside)."""
    return getattr(_state, "depth", 0)


def current_fields() -> tuple:
    """The fields whose outputs this thread is writing (for the error when a chain is too deep)."""
    return getattr(_state, "fields", ())


def _entities(ids, tenant_id=None) -> dict:
    """{entity_id: (entity_type, tenant_id, profile_id)} of the devices and assets among ``ids``."""
    found = {}
    for model, kind in ((Device, "DEVICE"), (Asset, "ASSET")):
        rows = model.objects.filter(pk__in=ids)
        if tenant_id is not None:
            rows = rows.filter(tenant_id=tenant_id)
        found.update({pk: (kind, tenant, profile) for pk, tenant, profile in
                      rows.values_list("pk", "tenant_id", "profile_id")})
    return found


def _profile_members(field) -> list:
    model = Device if field.entity_type == FieldEntityType.DEVICE_PROFILE else Asset
    return list(model.objects.filter(tenant_id=field.tenant_id, profile_id=field.entity_id)
                .values_list("pk", flat=True)[:MAX_PROFILE_ENTITIES])


def _work(tenant_id, changes, entities) -> dict:
    """{field id: (field, {entity_id: entity_type})}: what the changes make to compute."""
    fields = index.fields_of(tenant_id)
    todo: dict = {}

    def add(field, entity_id, entity_type):
        todo.setdefault(field.id, (field, {}))[1][entity_id] = entity_type

    for entity_id, kind, key, scope in changes:
        trigger = (kind, key, scope)
        entity = entities.get(entity_id)
        for field in fields.by_own.get(trigger, ()):
            if entity is not None and field.entity_id in (entity_id, entity[2]):
                add(field, entity_id, entity[0])
        for field in fields.by_ref.get((entity_id, *trigger), ()):
            if field.entity_type in (FieldEntityType.DEVICE, FieldEntityType.ASSET):
                add(field, field.entity_id, field.entity_type)
            else:
                member_type = "DEVICE" if field.entity_type == FieldEntityType.DEVICE_PROFILE else "ASSET"
                for member in _profile_members(field):
                    add(field, member, member_type)
    return todo


def run(tenant_id, changes, depth: int = 1, overrides: dict | None = None) -> None:
    """Compute what ``changes`` trigger (``tenant_id`` None: the tenants are looked up). ``overrides``:
    argument values that were not stored (calculated/arguments.py load)."""
    changes = [(uuid.UUID(str(e)), kind, key, scope) for e, kind, key, scope in changes]
    ids = {c[0] for c in changes}
    if tenant_id is None:
        entities = _entities(ids)
        wanted = index.tenants_with_fields()
        by_tenant = defaultdict(list)
        for change in changes:
            entity = entities.get(change[0])
            if entity is not None and entity[1] in wanted:
                by_tenant[entity[1]].append(change)
        for tenant, tenant_changes in by_tenant.items():
            _run_tenant(tenant, tenant_changes, entities, depth, overrides)
        return
    tenant_id = uuid.UUID(str(tenant_id))
    _run_tenant(tenant_id, changes, _entities(ids, tenant_id), depth, overrides)


def _run_tenant(tenant_id, changes, entities, depth: int, overrides=None) -> None:
    now = now_ms()
    work = list(_work(tenant_id, changes, entities).values())
    rolling = args_mod.RollingCache(now)
    rolling.prefetch([(field, list(targets)) for field, targets in work])  # each (source, key) read once
    with debug.Recorder() as recorder:
        for field, targets in work:
            try:
                _compute_field(field, targets, now, depth, recorder, rolling, overrides)
            except Exception as e:  # a failure of one field must not stop the others
                log.exception("calculated field %s failed", field.id)
                for entity_id, entity_type in targets.items():
                    recorder.add(field, entity_id, entity_type, None, None, f"{type(e).__name__}: {e}")


def _compute_field(field, targets: dict, now: int, depth: int, recorder, rolling=None, overrides=None) -> None:
    loaded = args_mod.load(field, list(targets), now, rolling, overrides)
    names = list(field.spec.arguments)
    ready = {e: values for e, values in loaded.items() if len(values) == len(names)}
    if not ready:
        return  # an argument missing without a default: no output, as in ThingsBoard
    if field.spec.kind == FieldKind.SIMPLE:
        results = {e: simple_result(field.spec, values) for e, values in ready.items()}
    else:
        calls = {e: script_calls(field.spec, values) for e, values in ready.items()}
        answers = scripts.run(f"cf:{field.id}", field.version, names, field.spec.expression, list(calls.values()))
        results = dict(zip(calls, answers, strict=True))
    writes = outputs.Writes(field.tenant_id)
    for entity_id, (result, error) in results.items():
        if error is None:
            try:
                result = writes.add(field.spec, entity_id, result, ready[entity_id], now)
            except outputs.OutputError as e:
                error = str(e)
        recorder.add(field, entity_id, targets[entity_id], _shown_arguments(ready[entity_id]), result, error)
    outer = current_depth(), current_fields()  # a chained field computed inline runs inside flush()
    _state.depth, _state.fields = depth, (field,)
    try:
        writes.flush()
    finally:
        _state.depth, _state.fields = outer


def _number(name: str, value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise ExpressionError(f"argument '{name}' is not a number: {str(value)[:64]!r}") from None


@lru_cache(maxsize=4096)
def _parsed(expression: str):
    return parse(expression)  # checked when the field was saved; parsed once per process


def simple_result(spec, values: dict) -> tuple:
    """(value, None) or (None, error) of a SIMPLE expression over ``values`` ({name: ArgValue})."""
    try:
        numbers = {name: _number(name, arg.value) for name, arg in values.items()}
        return _parsed(spec.expression).evaluate(numbers), None
    except ExpressionError as e:
        return None, str(e)


def script_calls(spec, values: dict) -> tuple[dict, dict]:
    """(ctx, args) a SCRIPT gets: ThingsBoard's ctx (args, latestTs) and each argument's value."""
    ctx_args, plain = {}, {}
    latest = None
    for name, arg in values.items():
        if arg.rolling:
            ctx_args[name] = plain[name] = args_mod.rolling_value(arg)
            stamps = [ts for ts, _ in arg.points]
        else:
            ctx_args[name], plain[name] = args_mod.single_value(arg), arg.value
            stamps = [arg.ts] if arg.telemetry and arg.ts is not None else []
        if stamps:
            latest = max(latest or 0, *stamps)
    return {"args": ctx_args, "latestTs": latest}, plain


def _shown_arguments(values: dict) -> dict:
    return {name: (args_mod.rolling_value(arg) if arg.rolling else args_mod.single_value(arg))
            for name, arg in values.items()}
