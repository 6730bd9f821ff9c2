"""ThingsBoard's "delete attributes" node (telemetry.TbMsgDeleteAttributesNode)."""

from django.db import DatabaseError, OperationalError, transaction

from devices.attributes import delete_attributes
from devices.choices import AttributeScope
from rulechains.messages import SUCCESS, Msg
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, bool_option, fail, field, substitute

__all__ = ["DeleteAttributesNode", "ATTRIBUTES_DELETED"]

ATTRIBUTES_DELETED = "ATTRIBUTES_DELETED"
_ENTITY_NOUNS = {"DEVICE": "Device", "ASSET": "Asset", "CUSTOMER": "Customer"}


class DeleteAttributesNode(BaseNode):
    """Deletes the originator's attributes named by ``keys`` (each a ``${metadataKey}`` /
    ``$[dataKey]`` pattern; blank results are skipped; none left: Success at once) in ``scope``,
    or in the scope the message's ``scope`` metadata names. Keys it does not have are ignored.
    The deletion is the one DELETE .../attributes/{scope}?keys= does (devices.attributes).

    ``sendAttributesDeletedNotification`` also queues ThingsBoard's ATTRIBUTES_DELETED message
    (data ``{"attributes": [keys]}``, metadata ``scope``) for the originator's root chain, once the
    deletion is committed. ``notifyDevice`` (shared scope only in ThingsBoard) is accepted: devices
    here learn of attributes through downlinks, which rule chains send."""

    label = "delete attributes"
    group = "ACTION"
    side_effects = True
    defaults = {"scope": "SERVER_SCOPE", "keys": [], "sendAttributesDeletedNotification": False,
                "notifyDevice": False}
    fields = (field("scope", "select", "Scope", choices=AttributeScope.values,
                    help="the message's 'scope' metadata wins when set"),
              field("keys", "list", "Attribute keys", help="${metadataKey}, $[dataKey]"),
              field("sendAttributesDeletedNotification", "bool", "Send attributes deleted notification"),
              field("notifyDevice", "bool", "Force notification to the device"))

    @classmethod
    def clean_config(cls, configuration):
        scope = configuration.get("scope") or AttributeScope.SERVER_SCOPE
        if scope not in AttributeScope.values:
            raise ConfigError(f"scope must be one of {', '.join(AttributeScope.values)}, got {str(scope)[:40]!r}")
        keys = configuration.get("keys")
        keys = [] if keys is None else keys
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError("keys must be a list of attribute keys (texts, ${metadataKey} / $[dataKey] patterns)")
        return {**configuration, "scope": scope, "keys": keys,
                "sendAttributesDeletedNotification": bool_option(configuration, "sendAttributesDeletedNotification"),
                "notifyDevice": bool_option(configuration, "notifyDevice")}

    def process_batch(self, ctx, msgs):
        owned = ctx.originators(msgs)
        outs, notices = [], []
        for msg in msgs:
            try:
                outs.append(self.delete(ctx, msg, owned.get(msg.originator_id), notices))
            except NodeError as e:
                outs.append(fail(msg, e))
        if notices:
            transaction.on_commit(lambda: _submit(notices))
        return outs

    def delete(self, ctx, msg, entity, notices: list) -> list[Out]:
        keys = [k for k in dict.fromkeys(substitute(p, msg) for p in self.config["keys"]) if k.strip()]
        if not keys:
            return [Out(SUCCESS, msg)]
        scope = msg.metadata.get("scope") or self.config["scope"]
        if scope not in AttributeScope.values:
            raise NodeError(f"No enum constant org.thingsboard.server.common.data.AttributeScope.{scope}")
        if not self.owned(ctx, msg, entity):
            noun = _ENTITY_NOUNS.get(msg.originator_type, msg.originator_type)
            raise NodeError(f"{noun} with id [{msg.originator_id}] is not found")
        try:
            with transaction.atomic():
                delete_attributes(msg.originator_id, scope, keys)
        except OperationalError:
            raise
        except DatabaseError as e:
            raise NodeError(f"{type(e).__name__}: {e}"[:1024]) from None
        if self.config["sendAttributesDeletedNotification"]:
            notices.append(Msg(ATTRIBUTES_DELETED, ctx.tenant_id, msg.originator_type, msg.originator_id,
                               {"attributes": keys}, {"scope": scope}))
        return [Out(SUCCESS, msg)]

    @staticmethod
    def owned(ctx, msg, entity) -> bool:
        """Whether the originator is this tenant's: attributes are keyed by entity id alone, so an
        id of another tenant's entity must not reach the deletion."""
        if msg.originator_type == "TENANT":
            return msg.originator_id == ctx.tenant_id
        return entity is not None


def _submit(notices: list) -> None:
    from rulechains import services  # imported late: services import the engine's tasks

    services.submit(notices)
