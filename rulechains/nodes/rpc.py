"""The RPC call request node (ThingsBoard's ``TbSendRPCRequestNode``, "RPC Call Request" in its
default root rule chain): an RPC to the message's originator device, delivered one way only. A
device an integration serves gets it as a downlink through that integration (integrations.downlinks);
any other device gets it on its HTTP long poll (``GET /api/v1/{token}/rpc``, rulechains/rpc_calls.py)."""

import json
import uuid

from devices.models import Device
from rulechains.messages import RPC_CALL_FROM_SERVER_TO_DEVICE, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, fail, field
from rulechains.rpc_calls import MAX_AHEAD_MS, Call, record_many
from rulechains.rpc_models import Rpc, RpcStatus
from tbproject.text import check_json

__all__ = ["RpcCallRequestNode", "serving_integrations"]

NOT_A_DEVICE = "Message originator is not a device entity!"
NO_METHOD = "Method is not present in the message!"
NO_PARAMS = "Params are not present in the message!"
UNSTORABLE = "RPC request cannot be kept: {}"
ID_IN_USE = "RPC request id [{}] is in use"


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def serving_integrations(tenant_id, device_ids) -> dict:
    """``{device id: integration id}`` for the devices an integration serves: the integration each
    was last heard from on a connection (a route: TCP, UDP, TTS), else the tenant's only enabled
    integration with a downlink converter. Devices served by none are left out."""
    from integrations.models import DeviceRoute, Integration

    names = dict(Device.objects.filter(tenant_id=tenant_id, pk__in=device_ids).values_list("pk", "name"))
    routes = dict(DeviceRoute.objects.filter(integration__tenant_id=tenant_id, device_name__in=names.values())
                  .order_by("updated_ts").values_list("device_name", "integration_id"))  # the latest wins
    only = list(Integration.objects.filter(tenant_id=tenant_id, enabled=True, downlink_converter__isnull=False)
                .values_list("pk", flat=True)[:2])
    fallback = only[0] if len(only) == 1 else None
    served = {pk: routes.get(name, fallback) for pk, name in names.items()}
    return {pk: integration for pk, integration in served.items() if integration is not None}


