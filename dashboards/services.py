"""Dashboard workflows the API and the admin share: customer (un)assignment, optimistic saves,
the home dashboard a user lands on (and the tenant's or customer's setting of it), the mobile order.

Assignment changes the many-to-many rows and bumps ``version`` without a model save, so that the
audit log records it as ThingsBoard does (ASSIGNED_TO_CUSTOMER / UNASSIGNED_FROM_CUSTOMER, from
the ``m2m_changed`` signal), not as an UPDATED dashboard.
"""

import uuid
from dataclasses import replace

from django.db import transaction
from django.db.models import F
from rest_framework.exceptions import ValidationError

from dashboards.models import Dashboard
from tbproject.api.exceptions import Conflict
from tbproject.api.ids import entity_id
from tbproject.api.pagination import PageRequest
from tenants.choices import Authority
from tenants.models import Customer

__all__ = ["assign", "unassign", "set_customers", "expected_version", "check_version", "home_dashboard", "home_info",
           "parse_home_info", "set_home", "mobile_order"]

HOME_ID, HOME_HIDE_TOOLBAR = "homeDashboardId", "homeDashboardHideToolbar"


def _bump(dashboard: Dashboard) -> None:
    Dashboard.objects.filter(pk=dashboard.pk).update(version=F("version") + 1)
    dashboard.refresh_from_db(fields=["version"])


def assign(dashboard: Dashboard, customer: Customer) -> Dashboard:
    """Assign to ``customer`` (of the dashboard's tenant); already assigned: nothing changes."""
    assert customer.tenant_id == dashboard.tenant_id
    with transaction.atomic():
        if not dashboard.assigned_customers.filter(pk=customer.pk).exists():
            dashboard.assigned_customers.add(customer)
            _bump(dashboard)
    return dashboard


def unassign(dashboard: Dashboard, customer: Customer) -> Dashboard:
    """Take the dashboard from ``customer``; not assigned to it: nothing changes."""
    with transaction.atomic():
        if dashboard.assigned_customers.filter(pk=customer.pk).exists():
            dashboard.assigned_customers.remove(customer)
            _bump(dashboard)
    return dashboard


def set_customers(dashboard: Dashboard, customers: list[Customer], mode: str) -> Dashboard:
    """ThingsBoard's updateDashboardCustomers ("set": exactly these), addDashboardCustomers ("add")
    and removeDashboardCustomers ("remove"); customers of the dashboard's tenant only."""
    assert all(c.tenant_id == dashboard.tenant_id for c in customers)
    with transaction.atomic():
        current = set(dashboard.assigned_customers.values_list("pk", flat=True))
        wanted = {c.pk for c in customers}
        target = {"set": wanted, "add": current | wanted, "remove": current - wanted}[mode]
        if target != current:
            if current - target:
                dashboard.assigned_customers.remove(*(current - target))
            if target - current:
                dashboard.assigned_customers.add(*(target - current))
            _bump(dashboard)
    return dashboard


def expected_version(raw) -> int | None:
    """The ``version`` a save was read at: an integer, or null (a save that overwrites)."""
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise ValidationError("'version' must be the integer version the dashboard was read with (or null)")
    return raw


def check_version(dashboard: Dashboard, expected) -> None:
    """ThingsBoard's optimistic locking: a save that names the version it was read at is refused
    (409) when the dashboard has moved on since; one without a version overwrites. Call inside
    the save's transaction."""
    if expected is None:
        return
    current = Dashboard.objects.select_for_update().values_list("version", flat=True).get(pk=dashboard.pk)
    if current != expected:
        raise Conflict(f"The dashboard was already changed by someone else (it is at version {current}, the request "
                       f"was made with version {expected}). Nothing was saved: read it again and reapply the change.")


