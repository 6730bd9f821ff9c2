"""The RPC call request node (ThingsBoard's ``TbSendRPCRequestNode``, "RPC Call Request" in its
default root rule chain): an RPC to the message's originator device, which in this product is a
downlink through the integration that serves the device (integrations.downlinks)."""

import json
import uuid

from rulechains.messages import RPC_CALL_FROM_SERVER_TO_DEVICE, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, fail, field

__all__ = ["RpcCallRequestNode", "serving_integrations"]

NOT_A_DEVICE = "Message originator is not a device entity!"
NO_METHOD = "Method is not present in the message!"
NO_PARAMS = "Params are not present in the message!"


def serving_integrations(tenant_id, device_ids) -> dict:
    """``{device id: integration id}`` for the devices an integration serves: the integration each
    was last heard from on a connection (a route: TCP, UDP, TTS), else the tenant's only enabled
    integration with a downlink converter. Devices served by none are left out."""
    from devices.models import Device
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
    relation make it, as an RPC_CALL_FROM_SERVER_TO_DEVICE downlink to its originator device,
    through the integration that serves the device: ``integrationId`` where set (ours, optional),
    else the integration the device was last heard from on a connection, else the tenant's only
    enabled integration with a downlink converter. ``params`` reach the encoder as JSON text, as in
    ThingsBoard. Success once handed to the integration (ThingsBoard waits up to
    ``timeoutInSeconds`` for the device's reply; here delivery is the integration's, one-way);
    Failure when the originator is not a device, ``method`` or ``params`` are missing, no
    integration serves the device or it refuses the downlink."""

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
        metadata = {"requestUUID": str(uuid.uuid4()), "oneway": "true", "persistent": "false",
                    "expirationTime": str(now + self.config["timeoutInSeconds"] * 1000), **msg.metadata}
        return changed(msg, msg_type=RPC_CALL_FROM_SERVER_TO_DEVICE, metadata=metadata, data={
            **data, "params": params if isinstance(params, str) else json.dumps(params, separators=(",", ":"))})

    def process_batch(self, ctx, msgs):
        from integrations import downlinks

        outs, calls = [None] * len(msgs), []
        for i, msg in enumerate(msgs):
            call = self.rpc(msg, ctx.now)
            if isinstance(call, str):
                outs[i] = fail(msg, call)
            else:
                calls.append((i, call))
        fixed = self.config["integrationId"]
        served = {} if fixed else serving_integrations(ctx.tenant_id, {c.originator_id for _, c in calls})
        by_integration: dict = {}
        for i, call in calls:
            integration = fixed or served.get(call.originator_id)
            if integration is None:
                outs[i] = fail(msgs[i], "No integration serves this device: set the node's integrationId, or send "
                                        "through an integration downlink node")
            else:
                by_integration.setdefault(integration, []).append((i, call))
        for integration, group in by_integration.items():
            try:
                downlinks.submit_many(ctx.tenant_id, uuid.UUID(str(integration)), [c for _, c in group])
            except downlinks.DownlinkRefused as e:
                for i, _ in group:
                    outs[i] = fail(msgs[i], str(e) or "The integration refused the downlink")
                continue
            for i, call in group:
                outs[i] = [Out(SUCCESS, call)]
        return outs