class RpcCallRequestNode(BaseNode):
    """Sends each message, ``{"method", "params"}`` as the RPC API and the "RPC Request to Device"
    relation make it, as an RPC_CALL_FROM_SERVER_TO_DEVICE to its originator device, by one way
    only. A device an integration serves gets it as a downlink through that integration:
    ``integrationId`` where set (ours, optional), else the integration the device was last heard
    from on a connection, else the tenant's only enabled integration with a downlink converter; a
    persistent call's row then reads SENT, and no poll takes it. Any other device gets it on its
    HTTP long poll: the call is kept (QUEUED) until a poll takes it or it expires (rows of a batch in
one INSERT: rulechains.rpc_calls.record_many). ``params`` reach
    the encoder and the device as JSON text, as in ThingsBoard. Success once kept or handed to the
    integration;
    a device's reply to a two-way call answers the REST call that made it (ThingsBoard's node waits
    up to ``timeoutInSeconds`` for it; here the call expires then: ``expirationTime`` is the
    metadata's, else now plus the timeout; never more than a year ahead). Failure when the
    originator is not a device, ``method`` or ``params`` are missing, the request holds text no
    database can keep (a NUL character), or the integration refuses the downlink."""

    label = "rpc call request"
    group = "ACTION"
    side_effects = True
    defaults = {"timeoutInSeconds": 60}
    fields = (field("timeoutInSeconds", "number", "Timeout in seconds"),
              field("integrationId", "text", "Integration id",
                    help="optional: the integration to send through (by default the one that serves the device)"))

    @classmethod
    def clean_config(cls, configuration):
        timeout = configuration.get("timeoutInSeconds", 60)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
            raise ConfigError("timeoutInSeconds must be a non-negative integer")
        raw = configuration.get("integrationId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        if raw in (None, ""):
            return {**configuration, "timeoutInSeconds": timeout, "integrationId": None}
        try:
            return {**configuration, "timeoutInSeconds": timeout, "integrationId": str(uuid.UUID(str(raw)))}
        except (TypeError, ValueError):
            raise ConfigError(f"integrationId must be an integration's UUID, got {str(raw)[:64]!r}") from None

    def rpc(self, msg, now: int):
        """The downlink message of ``msg``, or the reason it cannot be one."""
        if msg.originator_type != "DEVICE":
            return NOT_A_DEVICE
        data = msg.data
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = None
        if not isinstance(data, dict) or data.get("method") in (None, ""):
            return NO_METHOD
        if "params" not in data:
            return NO_PARAMS
        params = data["params"]
        if not _is_uuid(msg.metadata.get("requestUUID")):  # made by a script: the call needs an id of its own
            msg = changed(msg, metadata={**msg.metadata, "requestUUID": str(uuid.uuid4())})
        metadata = {"requestUUID": str(uuid.uuid4()), "oneway": "true", "persistent": "false",
                    "expirationTime": str(now + min(self.config["timeoutInSeconds"] * 1000, MAX_AHEAD_MS)),
                    **msg.metadata}
        data = {**data, "params": params if isinstance(params, str) else json.dumps(params, separators=(",", ":"))}
        try:
            check_json(data)
        except ValueError as e:
            return UNSTORABLE.format(e)
        return changed(msg, msg_type=RPC_CALL_FROM_SERVER_TO_DEVICE, metadata=metadata, data=data)

    def process_batch(self, ctx, msgs):
        from integrations import downlinks

        outs, calls = [None] * len(msgs), []
        for i, msg in enumerate(msgs):
            call = self.rpc(msg, ctx.now)
            if isinstance(call, str):
                outs[i] = fail(msg, call)
            else:
                calls.append((i, call))
        known = set(Device.objects.filter(tenant_id=ctx.tenant_id, pk__in={c.originator_id for _, c in calls})
                    .values_list("pk", flat=True))
        for i, call in calls:
            if call.originator_id not in known:
                outs[i] = fail(msgs[i], f"Device with id [{call.originator_id}] is not found")
        calls = [(i, c) for i, c in calls if c.originator_id in known]
        fixed = self.config["integrationId"]
        served = {} if fixed else serving_integrations(ctx.tenant_id, {c.originator_id for _, c in calls})
        through = {i: fixed or served.get(call.originator_id) for i, call in calls}
        # a row for the device's HTTP long poll (QUEUED), or for a persistent call sent through an integration
        kept = {i: kept_row(call, ctx.now, RpcStatus.QUEUED if through[i] is None else RpcStatus.SENT)
                for i, call in calls if through[i] is None or call.metadata.get("persistent") == "true"}
        statuses = record_many(ctx.tenant_id, list(kept.values()))
        by_integration: dict = {}
        for i, call in calls:
            row = kept.get(i)
            status = statuses[row.request_uuid] if row is not None else None
            if row is not None and status is None:
                outs[i] = fail(msgs[i], ID_IN_USE.format(row.request_uuid))
            elif through[i] is None or (row is not None and status != RpcStatus.SENT):
                outs[i] = [Out(SUCCESS, call)]  # kept for the poll, or a poll took it first (the API saved it)
            else:
                by_integration.setdefault(through[i], []).append((i, call))
        for integration, group in by_integration.items():
            try:
                downlinks.submit_many(ctx.tenant_id, uuid.UUID(str(integration)), [c for _, c in group])
            except downlinks.DownlinkRefused as e:
                Rpc.objects.filter(tenant_id=ctx.tenant_id, pk__in=[c.metadata["requestUUID"] for _, c in group],
                                   status=RpcStatus.SENT).update(status=RpcStatus.FAILED)
                for i, _ in group:
                    outs[i] = fail(msgs[i], str(e) or "The integration refused the downlink")
                continue
            for i, call in group:
                outs[i] = [Out(SUCCESS, call)]
        return outs


def kept_row(call, now: int, status) -> Call:
    """The call's row for rulechains.rpc_calls.record_many: QUEUED for the device's long poll, or
    SENT (a persistent call handed to an integration). Its expirationTime is the metadata's (a
    script may set any), at most a year ahead; a minute ahead when it is not a number."""
    meta = call.metadata
    expiration = str(meta.get("expirationTime", ""))
    latest = now + MAX_AHEAD_MS
    if not (expiration.isascii() and expiration.isdigit()):
        expiration_time = now + 60_000
    else:  # more digits than a year ahead has: int() of thousands of them would raise
        expiration_time = min(int(expiration), latest) if len(expiration) <= len(str(latest)) else latest
    return Call(call.originator_id, meta["requestUUID"], dict(call.data), oneway=meta.get("oneway") != "false",
                persistent=meta.get("persistent") == "true", status=status, expiration_time=expiration_time)
