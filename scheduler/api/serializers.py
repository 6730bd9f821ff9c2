"""ThingsBoard's SchedulerEvent, SchedulerEventInfo and SchedulerEventWithCustomerInfo JSON.

    {"id": {"entityType": "SCHEDULER_EVENT", "id"}, "createdTime", "tenantId", "customerId", "ownerId",
     "originatorId": {"entityType", "id"} or null, "name", "type", "schedule": {...}, "enabled",
     "configuration": {"originatorId", "msgType", "msgBody", "metadata"}, "additionalInfo", "version"}

Info is the same without ``configuration``; WithCustomerInfo adds ``customerTitle`` and
``customerIsPublic`` (false: there is no public customer here), and ``timestamps`` in the calendar view.
"""

from rest_framework import serializers

from scheduler import schedule as sched
from scheduler import services
from scheduler.models import SchedulerEvent
from tbproject.api.ids import EntityIdField, entity_id
from tbproject.api.serializers import StorableJSONField, TbEntitySerializer
from tbproject.text import check_text
from tenants.models import Customer

__all__ = ["SchedulerEventSerializer", "SchedulerEventInfoSerializer", "WithCustomerInfoSerializer"]


def _required(what: str) -> dict:
    return {k: f"Scheduler event {what} should be specified!" for k in ("required", "blank", "null")}


class SchedulerEventSerializer(TbEntitySerializer):
    entity_type = "SCHEDULER_EVENT"

    customerId = EntityIdField("CUSTOMER", source="customer_id", required=False, allow_null=True)
    ownerId = serializers.SerializerMethodField()
    originatorId = serializers.SerializerMethodField()
    name = serializers.CharField(max_length=255, trim_whitespace=False, error_messages={
        **_required("name"), "max_length": "Scheduler event name length must be equal or less than 255"})
    type = serializers.CharField(max_length=255, trim_whitespace=False, error_messages={
        **_required("type"), "max_length": "Scheduler event type length must be equal or less than 255"})
    schedule = StorableJSONField(error_messages=_required("schedule"))
    configuration = StorableJSONField(required=False, allow_null=True)
    enabled = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = SchedulerEvent
        fields = ("id", "createdTime", "tenantId", "customerId", "ownerId", "originatorId", "name", "type",
                  "schedule", "configuration", "enabled", "additionalInfo", "version")

    def get_ownerId(self, obj) -> dict:
        return entity_id("CUSTOMER", obj.customer_id) if obj.customer_id else entity_id("TENANT", obj.tenant_id)

    def get_originatorId(self, obj):
        return entity_id(obj.originator_type, obj.originator_id) if obj.originator_id else None

    def _text(self, value: str, what: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(f"Scheduler event {what} should be specified!")
        try:
            return check_text(value)
        except ValueError as e:
            raise serializers.ValidationError(str(e)) from None

    def validate_name(self, value):
        return self._text(value, "name")

    def validate_type(self, value):
        return self._text(value, "type")

    def validate_schedule(self, value):
        try:
            sched.parse(value)
        except sched.ScheduleError as e:
            raise serializers.ValidationError(str(e)) from None
        return value

    def validate_configuration(self, value):
        return services.check_configuration(value)

    def validate_enabled(self, value):
        if value is None:
            return True
        if not isinstance(value, bool):
            raise serializers.ValidationError("'enabled' must be true or false")
        return value

    def validate_customerId(self, value):
        if value is not None and not Customer.objects.filter(tenant=self.tenant, pk=value).exists():
            from rest_framework.exceptions import NotFound

            raise NotFound(f"Customer with id [{value}] is not found")
        return value

    def validate(self, attrs):
        event = self.instance
        current = (event.originator_type or None, event.originator_id) if event else (None, None)
        kind, pk = services.originator_of(self.tenant.pk, self.initial_data, current)
        attrs["originator_type"], attrs["originator_id"] = kind or "", pk
        services.check_event(self.context.get("request"), attrs.get("type", event.type if event else None),
                             attrs.get("configuration", event.configuration if event else None))
        return attrs

    def _place(self, event: SchedulerEvent, validated: dict) -> SchedulerEvent:
        customer = validated.pop("customer_id", event.customer_id)
        for key, value in validated.items():
            setattr(event, key, value)
        event.customer_id = customer
        services.reschedule(event)
        event.save()
        return event

    def create(self, validated_data):
        return self._place(SchedulerEvent(tenant=self.tenant), validated_data)

    def update(self, instance, validated_data):
        return self._place(instance, validated_data)


class SchedulerEventInfoSerializer(SchedulerEventSerializer):
    configuration = None

    class Meta(SchedulerEventSerializer.Meta):
        fields = tuple(f for f in SchedulerEventSerializer.Meta.fields if f != "configuration")


class WithCustomerInfoSerializer(SchedulerEventInfoSerializer):
    customerTitle = serializers.SerializerMethodField()
    customerIsPublic = serializers.SerializerMethodField()

    class Meta(SchedulerEventInfoSerializer.Meta):
        fields = SchedulerEventInfoSerializer.Meta.fields + ("customerTitle", "customerIsPublic")

    def get_customerTitle(self, obj):
        return obj.customer.title if obj.customer_id else None

    def get_customerIsPublic(self, obj) -> bool:
        return False

    def to_representation(self, instance):
        data = super().to_representation(instance)
        stamps = self.context.get("timestamps")
        if stamps is not None:
            data["timestamps"] = stamps.get(instance.pk, [])
        return data
