"""Entity views: which keys and times a view shows, and the data it answers.

ThingsBoard keeps the two kinds of data of a view differently, and so does this module:

- Time series are read through: a read on the view is a read on the viewed device or asset,
  limited to the view's time-series keys and clipped to [startTimeMs, endTimeMs] (0 = open).
  ``keys/timeseries`` and latest values without keys answer only the view's listed keys (none
  listed: nothing); history and latest values of named keys take any key when none is listed.
- Attributes are the view's own rows: saving a view copies the listed keys of each scope from
  the viewed entity (those last updated inside the window) and drops the keys no longer listed;
  afterwards the "copy to view" rule node (rulechains/nodes/entity_views.py) keeps them current.

Deleting a view drops its attributes and relations; an entity deleted outside the API (admin,
cascades) takes its views with it. The API refuses to delete a device or an asset that views
still show, as ThingsBoard does ("Can't delete device that has entity views!").
"""

from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver

from devices import relations
from devices.attributes import delete_attributes, get_attributes, save_attributes_many
from devices.models import Asset, Attribute, Device, EntityView
from devices.telemetry import history, latest, timeseries_keys

__all__ = ["SCOPE_KEYS", "VIEWED_TYPES", "timeseries_of", "attributes_of", "in_window", "clip", "copy_attributes",
           "views_of", "views_of_many", "target_is_own", "viewed_keys", "viewed_latest", "viewed_history"]

#: attribute scope -> its list in ``keys.attributes``
SCOPE_KEYS = {"CLIENT_SCOPE": "cs", "SERVER_SCOPE": "ss", "SHARED_SCOPE": "sh"}
#: entity types a view may show, and their models
VIEWED_TYPES = {"DEVICE": Device, "ASSET": Asset}
_FOREVER = 2**63 - 1


def timeseries_of(view: EntityView) -> list[str]:
    keys = (view.keys or {}).get("timeseries")
    return list(keys) if isinstance(keys, list) else []


def attributes_of(view: EntityView, scope: str) -> list[str]:
    groups = (view.keys or {}).get("attributes")
    keys = groups.get(SCOPE_KEYS[scope]) if isinstance(groups, dict) else None
    return list(keys) if isinstance(keys, list) else []


def in_window(view: EntityView, ts: int) -> bool:
    """Whether ``ts`` is strictly inside the view's interval (an open end when 0), as ThingsBoard
    decides which attributes a view copies and when the rule node copies to it."""
    start, end = view.start_time_ms, view.end_time_ms
    return (start == 0 or start < ts) and (end == 0 or ts < end)


def clip(view: EntityView, start_ts: int, end_ts: int) -> tuple[int, int]:
    """A read's [start, end) narrowed to the view's interval."""
    if view.start_time_ms and view.start_time_ms > start_ts:
        start_ts = view.start_time_ms
    if view.end_time_ms and view.end_time_ms < end_ts:
        end_ts = view.end_time_ms
    return start_ts, end_ts


def views_of(tenant_id, entity_id) -> list[EntityView]:
    return views_of_many(tenant_id, [entity_id]).get(entity_id, [])


def views_of_many(tenant_id, entity_ids) -> dict:
    """{viewed entity id: [its views, oldest first]} of the tenant's views of ``entity_ids``, in one
    query; a view whose viewed entity is not its tenant's device or asset is left out."""
    found: dict = {}
    rows = (EntityView.objects.filter(tenant_id=tenant_id, entity_id__in=set(entity_ids)).filter(_own_target())
            .order_by("created_time", "pk"))
    for view in rows:
        view._own_target = True
        found.setdefault(view.entity_id, []).append(view)
    return found


def _own_target() -> Q:
    """Views whose viewed entity is a device or an asset of the view's own tenant."""
    def of(model):
        return Exists(model.objects.filter(pk=OuterRef("entity_id"), tenant_id=OuterRef("tenant_id")))
    return Q(of(Device), entity_type="DEVICE") | Q(of(Asset), entity_type="ASSET")


