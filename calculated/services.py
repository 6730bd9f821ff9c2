"""Saving and deleting calculated fields: the checks ThingsBoard makes, then the process caches forgotten.

    field = save(tenant_id, data)   # data: ThingsBoard's CalculatedField JSON; FieldError (400) or NotFound (404)
    delete(field)

What is checked: the field's entity is the tenant's device, asset, device profile or asset profile
(404 otherwise); its type is SIMPLE or SCRIPT; the configuration (calculated/config.py) with the
tenant profile's limits (calculated/limits.py); every referenced entity is the tenant's device or
asset; a SCRIPT compiles; and no chain of SIMPLE fields loops back (a SCRIPT's output keys are
known only when it runs: its loops stop at compute.MAX_DEPTH).
"""

import uuid

from django.db import transaction
from rest_framework.exceptions import NotFound

from calculated import config, index, scripts
from calculated.choices import ALL_KINDS, FieldEntityType, FieldKind, OutputType
from calculated.limits import limits_of
from calculated.models import CalculatedField
from converters.events import all_enabled_until, cap_all_enabled_until
from devices.models import Asset, AssetProfile, Device, DeviceProfile
from tbproject.clock import now_ms
from tbproject.text import check_json, check_text

__all__ = ["FieldError", "EngineUnavailable", "check", "save", "delete", "entity_of", "MODELS"]

MODELS = {"DEVICE": Device, "ASSET": Asset, "DEVICE_PROFILE": DeviceProfile, "ASSET_PROFILE": AssetProfile}


class FieldError(ValueError):
    """A field that cannot be saved (a 400); the message says why."""


class EngineUnavailable(RuntimeError):
    """The script engine could not start (a 503): the field was not saved."""


