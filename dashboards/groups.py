"""Dashboards in ThingsBoard PE's entity groups of type DASHBOARD.

Membership is ``Dashboard.groups`` (devices/ serves the generic group endpoints through
devices/group_types.py); here is what only dashboards do with groups: join the groups a save names
(``?entityGroupId=``, ``?entityGroupIds=``), and export or import a group's dashboards.

Import (``POST /api/entityGroup/{id}/dashboards/import``) creates each dashboard of the list in the
group; with ``overwrite=true`` a dashboard of the group with the same title is updated instead (the
oldest, when titles repeat). All or nothing.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError

from dashboards.models import Dashboard
from devices.api.lookups import resolve_groups
from devices.choices import GroupType
from devices.models import EntityGroup
from tbproject.api.ids import parse_id_list, parse_uuid

__all__ = ["groups_named", "dashboard_group", "export", "import_into"]

#: a cap on one export, whatever ``limit`` asks
MAX_EXPORT = 1000
_FIELDS = ("title", "image", "mobile_hide", "mobile_order", "external_id")


def groups_named(tenant, params) -> list[EntityGroup]:
    """The tenant's DASHBOARD groups a save names in ``entityGroupId`` (repeatable) and ``entityGroupIds``
    (comma-separated): another tenant's or an unknown id is a 404, a group of another type a 400."""
    ids = params.getlist("entityGroupId") + [str(i) for i in parse_id_list(params, "entityGroupIds", required=False)]
    ids = [i for i in ids if i.strip()]
    return resolve_groups(tenant, GroupType.DASHBOARD, ids) if ids else []


def dashboard_group(user, raw_id) -> EntityGroup:
    """The user's tenant's group with this id (else 404), which must hold dashboards (else 400)."""
    group = get_object_or_404(EntityGroup.objects.for_user(user), pk=parse_uuid(raw_id))
    if group.type != GroupType.DASHBOARD:
        raise ValidationError(f"Entity group [{group.name}] holds {group.type} entities, not DASHBOARD")
    return group


def export(group: EntityGroup, raw_limit) -> list[Dashboard]:
    """Up to ``limit`` of the group's dashboards, by title."""
    try:
        limit = int(raw_limit)
    except (TypeError, ValueError):
        raise ValidationError("Required request parameter 'limit' must be a positive integer") from None
    if limit < 1:
        raise ValidationError("Parameter 'limit' must be >= 1")
    rows = group.dashboards.select_related("tenant").prefetch_related("assigned_customers")
    return list(rows.order_by("title", "created_time", "pk")[:min(limit, MAX_EXPORT)])


def import_into(group: EntityGroup, items: list[dict], overwrite: bool) -> list[Dashboard]:
    """Save each validated dashboard (serializer ``validated_data``) into ``group``; see the module's rule."""
    saved = []
    with transaction.atomic():
        for data in items:
            dashboard = None
            if overwrite:
                dashboard = group.dashboards.filter(title=data["title"]).order_by("created_time", "pk").first()
            if dashboard is None:
                dashboard = Dashboard(tenant_id=group.tenant_id)
            for field in _FIELDS:
                if field in data:
                    setattr(dashboard, field, data[field])
            if "configuration" in data:
                dashboard.configuration = data["configuration"]
            dashboard.save()
            dashboard.groups.add(group)
            saved.append(dashboard)
    return saved
