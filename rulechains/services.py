"""Rule-chain workflows: queueing messages, the root chain, and the messages the API produces.

    submit([Msg, ...])                       # ONE Celery task for the batch (rulechains.tasks)
    attributes_updated(entity, scope, values)  # ATTRIBUTES_UPDATED, after an API attribute save
    rpc_to_device(device, method, params)    # RPC_CALL_FROM_SERVER_TO_DEVICE (one-way RPC)
    device_moved(device, old_tenant_id, new_tenant, user)  # ENTITY_ASSIGNED_TO_TENANT / _FROM_TENANT

The two API producers make one message per request: they go through rulechains.outbox, which
queues the messages of concurrent requests as one task.
    create_root_chain(tenant)  set_root(chain)  import_chain(tenant, data)
"""

import json
import logging
import uuid

from django.db import transaction

from rulechains import messages as m
from rulechains.defaults import ROOT_CHAIN
from rulechains.metadata import save_metadata
from rulechains.models import RuleChain
from tbproject.clock import now_ms

__all__ = ["submit", "attributes_updated", "rpc_to_device", "device_moved", "params_text_of", "create_root_chain",
           "set_root", "create_chain", "RPC_DEFAULT_TIMEOUT_MS"]

log = logging.getLogger(__name__)

RPC_DEFAULT_TIMEOUT_MS = 10_000


def _payload(messages: list) -> list[dict]:
    """The encoded messages; one whose data JSON cannot carry is logged and left out."""
    payload = []
    for msg in messages:
        try:
            payload.append(m.encode(msg))
        except (TypeError, ValueError) as e:
            log.warning("rule engine: %s message of %s %s dropped: %s", msg.msg_type, msg.originator_type,
                        msg.originator_id, e)
    return payload


def submit(messages: list) -> None:
    """Queue a batch of messages for the rule engine as one task (what JSON cannot carry is left out)."""
    payload = _payload(messages)
    if payload:
        from rulechains.tasks import process_messages  # imported late: tasks import the engine

        process_messages.delay(payload)


def _queue_from_request(msg) -> None:
    payload = _payload([msg])
    if payload:
        from rulechains import outbox

        outbox.queue(payload)


def _entity_metadata(entity) -> dict:
    kind = getattr(entity, "entity_type", None) or type(entity).__name__.upper()
    if kind in ("DEVICE", "ASSET"):
        prefix = kind.lower()
        return {f"{prefix}Name": entity.name, f"{prefix}Type": entity.type}
    return {}


def _kind(entity) -> str:
    return getattr(entity, "entity_type", None) or type(entity).__name__.upper()


def attributes_updated(entity, scope: str, values: dict) -> None:
    """ThingsBoard's ATTRIBUTES_UPDATED for attributes saved through the API: data = the saved
    ``{key: value}``, metadata ``scope`` and the entity's name and type. Never raises (the
    attributes are saved already)."""
    try:
        metadata = {"scope": scope, **_entity_metadata(entity)}
        _queue_from_request(m.Msg(m.ATTRIBUTES_UPDATED, entity.tenant_id, _kind(entity), entity.pk, dict(values),
                                  metadata))
    except Exception:
        log.exception("rule engine: ATTRIBUTES_UPDATED of %s %s not queued", _kind(entity), entity.pk)


