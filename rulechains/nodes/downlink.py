"""The integration downlink node: hands messages to an integration's downlink path."""

import uuid

from integrations.models import Integration
from rulechains.messages import SUCCESS
from rulechains.nodes.base import BaseNode, ConfigError, Out, fail

__all__ = ["IntegrationDownlinkNode"]


class IntegrationDownlinkNode(BaseNode):
    """``{"integrationId": "<uuid>"}``: pushes each whole message to that integration, which runs
    its downlink converter and sends the result (integrations.downlinks). Success means handed over,
    not delivered (ThingsBoard's semantics). Failure, with the reason, when the integration is
    missing or another tenant's, disabled, has no downlink converter, or refuses the message."""

    label = "integration downlink"

    @classmethod
    def clean_config(cls, configuration):
        raw = configuration.get("integrationId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        try:
            integration_id = uuid.UUID(str(raw))
        except (TypeError, ValueError):
            raise ConfigError(f"integrationId must be an integration's UUID, got {str(raw)[:64]!r}") from None
        return {**configuration, "integrationId": str(integration_id)}

    def refusal(self, ctx) -> str | None:
        """Why no message can go to the integration, checked once per batch (None: it can)."""
        integration_id = self.config["integrationId"]
        integration = Integration.objects.filter(tenant_id=ctx.tenant_id, pk=integration_id).first()
        if integration is None:
            return f"Integration with id [{integration_id}] is not found"
        if not integration.enabled:
            return f"Integration '{integration.name}' is disabled"
        if integration.downlink_converter_id is None:
            return f"Integration '{integration.name}' has no downlink converter"
        return None

    def process_batch(self, ctx, msgs):
        refusal = self.refusal(ctx)
        if refusal is not None:
            return [fail(msg, refusal) for msg in msgs]
        try:
            from integrations import downlinks as downlink
        except ImportError:
            return [fail(msg, "Downlink delivery is not available in this version") for msg in msgs]
        outs = []
        for msg in msgs:
            try:
                downlink.submit(ctx.tenant_id, uuid.UUID(self.config["integrationId"]), msg)
            except downlink.DownlinkRefused as e:
                outs.append(fail(msg, str(e) or "The integration refused the downlink"))
            else:
                outs.append([Out(SUCCESS, msg)])
        return outs