def _uuid(value, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise FieldError(f"{what} is not a UUID: {str(value)[:64]}") from None


def entity_of(tenant_id, entity_type, entity_id):
    """The tenant's device, asset or profile; NotFound (404) for any other, another tenant's included."""
    model = MODELS.get(entity_type) if isinstance(entity_type, str) else None
    if model is None:
        raise FieldError(f"A calculated field applies to a {', '.join(MODELS)}, not {str(entity_type)[:32]}")
    found = model.objects.filter(tenant_id=tenant_id, pk=_uuid(entity_id, "entityId.id")).first()
    if found is None:
        raise NotFound(f"{entity_type} with id [{entity_id}] is not found")
    return found


def _entity_id(data: dict) -> tuple[str, uuid.UUID]:
    raw = data.get("entityId")
    if not isinstance(raw, dict) or not isinstance(raw.get("entityType"), str) or not raw.get("id"):
        raise FieldError("entityId must be an object {entityType, id}")
    return raw["entityType"], _uuid(raw["id"], "entityId.id")


def _name(data: dict) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldError("Calculated field name should be specified!")
    if len(name) > 255:
        raise FieldError("Calculated field name is longer than 255 characters")
    try:
        return check_text(name.strip())
    except ValueError as e:
        raise FieldError(f"name: {e}") from None


def _kind(data: dict) -> str:
    kind = data.get("type")
    if kind is None and isinstance(data.get("configuration"), dict):
        kind = data["configuration"].get("type")
    if kind not in ALL_KINDS:
        raise FieldError(f"Calculated field type must be one of {', '.join(ALL_KINDS)}")
    if kind not in FieldKind.values:
        raise FieldError(f"Calculated field type {kind} is not supported here (only SIMPLE and SCRIPT)")
    return kind


def _debug(data: dict, instance) -> tuple[bool, int]:
    settings = data.get("debugSettings")
    now = now_ms()
    if settings is None:
        if data.get("debugMode") is True:
            return True, all_enabled_until(now)
        return (instance.debug_failures_enabled, instance.debug_all_enabled_until) if instance else (False, 0)
    if not isinstance(settings, dict):
        raise FieldError("debugSettings must be a JSON object")
    for key in ("failuresEnabled", "allEnabled"):
        if settings.get(key) is not None and not isinstance(settings[key], bool):
            raise FieldError(f"debugSettings.{key} must be true or false")
    until = settings.get("allEnabledUntil")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
        raise FieldError("debugSettings.allEnabledUntil must be a time in milliseconds")
    until = all_enabled_until(now) if settings.get("allEnabled") else cap_all_enabled_until(until, now)
    return bool(settings.get("failuresEnabled")), until


def _check_references(tenant_id, spec) -> None:
    for argument in spec.arguments.values():
        if argument.ref_entity_id is None:
            continue
        model = MODELS[argument.ref_entity_type]
        if not model.objects.filter(tenant_id=tenant_id, pk=argument.ref_entity_id).exists():
            raise FieldError(f"Argument '{argument.name}': {argument.ref_entity_type} with id "
                             f"[{argument.ref_entity_id}] is not found")


def _check_script(spec) -> None:
    if spec.kind != FieldKind.SCRIPT:
        return
    try:
        error = scripts.check(list(spec.arguments), spec.expression)
    except scripts.EngineError:
        raise EngineUnavailable("The script engine cannot start; the calculated field was not saved") from None
    if error:
        raise FieldError(f"Invalid script: {error}")


def _output_trigger(spec):
    if spec.kind != FieldKind.SIMPLE:
        return None  # a script's output keys are known when it runs
    if spec.output_type == OutputType.TIME_SERIES:
        return ("TS", spec.output_name, None)
    return ("ATTRIBUTE", spec.output_name, spec.output_scope)


def _check_cycle(tenant_id, candidate: index.Field) -> None:
    """FieldError if the candidate's output feeds back to it through SIMPLE fields' outputs."""
    rows = CalculatedField.objects.filter(tenant_id=tenant_id).exclude(pk=candidate.id)
    fields = [candidate]
    for row in rows:
        try:
            spec = config.spec_of(row)
        except ValueError:
            continue
        fields.append(index.Field(row.pk, row.tenant_id, row.name, row.entity_type, row.entity_id, row.version,
                                  spec, False, 0))
    entity_ids = [f.entity_id for f in fields if f.entity_type in (FieldEntityType.DEVICE, FieldEntityType.ASSET)]
    profiles = dict(Device.objects.filter(pk__in=entity_ids).values_list("pk", "profile_id"))
    profiles.update(Asset.objects.filter(pk__in=entity_ids).values_list("pk", "profile_id"))

    def overlap(a, b) -> bool:  # an entity a writes to that b is computed for
        return a.entity_id == b.entity_id or profiles.get(a.entity_id, 0) == b.entity_id \
            or profiles.get(b.entity_id, 0) == a.entity_id

    def feeds(a, b) -> bool:
        trigger = _output_trigger(a.spec)
        if trigger is None:
            return False
        for argument in b.spec.arguments.values():
            if index.trigger_of(argument) != trigger:
                continue
            if argument.ref_entity_id is None and overlap(a, b):
                return True
            if argument.ref_entity_id is not None and argument.ref_entity_id == a.entity_id:
                return True
        return False

    path, seen = [candidate], set()

    def visit(node) -> bool:
        for nxt in fields:
            if not feeds(node, nxt):
                continue
            if nxt is candidate:
                return True
            if nxt.id not in seen:
                seen.add(nxt.id)
                path.append(nxt)
                if visit(nxt):
                    return True
                path.pop()
        return False

    if visit(candidate):
        chain = " -> ".join(f"'{f.name}'" for f in [*path, candidate])
        raise FieldError(f"Calculated fields would form a cycle: {chain}")


def _prepare(tenant_id, data) -> dict:
    """Every check but the entity's field count and cycles; the values to store."""
    if not isinstance(data, dict):
        raise FieldError("Request body must be a JSON object")
    try:
        check_json(data)  # what is stored whole (additionalInfo, configuration's unknown keys) included
    except ValueError as e:
        raise FieldError(f"Request body: {e}") from None
    raw_id = data.get("id")
    instance = None
    if raw_id:
        pk = raw_id.get("id") if isinstance(raw_id, dict) else raw_id
        instance = CalculatedField.objects.filter(tenant_id=tenant_id, pk=_uuid(pk, "id")).first()
        if instance is None:
            raise NotFound(f"Calculated field with id [{pk}] is not found")
    name, kind = _name(data), _kind(data)
    entity_type, entity_id = _entity_id(data)
    entity_of(tenant_id, entity_type, entity_id)
    limits = limits_of(tenant_id)
    try:
        spec = config.check_configuration(kind, data.get("configuration"), max_arguments=limits.arguments_per_field,
                                          max_points=limits.points_per_rolling_argument)
    except config.ConfigError as e:
        raise FieldError(str(e)) from None
    _check_references(tenant_id, spec)
    _check_script(spec)
    additional = data.get("additionalInfo")
    if additional is not None and not isinstance(additional, dict):
        raise FieldError("additionalInfo must be a JSON object")
    return {"instance": instance, "name": name, "kind": kind, "entity_type": entity_type, "entity_id": entity_id,
            "spec": spec, "limits": limits, "debug": _debug(data, instance), "additional": additional}


def _check_count_and_cycle(tenant_id, p: dict, field: CalculatedField, *, lock: bool) -> None:
    others = CalculatedField.objects.filter(tenant_id=tenant_id, entity_id=p["entity_id"])
    if lock:
        others = others.select_for_update()
    if p["instance"] is not None:
        others = others.exclude(pk=p["instance"].pk)
    most = p["limits"].fields_per_entity
    if most and len(others) >= most:
        raise FieldError(f"The entity has the most calculated fields its tenant profile allows "
                         f"({most}, maxCalculatedFieldsPerEntity)")
    _check_cycle(tenant_id, index.Field(field.pk, tenant_id, p["name"], p["entity_type"], p["entity_id"],
                                        field.version, p["spec"], False, 0))


def check(tenant_id, data) -> None:
    """What :func:`save` checks, without saving (the admin's form)."""
    p = _prepare(tenant_id, data)
    _check_count_and_cycle(tenant_id, p, p["instance"] or CalculatedField(tenant_id=tenant_id), lock=False)


def save(tenant_id, data) -> CalculatedField:
    """Create or update (``id`` in the body) a field from ThingsBoard's JSON."""
    p = _prepare(tenant_id, data)
    instance = p["instance"]
    field = instance or CalculatedField(tenant_id=tenant_id)
    with transaction.atomic():
        _check_count_and_cycle(tenant_id, p, field, lock=True)
        field.name, field.kind, field.entity_type, field.entity_id = p["name"], p["kind"], p["entity_type"], \
            p["entity_id"]
        field.configuration = {**data["configuration"], "type": p["kind"]}
        field.configuration_version = _version(data.get("configurationVersion"), field.configuration_version)
        field.debug_failures_enabled, field.debug_all_enabled_until = p["debug"]
        if p["additional"] is not None:
            field.additional_info = p["additional"]
        field.save()  # an update raises the version (TenantScopedModel.save)
        index.forget()
    return field


def _version(value, current: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    return current


def delete(field: CalculatedField) -> None:
    with transaction.atomic():
        field.delete()
        index.forget()
