"""The Integration and IntegrationInfo JSON of ThingsBoard's REST API (reference 2.1).

Secrets are write-only: answers carry ``configuration`` with every secret of the type replaced by
MASK (``masked()``) and ``secret`` as MASK when one is stored. Posting MASK back keeps the stored
value (``keep_secrets()``), so a client may round-trip what it read without losing credentials.
"""

import re
import uuid

from rest_framework import serializers
from rest_framework.exceptions import NotFound

from converters.api.serializers import ConverterSerializer
from converters.choices import ConverterType
from converters.models import Converter
from integrations import expiry, ports
from integrations.models import Integration
from integrations.stats import HOUR_MS, stats_series_many
from integrations.types import TYPES
from integrations.types.base import MASK, ConfigError
from tbproject.api.ids import EntityIdField, entity_id
from tbproject.api.serializers import StorableJSONField, TbEntitySerializer

__all__ = ["IntegrationSerializer", "IntegrationInfoSerializer", "clean_type", "clean_configuration",
           "integration_status", "recent_stats", "HOUR_MS"]

NAME_MISSING = "Integration name should be specified!"
TYPE_MISSING = "Integration type should be specified!"
CONVERTER_MISSING = "Integration default converter should be specified!"
ROUTING_KEY_TAKEN = "Integration with such routing key already exists!"
NAME_TAKEN = "Integration with such name already exists!"
#: routing keys travel as one URL path segment: RFC 3986 unreserved characters only
ROUTING_KEY_RE = re.compile(r"[A-Za-z0-9._~-]{1,255}")

def clean_type(value) -> str:
    """The integration kind, which must be in the registry of implemented types."""
    if value in (None, ""):
        raise serializers.ValidationError(TYPE_MISSING)
    if not isinstance(value, str) or value not in TYPES:
        raise serializers.ValidationError(f"Integration type {str(value):.40} is not supported yet")
    return value


def clean_configuration(kind: str, configuration, stored: dict | None) -> dict:
    """``configuration`` with posted-back masks replaced by the stored secrets, checked by the type's schema."""
    if configuration is None:
        configuration = {}
    if not isinstance(configuration, dict):
        raise serializers.ValidationError({"configuration": "must be a JSON object"})
    type_class = TYPES.load(kind)
    if "deduplication" not in configuration and (stored or {}).get("deduplication") is not None:
        # our key: a ThingsBoard client that posts back only the keys it knows keeps it (null removes it)
        configuration = {**configuration, "deduplication": stored["deduplication"]}
    try:
        configuration = type_class.keep_secrets(configuration, stored or {})
        return type_class.validate(configuration)
    except ConfigError as e:
        raise serializers.ValidationError(str(e)) from None


class _OptionalIdField(EntityIdField):
    """A converter id that reads as null when unset (ThingsBoard's downlinkConverterId)."""

    def get_attribute(self, instance):
        return serializers.Field.get_attribute(self, instance)


class _DebugFields(serializers.Serializer):
    """debugMode and debugSettings exactly as the converters API has them (same 15-minute policy)."""

    debugMode = serializers.SerializerMethodField()
    debugSettings = serializers.SerializerMethodField()

    get_debugMode = ConverterSerializer.get_debugMode
    get_debugSettings = ConverterSerializer.get_debugSettings


