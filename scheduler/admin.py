"""Scheduler events in the admin, tenant-scoped by TenantScopedAdmin; schedule and configuration are
edited as JSON and checked as the API checks them, ``configuration.originatorId`` included (it sets the
read-only originator columns)."""

from django import forms
from django.contrib import admin
from rest_framework.exceptions import APIException

from scheduler import schedule as sched
from scheduler import services
from scheduler.models import SchedulerEvent
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms


class SchedulerEventForm(TenantScopedForm):
    class Meta:
        model = SchedulerEvent
        fields = "__all__"

    def clean_schedule(self):
        value = self.cleaned_data.get("schedule")
        try:
            sched.parse(value)
        except sched.ScheduleError as e:
            raise forms.ValidationError(str(e)) from None
        return value

    def clean_configuration(self):
        try:
            return services.check_configuration(self.cleaned_data.get("configuration"))
        except APIException as e:
            raise forms.ValidationError(_detail(e)) from None

    def clean(self):
        """``configuration.originatorId`` sets the originator columns, checked as the API's save checks it
        (an entity of the event's tenant, else an error)."""
        cleaned = super().clean()
        event, configuration = self.instance, cleaned.get("configuration")
        if event.tenant_id is None or not isinstance(configuration, dict):
            return cleaned
        current = (event.originator_type or None, event.originator_id)
        try:
            kind, pk = services.originator_of(event.tenant_id, {"configuration": configuration}, current)
        except APIException as e:
            self.add_error("configuration", _detail(e))
            return cleaned
        event.originator_type, event.originator_id = kind or "", pk
        return cleaned


def _detail(error: APIException) -> str:
    detail = error.detail
    if isinstance(detail, list | tuple) and detail:
        detail = detail[0]
    return str(detail)


@admin.register(SchedulerEvent)
class SchedulerEventAdmin(TenantScopedAdmin):
    form = SchedulerEventForm
    list_display = ("name", "type", "enabled", "originator", "next_fire", "last_fire", "last_error")
    list_filter = ("enabled", "type")
    search_fields = ("name", "type")
    readonly_fields = ("id", "originator_type", "originator_id", "next_fire", "last_fire", "last_error", "version")
    fieldsets = (
        (None, {"fields": ("name", "type", "enabled", "customer", "originator_type", "originator_id")}),
        ("Schedule and message", {"fields": ("schedule", "configuration")}),
        ("State", {"fields": ("next_fire", "last_fire", "last_error")}),
        ("Details", {"fields": ("id", "version", "additional_info"), "classes": ("collapse",)}),
    )

    def save_model(self, request, obj, form, change):
        services.reschedule(obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="Originator")
    def originator(self, obj) -> str:
        return f"{obj.originator_type} {obj.originator_id}" if obj.originator_id else "(tenant)"

    @admin.display(description="Next fire", ordering="next_fire_ms")
    def next_fire(self, obj) -> str:
        return format_ms(obj.next_fire_ms) if obj.next_fire_ms else "-"

    @admin.display(description="Last fire", ordering="last_fire_ms")
    def last_fire(self, obj) -> str:
        return format_ms(obj.last_fire_ms) if obj.last_fire_ms else "-"