def home_dashboard(user) -> tuple[Dashboard, bool] | None:
    """(dashboard, hideDashboardToolbar) of ``homeDashboardId`` in the user's additionalInfo, else
    its customer's (customer users), else its tenant's; a level whose dashboard the user may not
    read is skipped, as ThingsBoard does. None for a system administrator or when none is set."""
    if user.authority == Authority.SYS_ADMIN:
        return None
    levels = [user.additional_info]
    if user.authority == Authority.CUSTOMER_USER and user.customer_id:
        levels.append(user.customer.additional_info)
    levels.append(user.tenant.additional_info)
    for info in levels:
        found = _from_info(user, info)
        if found is not None:
            return found
    return None


def _from_info(user, info) -> tuple[Dashboard, bool] | None:
    if not isinstance(info, dict) or not info.get(HOME_ID):
        return None
    raw = info[HOME_ID]
    raw = raw.get("id") if isinstance(raw, dict) else raw
    try:
        pk = uuid.UUID(str(raw))
    except ValueError:  # a malformed id in someone's additionalInfo: as if none were set
        return None
    dashboard = Dashboard.objects.for_user(user).filter(pk=pk).first()
    if dashboard is None:
        return None
    hide = info.get(HOME_HIDE_TOOLBAR, True)
    return dashboard, hide if isinstance(hide, bool) else str(hide).lower() == "true"


def home_info(owner) -> dict:
    """HomeDashboardInfo of a tenant's or a customer's own setting: ``{dashboardId, hideDashboardToolbar}``,
    a null id (and true) when none is set, as ThingsBoard answers."""
    info = owner.additional_info if isinstance(owner.additional_info, dict) else {}
    raw = info.get(HOME_ID)
    raw = raw.get("id") if isinstance(raw, dict) else raw
    if not raw:
        return {"dashboardId": None, "hideDashboardToolbar": True}
    return {"dashboardId": entity_id("DASHBOARD", raw), "hideDashboardToolbar": info.get(HOME_HIDE_TOOLBAR, True)}


def parse_home_info(data) -> tuple[str | None, bool]:
    """(dashboard id as sent or None, hideDashboardToolbar) of a posted HomeDashboardInfo; a clear 400 otherwise."""
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object {dashboardId, hideDashboardToolbar}")
    raw = data.get("dashboardId")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    if raw is not None and not isinstance(raw, str):
        raise ValidationError("'dashboardId' must be {\"entityType\": \"DASHBOARD\", \"id\": ...} or null")
    hide = data.get("hideDashboardToolbar", False)
    if not isinstance(hide, bool):
        raise ValidationError("'hideDashboardToolbar' must be true or false")
    return raw or None, hide


def set_home(owner, dashboard: Dashboard | None, hide_toolbar: bool) -> None:
    """A tenant's or a customer's home dashboard (``None`` removes it), in its additionalInfo as ThingsBoard
    keeps it."""
    info = dict(owner.additional_info) if isinstance(owner.additional_info, dict) else {}
    if dashboard is None:
        info.pop(HOME_ID, None)
        info.pop(HOME_HIDE_TOOLBAR, None)
    else:
        info[HOME_ID] = str(dashboard.pk)
        info[HOME_HIDE_TOOLBAR] = hide_toolbar
    owner.additional_info = info
    owner.save(update_fields=["additional_info"])


def mobile_order(queryset, req: PageRequest, sort_fields: dict[str, str]):
    """ThingsBoard's ``mobile=true`` listing: the dashboards hidden on mobile left out, the others in
    ``mobileOrder`` first (those without one last), then in the requested order. Answers the queryset
    and the page request to slice it with (its sort applied here)."""
    order = [F("mobile_order").asc(nulls_last=True)]
    if req.sort_property:
        field = sort_fields.get(req.sort_property)
        if field is None:
            raise ValidationError(f"Unsupported sortProperty '{req.sort_property:.64}'; use one of: "
                                  f"{', '.join(sorted(sort_fields))}")
        order.append(F(field).desc() if req.sort_order == "DESC" else F(field).asc())
    return queryset.filter(mobile_hide=False).order_by(*order, "title", "pk"), replace(req, sort_property=None)