def target_is_own(view: EntityView) -> bool:
    """Whether the view shows a device or asset of its own tenant. The API checks that when it
    saves a view and the model's clean() when the admin does; a row written around both (a script,
    a shell) must still read nothing of another tenant. Asked once per loaded view."""
    own = getattr(view, "_own_target", None)
    if own is None:
        model = VIEWED_TYPES.get(view.entity_type)
        own = model is not None and model.objects.filter(tenant_id=view.tenant_id, pk=view.entity_id).exists()
        view._own_target = own
    return own


def copy_attributes(view: EntityView, before: EntityView | None = None) -> None:
    """Bring the view's own attributes in line with its keys: drop those no longer listed (or all,
    when it now shows another entity), copy the listed ones the viewed entity updated in the window."""
    rows = []
    for scope in SCOPE_KEYS:
        keys = attributes_of(view, scope)
        if before is not None:
            kept = set(keys) if before.entity_id == view.entity_id else set()
            gone = [k for k in attributes_of(before, scope) if k not in kept]
            if gone:
                delete_attributes(view.pk, scope, gone)
        if keys:
            rows += [(view.pk, scope, a["key"], a["value"], a["lastUpdateTs"])
                     for a in get_attributes(view.entity_id, scope, keys) if in_window(view, a["lastUpdateTs"])]
    if rows:
        save_attributes_many(rows, keep_newer=False, tenant_id=view.tenant_id)


# Reads through a view. Each takes the row TelemetryView.entity() resolved: a device, asset or
# customer is read as it is; an EntityView is read through (its viewed entity, keys and window).

def viewed_keys(entity) -> list[str]:
    """``keys/timeseries``: the listed keys that have a value inside the window."""
    if not isinstance(entity, EntityView):
        return timeseries_keys(entity.pk)
    return sorted(viewed_latest(entity, None))


def viewed_latest(entity, keys) -> dict[str, tuple[int, object]]:
    """{key: (ts, value)} of the newest value per key (inside the window, for a view)."""
    if not isinstance(entity, EntityView):
        return latest(entity.pk, keys)
    if not target_is_own(entity):
        return {}
    listed = timeseries_of(entity)
    if keys is None:
        keys = listed
    elif listed:
        keys = [k for k in keys if k in listed]
    if not keys:
        return {}
    start, end = clip(entity, 0, _FOREVER)
    if start >= end:
        return {}  # a start after the end (ThingsBoard takes one): an empty window
    found = latest(entity.entity_id, keys)
    inside = {k: v for k, v in found.items() if start <= v[0] < end}
    late = [k for k, v in found.items() if v[0] >= end]  # newer than the window: its last point inside, if any
    if late:
        for key, points in history(entity.entity_id, late, start, end, limit=1).items():
            if points:
                inside[key] = points[0]
    return inside


def viewed_history(entity, keys, *, start_ts: int, end_ts: int, **query) -> dict[str, list]:
    """devices.telemetry.history(); for a view: the listed keys only (any when none is listed),
    inside the window."""
    if not isinstance(entity, EntityView):
        return history(entity.pk, keys, start_ts, end_ts, **query)
    if not target_is_own(entity):
        return {}
    listed = timeseries_of(entity)
    keys = [k for k in keys if not listed or k in listed]
    start_ts, end_ts = clip(entity, start_ts, end_ts)
    if not keys or start_ts >= end_ts:
        return {}
    return history(entity.entity_id, keys, start_ts, end_ts, **query)


@receiver(post_delete, sender=EntityView, dispatch_uid="devices.entity_views.deleted")
def _view_deleted(sender, instance: EntityView, **kwargs) -> None:
    Attribute.objects.filter(entity_id=instance.pk).delete()
    relations.delete_all(instance.pk)


@receiver(post_delete, sender=Device, dispatch_uid="devices.entity_views.device_deleted")
@receiver(post_delete, sender=Asset, dispatch_uid="devices.entity_views.asset_deleted")
def _viewed_deleted(sender, instance, **kwargs) -> None:
    # The API refuses first (ThingsBoard's rule); the admin and tenant cascades get here.
    for view in EntityView.objects.filter(tenant_id=instance.tenant_id, entity_id=instance.pk):
        view.delete()
