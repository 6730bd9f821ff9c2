"""Dashboards, kept as ThingsBoard keeps them so that a user moving from ThingsBoard keeps theirs.

A dashboard may join entity groups of type DASHBOARD (ThingsBoard PE); the relation is declared
here, as devices/ (where groups live) stands below dashboards/ and registers it by name
(``DashboardsConfig.ready``).

Nothing here renders a dashboard: the widgets, states and entity aliases of ``configuration`` are
stored as the JSON text the client sent (key order and all, as ThingsBoard's ``configuration``
column keeps it) and served back unchanged.
"""

import json

from django.db import models

from tbproject.jsontext import compact
from tenants.models import Customer, TenantScopedModel

__all__ = ["Dashboard"]


class Dashboard(TenantScopedModel):
    """A tenant's dashboard (ThingsBoard's Dashboard), shown to the customers it is assigned to
    (any number of them, as in ThingsBoard); unique by nothing, as ThingsBoard's titles are not."""

    title = models.CharField(max_length=255)
    image = models.TextField(null=True, blank=True, help_text="Thumbnail for mobile grids (a URL or data URL)")  # noqa: DJ001
    mobile_hide = models.BooleanField(default=False)
    mobile_order = models.IntegerField(null=True, blank=True)
    #: the configuration JSON as compact text; "null" when the dashboard has none
    configuration_text = models.TextField(default="null", blank=True)
    assigned_customers = models.ManyToManyField(Customer, blank=True, related_name="+")
    #: PE's dashboard entity groups (type DASHBOARD); devices/ finds them through EntityGroup.dashboards
    groups = models.ManyToManyField("devices.EntityGroup", blank=True, related_name="dashboards")
    external_id = models.UUIDField(null=True, blank=True, editable=False)

    customer_lookup = "assigned_customers"  # a customer user sees the dashboards assigned to its customer
    group_name_field = "title"  # what group listings show, search and sort as the member's name

    class Meta:
        ordering = ["title", "created_time"]
        indexes = [models.Index(fields=["tenant", "title"], name="dashboard_tenant_title")]

    def __str__(self) -> str:
        return self.title

    @property
    def configuration(self):
        return json.loads(self.configuration_text) if self.configuration_text else None

    @configuration.setter
    def configuration(self, value) -> None:
        self.configuration_text = compact(value)

    def clean(self) -> None:
        # The API checks its input in the serializer; the admin's text area comes here.
        from django.core.exceptions import ValidationError

        super().clean()
        try:
            value = json.loads(self.configuration_text or "null")
        except ValueError as e:
            raise ValidationError({"configuration_text": f"Not JSON: {e}"}) from None
        if value is not None and not isinstance(value, dict):
            raise ValidationError({"configuration_text": "The configuration must be a JSON object."})
        self.configuration = value