def device_moved(device, old_tenant_id, new_tenant, user=None) -> None:
    """A device handed to another tenant, as ThingsBoard tells both rule engines: ENTITY_ASSIGNED_TO_TENANT to the
    old tenant's (metadata assignedToTenantId/Name, the acting user's userId/userName) and
    ENTITY_ASSIGNED_FROM_TENANT to the new tenant's (assignedFromTenantId/Name); data: the Device JSON. Never
    raises (the device has moved already)."""
    from devices.api.serializers import DeviceSerializer
    from tenants.models import Tenant

    try:
        data = dict(DeviceSerializer(device).data)
        old_name = Tenant.objects.filter(pk=old_tenant_id).values_list("title", flat=True).first() or ""
        acting = {"userId": str(user.pk), "userName": user.email} if getattr(user, "pk", None) else {}
        entity = _entity_metadata(device)
        _queue_from_request(m.Msg(m.ENTITY_ASSIGNED_TO_TENANT, old_tenant_id, "DEVICE", device.pk, data, {
            **entity, **acting, "assignedToTenantId": str(new_tenant.pk), "assignedToTenantName": new_tenant.title}))
        _queue_from_request(m.Msg(m.ENTITY_ASSIGNED_FROM_TENANT, new_tenant.pk, "DEVICE", device.pk, data, {
            **entity, "assignedFromTenantId": str(old_tenant_id), "assignedFromTenantName": old_name}))
    except Exception:
        log.exception("rule engine: the move of DEVICE %s to tenant %s not queued", device.pk, new_tenant.pk)


def params_text_of(params) -> str:
    """RPC params as ThingsBoard keeps them: JSON text (a string stays as it is)."""
    return params if isinstance(params, str) else json.dumps(params, separators=(",", ":"))


def rpc_to_device(device, method: str, params, *, timeout_ms: int = RPC_DEFAULT_TIMEOUT_MS,
                  expiration_time: int | None = None, oneway: bool = True, additional_info=None,
                  request_id: str | None = None, persistent: bool = False) -> str:
    """RPC_CALL_FROM_SERVER_TO_DEVICE with data ``{"method", "params"}`` (params as JSON text, as
    ThingsBoard hands it to downlink converters) and ThingsBoard's RPC metadata; returns the
    request id (``request_id`` when given: a persistent call's rpcId, a two-way call's awaited
    reply). Raises only when the message cannot be queued."""
    request_id = request_id or str(uuid.uuid4())
    params_text = params_text_of(params)
    expiration = expiration_time if expiration_time is not None else now_ms() + timeout_ms
    metadata = {"requestUUID": request_id, "expirationTime": str(expiration), "oneway": str(oneway).lower(),
                "persistent": str(persistent).lower(), **_entity_metadata(device)}
    if additional_info is not None:
        metadata["additionalInfo"] = additional_info
    _queue_from_request(m.Msg(m.RPC_CALL_FROM_SERVER_TO_DEVICE, device.tenant_id, "DEVICE", device.pk,
                              {"method": method, "params": params_text}, metadata))
    return request_id


def create_chain(tenant_id, data: dict, *, check: bool = True, root: bool = False) -> RuleChain:
    """A chain from ThingsBoard's export ``{ruleChain, metadata}`` (all or nothing)."""
    info = data.get("ruleChain") or {}
    with transaction.atomic():
        chain = RuleChain.objects.create(
            tenant_id=tenant_id, name=str(info.get("name") or "Rule chain")[:255], root=root,
            type=info.get("type") if info.get("type") in ("CORE", "EDGE") else "CORE",
            debug_mode=bool(info.get("debugMode")), configuration=info.get("configuration"),
            additional_info=info.get("additionalInfo") if isinstance(info.get("additionalInfo"), dict) else {})
        save_metadata(chain, data.get("metadata") or {}, check=check, new=True)
    return chain


def create_root_chain(tenant) -> RuleChain | None:
    """The default root chain (rulechains.defaults) for a tenant that has no root chain yet."""
    if RuleChain.objects.filter(tenant_id=tenant.pk, root=True).exists():
        return None
    # The built-in scripts are known to compile: no need to start the script engine here.
    return create_chain(tenant.pk, ROOT_CHAIN, check=False, root=True)


def set_root(chain: RuleChain) -> RuleChain:
    """Make ``chain`` its tenant's root chain (the previous root stops being one)."""
    with transaction.atomic():
        RuleChain.objects.filter(tenant_id=chain.tenant_id, root=True).exclude(pk=chain.pk).update(root=False)
        if not chain.root:
            chain.root = True
            chain.save()
    return chain
