"""ThingsBoard's "copy to view" node (action.TbCopyAttributesToEntityViewNode)."""

from dataclasses import replace

from django.db import DatabaseError, OperationalError, transaction

from devices.attributes import delete_attributes, save_attributes_many
from devices.entity_views import SCOPE_KEYS, attributes_of, in_window, views_of
from rulechains.messages import ATTRIBUTES_UPDATED, POST_ATTRIBUTES_REQUEST, SUCCESS, Msg
from rulechains.nodes.attribute_deletes import ATTRIBUTES_DELETED
from rulechains.nodes.base import BaseNode, NodeError, Out, fail

__all__ = ["CopyToEntityViewNode", "COPIED_TYPES"]

#: the message types the node copies; any other leaves by Failure
COPIED_TYPES = (ATTRIBUTES_UPDATED, ATTRIBUTES_DELETED, "ACTIVITY_EVENT", "INACTIVITY_EVENT", POST_ATTRIBUTES_REQUEST)


class CopyToEntityViewNode(BaseNode):
    """Replicates the originator's attribute changes onto its entity views.

    For each view of the originator whose interval holds the current time, the keys the view
    lists for the scope (CLIENT_SCOPE for POST_ATTRIBUTES_REQUEST, else the ``scope`` metadata)
    are saved on the view, or deleted from it for ATTRIBUTES_DELETED (data ``{"attributes":
    [keys]}``; a view none of whose keys are deleted is skipped). Each view touched gets a copy
    of the message, the view as its originator, by Success; the original message goes no further.
    Other message types, and empty metadata, leave by Failure. No configuration."""

    label = "copy to view"
    group = "ACTION"
    side_effects = True
    defaults: dict = {}

    def process_batch(self, ctx, msgs):
        outs = []
        for msg in msgs:
            try:
                outs.append(self.copy(ctx, msg))
            except NodeError as e:
                outs.append(fail(msg, e))
        return outs

    def copy(self, ctx, msg: Msg) -> list[Out]:
        if msg.msg_type not in COPIED_TYPES:
            raise NodeError(f"Unsupported msg type [{msg.msg_type}]")
        if not msg.metadata:
            raise NodeError("Message metadata is empty")
        scope = "CLIENT_SCOPE" if msg.msg_type == POST_ATTRIBUTES_REQUEST else msg.metadata.get("scope")
        if scope not in SCOPE_KEYS:
            raise NodeError(f"Unsupported attribute scope [{scope}]")
        deleted = msg.msg_type == ATTRIBUTES_DELETED
        changes = _deleted_keys(msg.data) if deleted else _values(msg.data)
        outs = []
        try:
            with transaction.atomic():
                for view in views_of(ctx.tenant_id, msg.originator_id):
                    if not in_window(view, ctx.now):
                        continue
                    listed = set(attributes_of(view, scope))
                    if deleted:
                        keys = [k for k in changes if k in listed]
                        if not keys:
                            continue
                        delete_attributes(view.pk, scope, keys)
                    else:
                        save_attributes_many([(view.pk, scope, k, v, ctx.now) for k, v in changes.items()
                                              if k in listed], keep_newer=False)
                    outs.append(Out(SUCCESS, replace(msg, originator_type="ENTITY_VIEW", originator_id=view.pk,
                                                     stored=False)))
        except OperationalError:
            raise
        except (DatabaseError, ValueError) as e:
            raise NodeError(f"{type(e).__name__}: {e}"[:1024]) from None
        return outs


def _values(data) -> dict:
    if not isinstance(data, dict):
        raise NodeError("Message data must be a JSON object of attribute values")
    return data


def _deleted_keys(data) -> list[str]:
    keys = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(keys, list):
        raise NodeError("ATTRIBUTES_DELETED data must be {\"attributes\": [keys]}")
    return [k for k in keys if isinstance(k, str)]
