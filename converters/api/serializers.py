"""The Converter JSON of ThingsBoard's REST API (reference 2.2)."""

from rest_framework import serializers

from converters import engine, scripts
from converters.choices import ConverterType, IntegrationType
from converters.events import all_enabled_until, cap_all_enabled_until
from converters.models import Converter
from tbproject.api.exceptions import ServiceUnavailable
from tbproject.api.serializers import StorableJSONField, TbEntitySerializer
from tbproject.clock import now_ms

__all__ = ["ConverterSerializer"]

NAME_MISSING = "Converter name should be specified!"
TYPE_MISSING = "Converter type should be specified!"


def _flag(settings: dict, key: str):
    value = settings.get(key)
    if value is not None and not isinstance(value, bool):
        raise serializers.ValidationError({"debugSettings": f"{key} must be true or false"})
    return value


class ConverterSerializer(TbEntitySerializer):
    """Save validates the configuration (the script matching type x scriptLang must be there and
    compile) and turns ``debugSettings.allEnabled`` into ``allEnabledUntil = now + DEBUG_ALL_DURATION_MINUTES``.

    ``allEnabled`` is a trigger, as in ThingsBoard: it is answered as false, and the window shows
    in ``allEnabledUntil``. A posted-back ``allEnabledUntil`` is kept but never extended beyond
    one window; ``debugMode: true`` (the pre-3.9 flag) without debugSettings also opens a window.
    """

    entity_type = "CONVERTER"

    name = serializers.CharField(max_length=255, error_messages={
        "required": NAME_MISSING, "blank": NAME_MISSING, "null": NAME_MISSING})
    type = serializers.ChoiceField(ConverterType.choices, error_messages={
        "required": TYPE_MISSING, "null": TYPE_MISSING})
    integrationType = serializers.ChoiceField(IntegrationType.choices, source="integration_type", required=False,
                                              allow_null=True)
    debugMode = serializers.SerializerMethodField()
    debugSettings = serializers.SerializerMethodField()
    configuration = StorableJSONField(required=False, allow_null=True)
    edgeTemplate = serializers.BooleanField(source="edge_template", required=False)
    converterVersion = serializers.ChoiceField(((1, "1"), (2, "2")), source="converter_version", required=False,
                                              allow_null=True)

    class Meta:
        model = Converter
        fields = TbEntitySerializer.base_fields + (
            "name", "type", "integrationType", "debugMode", "debugSettings", "configuration", "edgeTemplate",
            "converterVersion")

    def get_debugMode(self, obj) -> bool:
        return obj.debug_all_active()

    def get_debugSettings(self, obj) -> dict:
        return {"failuresEnabled": obj.debug_failures_enabled, "allEnabled": False,
                "allEnabledUntil": obj.debug_all_enabled_until}

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(NAME_MISSING)
        return value

    def validate(self, attrs):
        instance = self.instance
        if attrs.get("converter_version", 1) is None:
            attrs["converter_version"] = 1
        if "edge_template" in attrs and attrs["edge_template"] is None:
            attrs["edge_template"] = False
        converter_type = attrs.get("type") or instance.type
        configuration = attrs["configuration"] if "configuration" in attrs else getattr(instance, "configuration", None)
        version = attrs.get("converter_version") or getattr(instance, "converter_version", 1)
        try:
            attrs["configuration"] = scripts.clean_configuration(converter_type, configuration)
            if version == 2 and converter_type == "UPLINK":
                attrs["configuration"] = scripts.clean_typed(attrs["configuration"])
            scripts.check_compiles(converter_type, attrs["configuration"])
        except scripts.ConfigurationError as e:
            raise serializers.ValidationError(e.message) from None
        except engine.EngineError:
            raise ServiceUnavailable("The script engine cannot start; the converter was not saved. Try again.") \
                from None
        attrs.update(self._debug_settings())
        return attrs

    def _debug_settings(self) -> dict:
        data = self.initial_data
        settings = data.get("debugSettings")
        now = now_ms()
        if settings is None:
            if data.get("debugMode") is True:
                return {"debug_all_enabled_until": all_enabled_until(now)}
            return {}
        if not isinstance(settings, dict):
            raise serializers.ValidationError({"debugSettings": "must be a JSON object"})
        failures, all_enabled = _flag(settings, "failuresEnabled"), _flag(settings, "allEnabled")
        until = settings.get("allEnabledUntil")
        if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
            raise serializers.ValidationError({"debugSettings": "allEnabledUntil must be a time in milliseconds"})
        result = {"debug_failures_enabled": bool(failures)}
        result["debug_all_enabled_until"] = all_enabled_until(now) if all_enabled else cap_all_enabled_until(until, now)
        return result

    def save(self, **kwargs):
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)

    def _author(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def create(self, validated_data):
        # Not Model.objects.create(): the first version's author is set before the first save.
        converter = Converter(**validated_data)
        converter.changed_by = self._author()
        converter.save()
        return converter

    def update(self, instance, validated_data):
        instance.changed_by = self._author()
        return super().update(instance, validated_data)
