"""Converters (user scripts) and the debug events that converters and integrations record."""

import json
import uuid

from django.db import models, transaction

from converters import scripts
from converters.choices import ConverterType, EventEntityType, EventType, IntegrationType
from tbproject.clock import now_ms
from tenants.models import Tenant, TenantScopedModel, TenantScopedQuerySet

__all__ = ["Converter", "DebugEvent", "ConverterVersion", "ConverterTest", "ConverterHealth"]


class Converter(TenantScopedModel):
    """An uplink decoder or downlink encoder script, ThingsBoard-shaped (reference 2.2).

    ``configuration`` holds ThingsBoard's keys verbatim (``scriptLang``, ``decoder``, ``encoder``,
    ``tbelDecoder``, ``tbelEncoder``, ``updateOnlyKeys``, and for converterVersion 2 the typed
    keys); :attr:`script` is the one that runs. ``script_version`` goes up whenever that script
    (or the type choosing it) changes: the engine caches one compiled context per
    (converter id, script_version). Integrations reference converters with
    ``on_delete=PROTECT``, so a converter in use cannot be deleted.

    Debug settings follow ThingsBoard 3.9+: failures are recorded while ``debug_failures_enabled``;
    everything is recorded while now < ``debug_all_enabled_until`` (ms; 0 = off).
    """

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=ConverterType.choices)
    integration_type = models.CharField(  # noqa: DJ001  (null = "all types", as ThingsBoard's JSON has it)
        max_length=32, choices=IntegrationType.choices, null=True, blank=True,
        help_text="The integration type this converter is dedicated to; empty = all.")
    configuration = models.JSONField(default=dict, blank=True)
    converter_version = models.PositiveSmallIntegerField(default=1, choices=((1, "1 (generic)"), (2, "2 (typed)")))
    debug_failures_enabled = models.BooleanField("debug failures", default=False)
    debug_all_enabled_until = models.BigIntegerField("debug all until (ms)", default=0)
    edge_template = models.BooleanField(default=False)
    script_version = models.PositiveIntegerField(default=1, editable=False)
    #: the newest ConverterVersion.number: goes up on every saved change of the configuration
    version_number = models.PositiveIntegerField(default=1, editable=False)

    #: who is saving (set by the API and the admin before save): the new version's author
    changed_by = None
    #: set by integrations.config_cache on a pinned version's stand-in (never saved)
    pinned = False

    customer_lookup = None  # converters belong to the tenant; customer users see none

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="converter_name_per_tenant")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._loaded_script = obj._script_identity()
        obj._loaded_config = obj.config_identity()
        return obj

    def config_identity(self) -> tuple:
        """What a version is a version of: type, integration type, converterVersion, configuration."""
        return (self.type, self.integration_type, self.converter_version,
                json.dumps(self.configuration, sort_keys=True, default=str))

    @property
    def engine_key(self) -> str:
        """The engine's context-cache key: a pinned version runs in a context of its own."""
        return f"{self.pk}@{self.version_number}" if self.pinned else str(self.pk)

    def _script_identity(self) -> tuple:
        return (self.type, scripts.script_lang(self.configuration), self.script)

    @property
    def script(self) -> str:
        """The source that runs: the configuration field matching type x scriptLang."""
        return scripts.script_of(self.type, self.configuration)

    @property
    def script_lang(self) -> str:
        return scripts.script_lang(self.configuration)

    @property
    def update_only_keys(self) -> list[str]:
        keys = (self.configuration or {}).get("updateOnlyKeys") if isinstance(self.configuration, dict) else None
        return list(keys or [])

    def debug_all_active(self, now: int | None = None) -> bool:
        return (now if now is not None else now_ms()) < self.debug_all_enabled_until

    def save(self, *args, **kwargs):
        if self.pinned:
            raise ValueError("a pinned converter version is a read-only stand-in")
        loaded = getattr(self, "_loaded_script", None)
        identity = self._script_identity()
        if not self._state.adding and loaded is not None and identity != loaded:
            self.script_version += 1
        config = self.config_identity()
        new_version = self._state.adding or config != getattr(self, "_loaded_config", config)
        if new_version and kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version_number", "script_version"}
        with transaction.atomic():
            if new_version and not self._state.adding:
                # the row lock orders concurrent saves: each gets a number of its own
                self.version_number = (Converter.objects.select_for_update().filter(pk=self.pk)
                                       .values_list("version_number", flat=True).first() or self.version_number) + 1
            super().save(*args, **kwargs)
            if new_version:
                self._record_version()
        self._loaded_script, self._loaded_config = identity, config
        self.changed_by = None  # a later save names its own author

    def _record_version(self) -> None:
        author = self.changed_by if getattr(self.changed_by, "is_authenticated", False) else None
        ConverterVersion.objects.create(
            tenant_id=self.tenant_id, converter=self, number=self.version_number, author=author,
            author_name=(author.get_username() if author else ""), type=self.type,
            integration_type=self.integration_type, converter_version=self.converter_version,
            configuration=self.configuration, rolled_back_from=getattr(self, "rolled_back_from", None))

    def delete(self, *args, **kwargs):
        pk = self.pk
        result = super().delete(*args, **kwargs)  # raises ProtectedError while an integration uses it
        DebugEvent.objects.filter(entity_type=EventEntityType.CONVERTER, entity_id=pk).delete()
        return result


class DebugEvent(models.Model):
    """One event of a converter or an integration (ThingsBoard's event tables, reference 5).

    ``body`` is what the events API returns verbatim: for DEBUG_CONVERTER ``type``
    (Uplink/Downlink), ``server``, ``inMessageType``, ``in``, ``outMessageType``, ``out``,
    ``metadata`` (JSON text) and ``error`` when there is one. ``is_error`` mirrors "body has an
    error" for the isError filter. Rows are written in batches (converters.events.EventBatch),
    never one insert per message, and removed after DEBUG_EVENTS_TTL_DAYS by a beat job.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    entity_type = models.CharField(max_length=16, choices=EventEntityType.choices)
    entity_id = models.UUIDField()
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    created_time = models.BigIntegerField(default=now_ms)
    server = models.CharField(max_length=255, blank=True)
    is_error = models.BooleanField(default=False)
    body = models.JSONField(default=dict)

    customer_lookup = None
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_time"]
        indexes = [
            models.Index(fields=["entity_id", "event_type", "-created_time"], name="debug_event_entity_time"),
            models.Index(fields=["created_time"], name="debug_event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.entity_type} {self.entity_id} @ {self.created_time}"


from converters.models_history import ConverterHealth, ConverterTest, ConverterVersion  # noqa: E402
