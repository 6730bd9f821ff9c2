"""The integration downlink node: hands messages to an integration's downlink path."""

import uuid

from rulechains.messages import SUCCESS
from rulechains.nodes.base import BaseNode, ConfigError, Out, fail, field

__all__ = ["IntegrationDownlinkNode"]


class IntegrationDownlinkNode(BaseNode):
    """``{"integrationId": "<uuid>"}``: pushes each whole message to that integration, which runs
    its downlink converter and sends the result (integrations.downlinks). Success means handed over,
    not delivered (ThingsBoard's semantics). Failure, with the reason, when the integration is
    missing or another tenant's, disabled, has no downlink converter, or refuses the message (the
    integration is loaded once per batch, and kept for PIPELINE_CACHE_SECONDS: integrations.downlinks)."""

    label = "integration downlink"
    group = "ACTION"
    side_effects = True
    defaults = {"integrationId": None}
    fields = (field("integrationId", "text", "Integration id", help="the integration's UUID"),)

    @classmethod
    def clean_config(cls, configuration):
        raw = configuration.get("integrationId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        try:
            integration_id = uuid.UUID(str(raw))
        except (TypeError, ValueError):
            raise ConfigError(f"integrationId must be an integration's UUID, got {str(raw)[:64]!r}") from None
        return {**configuration, "integrationId": str(integration_id)}

    def process_batch(self, ctx, msgs):
        """The whole batch goes to the downlink path at once (one INSERT, one encoder run per
        converter); a refusal fails every message of it."""
        try:
            from integrations import downlinks as downlink
        except ImportError:
            return [fail(msg, "Downlink delivery is not available in this version") for msg in msgs]
        try:
            downlink.submit_many(ctx.tenant_id, uuid.UUID(self.config["integrationId"]), msgs)
        except downlink.DownlinkRefused as e:
            return [fail(msg, str(e) or "The integration refused the downlink") for msg in msgs]
        return [[Out(SUCCESS, msg)] for msg in msgs]