class IntegrationSerializer(_DebugFields, TbEntitySerializer):
    """Save checks the type (registry), the configuration (the type's schema), the converters (the
    tenant's, of the right direction) and the routing key (URL-safe, unique); absent optional
    fields keep their stored values on update."""

    entity_type = "INTEGRATION"

    name = serializers.CharField(max_length=255, error_messages={
        "required": NAME_MISSING, "blank": NAME_MISSING, "null": NAME_MISSING})
    type = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    enabled = serializers.BooleanField(required=False, allow_null=True)
    remote = serializers.BooleanField(required=False, allow_null=True)
    allowCreateDevicesOrAssets = serializers.BooleanField(source="allow_create_devices_or_assets", required=False,
                                                          allow_null=True)
    edgeTemplate = serializers.BooleanField(source="edge_template", required=False, allow_null=True)
    defaultConverterId = EntityIdField("CONVERTER", source="default_converter_id", required=False, allow_null=True)
    downlinkConverterId = _OptionalIdField("CONVERTER", source="downlink_converter_id", required=False,
                                           allow_null=True)
    routingKey = serializers.CharField(source="routing_key", required=False, allow_null=True, allow_blank=True,
                                       trim_whitespace=True)
    secret = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    configuration = StorableJSONField(required=False, allow_null=True)

    class Meta:
        model = Integration
        fields = TbEntitySerializer.base_fields + (
            "name", "type", "debugMode", "debugSettings", "enabled", "remote", "allowCreateDevicesOrAssets",
            "edgeTemplate", "defaultConverterId", "downlinkConverterId", "routingKey", "secret", "configuration")

    _debug_settings = ConverterSerializer._debug_settings  # reads debugSettings/debugMode from initial_data

    def to_representation(self, obj):
        data = super().to_representation(obj)
        data["configuration"] = TYPES.load(obj.type).masked(obj.configuration)
        data["secret"] = MASK if obj.secret else ""
        if obj.credential_expiry:  # our addition: credentials with an expiry date (integrations/expiry.py)
            data["credentialExpiry"] = expiry.report(obj)
        if obj.remote:  # our addition: the remote runner as its connection reports it (integrations/remote/)
            data["remoteStatus"] = remote_status(obj)
        return data

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(NAME_MISSING)
        return value

    def validate(self, attrs):
        instance = self.instance
        for flag in ("enabled", "remote", "allow_create_devices_or_assets", "edge_template"):
            if flag in attrs and attrs[flag] is None:
                del attrs[flag]  # null = not sent
        kind = attrs.get("type") or (instance.type if instance else None)
        attrs["type"] = kind = clean_type(kind)  # not a field validator: the message has no "type:" prefix
        stored = instance.configuration if instance else {}
        if "configuration" in attrs or instance is None or kind != instance.type:
            attrs["configuration"] = clean_configuration(kind, attrs.get("configuration", stored), stored)
        self._converters(attrs)
        self._routing_key(attrs)
        self._secret(attrs)
        self._unique_name(attrs)
        self._free_port(attrs)
        attrs.update(self._debug_settings())
        return attrs

    # --- pieces of validate() ---------------------------------------------------------------------
    def _converter(self, pk, direction: str, field: str) -> Converter:
        converter = Converter.objects.filter(tenant=self.tenant, pk=pk).first()
        if converter is None:
            raise NotFound(f"Converter {pk} wasn't found!")  # another tenant's looks missing too
        if converter.type != direction:
            raise serializers.ValidationError({field: f"converter '{converter.name}' is not a {direction} converter"})
        return converter

    def _converters(self, attrs) -> None:
        if "default_converter_id" in attrs or self.instance is None:
            pk = attrs.pop("default_converter_id", None)
            if pk is None:
                raise serializers.ValidationError(CONVERTER_MISSING)
            attrs["default_converter"] = self._converter(pk, ConverterType.UPLINK, "defaultConverterId")
        if "downlink_converter_id" in attrs:
            pk = attrs.pop("downlink_converter_id")
            attrs["downlink_converter"] = (
                self._converter(pk, ConverterType.DOWNLINK, "downlinkConverterId") if pk else None)

    def _routing_key(self, attrs) -> None:
        key = attrs.pop("routing_key", None)
        if not key:
            if self.instance is None:
                attrs["routing_key"] = str(uuid.uuid4())
            return
        if not ROUTING_KEY_RE.fullmatch(key):
            raise serializers.ValidationError(
                {"routingKey": "use 1 to 255 letters, digits and - . _ ~ (it is part of the endpoint URL)"})
        taken = Integration.objects.filter(routing_key=key)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(ROUTING_KEY_TAKEN)
        attrs["routing_key"] = key

    def _secret(self, attrs) -> None:
        if "secret" not in attrs:
            return
        secret = attrs.pop("secret")
        if secret is None or secret == MASK:
            return  # not sent, or posted back masked: keep what is stored
        attrs["secret"] = secret

    def _unique_name(self, attrs) -> None:
        name = attrs.get("name")
        taken = Integration.objects.filter(tenant=self.tenant, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if name and taken.exists():
            raise serializers.ValidationError(NAME_TAKEN)

    def _free_port(self, attrs) -> None:
        instance = self.instance
        enabled = attrs.get("enabled", instance.enabled if instance else True)
        remote = attrs.get("remote", instance.remote if instance else False)
        if not enabled or remote:
            return
        configuration = attrs.get("configuration", instance.configuration if instance else {})
        problem = ports.conflict(self.tenant.pk, attrs["type"], configuration,
                                 exclude_pk=instance.pk if instance else None)
        if problem:
            raise serializers.ValidationError(problem)

    def save(self, **kwargs):
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


def remote_status(obj: Integration) -> dict | None:
    """The ``remoteStatus`` of a remote integration, or null before its runner first connected."""
    try:
        return obj.remote_status.as_info()
    except Integration.remote_status.RelatedObjectDoesNotExist:
        return None


def integration_status(obj: Integration) -> dict | None:
    """ThingsBoard's IntegrationInfo.status: the newest of last error and last success, or null."""
    error_ts, message_ts = obj.last_error_ts or 0, obj.last_message_ts or 0
    if obj.last_error and error_ts >= message_ts:
        return {"success": False, "serviceId": obj.service_id or None, "error": obj.last_error}
    if obj.connected or message_ts:
        return {"success": True, "serviceId": obj.service_id or None}
    return None


def recent_stats(integrations, now: int | None = None) -> dict:
    """integration id -> messages processed per hour over the last day, oldest first, starting at
    the first hour with traffic (one query for all ``integrations``)."""
    series = stats_series_many([obj.pk for obj in integrations], now=now)
    out = {}
    for pk, counts in series.items():
        first = next((i for i, count in enumerate(counts) if count), len(counts))
        out[pk] = counts[first:]
    return out


class IntegrationInfoSerializer(serializers.Serializer):
    """IntegrationInfo: the basics without configuration, plus ``status`` and ``stats``.

    ``context["stats"]`` holds :func:`recent_stats` of the rows being rendered.
    """

    id = serializers.SerializerMethodField()
    createdTime = serializers.IntegerField(source="created_time")
    tenantId = EntityIdField("TENANT", source="tenant_id")
    name = serializers.CharField()
    type = serializers.CharField()
    debugMode = serializers.SerializerMethodField()
    debugSettings = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()
    remote = serializers.BooleanField()
    allowCreateDevicesOrAssets = serializers.BooleanField(source="allow_create_devices_or_assets")
    edgeTemplate = serializers.BooleanField(source="edge_template")
    version = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    stats = serializers.SerializerMethodField()

    get_debugMode = ConverterSerializer.get_debugMode
    get_debugSettings = ConverterSerializer.get_debugSettings

    def get_id(self, obj) -> dict:
        return entity_id("INTEGRATION", obj.pk)

    def get_status(self, obj) -> dict | None:
        return integration_status(obj)

    def get_stats(self, obj) -> list[int]:
        return self.context.get("stats", {}).get(obj.pk, [])
