"""ThingsBoard's "copy to view" node (action.TbCopyAttributesToEntityViewNode)."""

from dataclasses import replace

from django.db import DatabaseError, OperationalError, transaction

from devices.attributes import delete_attributes, save_attributes_many
from devices.entity_views import SCOPE_KEYS, attributes_of, in_window, views_of_many
from devices.values import encode
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
        """One query loads the views of every originator of the batch; the saves are written
        together (before each delete, so the batch keeps its order) in one transaction. A message
        that cannot be copied fails alone; a database error fails those that had views to write."""
        outs: list = [None] * len(msgs)
        planned = []
        for i, msg in enumerate(msgs):
            try:
                planned.append((i, msg, _plan(msg)))
            except NodeError as e:
                outs[i] = fail(msg, e)
        views = views_of_many(ctx.tenant_id, {msg.originator_id for _, msg, _ in planned}) if planned else {}
        pending: list[tuple] = []
        try:
            with transaction.atomic():
                for i, msg, (scope, deleted, changes) in planned:
                    try:
                        outs[i] = self.copy(ctx, msg, views.get(msg.originator_id, []), scope, deleted, changes,
                                            pending)
                    except NodeError as e:
                        outs[i] = fail(msg, e)
                _flush(pending, ctx.tenant_id)
        except OperationalError:
            raise
        except (DatabaseError, ValueError) as e:
            error = NodeError(f"{type(e).__name__}: {e}"[:1024])
            for i, msg, _ in planned:
                if outs[i] and outs[i][0].relation == SUCCESS:
                    outs[i] = fail(msg, error)
        return outs

    def copy(self, ctx, msg: Msg, views, scope: str, deleted: bool, changes, pending: list) -> list[Out]:
        """Copies ``msg`` to ``views`` (the originator's): deletes at once, saves added to ``pending``."""
        outs, rows = [], []
        for view in views:
            if not in_window(view, ctx.now):
                continue
            listed = set(attributes_of(view, scope))
            if deleted:
                keys = [k for k in changes if k in listed]
                if not keys:
                    continue
                _flush(pending, ctx.tenant_id)  # an earlier message's save of these keys goes first
                delete_attributes(view.pk, scope, keys)
            else:
                rows += [(view.pk, scope, k, _storable(v), ctx.now) for k, v in changes.items() if k in listed]
            outs.append(Out(SUCCESS, replace(msg, originator_type="ENTITY_VIEW", originator_id=view.pk, stored=False)))
        pending += rows
        return outs


def _plan(msg: Msg) -> tuple[str, bool, object]:
    """(scope, deleted?, values or deleted keys) of a message the node copies; NodeError otherwise."""
    if msg.msg_type not in COPIED_TYPES:
        raise NodeError(f"Unsupported msg type [{msg.msg_type}]")
    if not msg.metadata:
        raise NodeError("Message metadata is empty")
    scope = "CLIENT_SCOPE" if msg.msg_type == POST_ATTRIBUTES_REQUEST else msg.metadata.get("scope")
    if scope not in SCOPE_KEYS:
        raise NodeError(f"Unsupported attribute scope [{scope}]")
    deleted = msg.msg_type == ATTRIBUTES_DELETED
    return scope, deleted, _deleted_keys(msg.data) if deleted else _values(msg.data)


def _storable(value):
    """The value, if an attribute can hold it (else this message fails, not the batch's write)."""
    try:
        encode(value)
    except ValueError as e:
        raise NodeError(f"ValueError: {e}"[:1024]) from None
    return value


def _flush(pending: list, tenant_id) -> None:
    if pending:
        save_attributes_many(pending, keep_newer=False, tenant_id=tenant_id)
        pending.clear()


def _values(data) -> dict:
    if not isinstance(data, dict):
        raise NodeError("Message data must be a JSON object of attribute values")
    return data


def _deleted_keys(data) -> list[str]:
    keys = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(keys, list):
        raise NodeError("ATTRIBUTES_DELETED data must be {\"attributes\": [keys]}")
    return [k for k in keys if isinstance(k, str)]
