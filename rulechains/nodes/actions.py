"""Action nodes: save time series, save attributes, log, device profile."""

import json
import logging

from django.db import transaction
from rest_framework.exceptions import ValidationError

from devices.api.telemetry_writes import parse_attributes, parse_telemetry
from devices.attributes import save_attributes_many
from devices.choices import AttributeScope
from devices.telemetry import Point, write_points
from devices.telemetry.series_ttl import set_ttls
from rulechains import scripts
from rulechains.messages import POST_ATTRIBUTES_REQUEST, POST_TELEMETRY_REQUEST, SUCCESS
from rulechains.nodes.base import SCRIPT_FIELDS, BaseNode, ConfigError, Out, fail, field
from rulechains.nodes.scripted import ScriptNode

__all__ = ["SaveTimeseriesNode", "SaveAttributesNode", "LogNode", "DeviceProfileNode", "DEFAULT_LOG_SCRIPT"]

log = logging.getLogger("rulechains.log")

DEFAULT_LOG_SCRIPT = ("return '\\nIncoming message:\\n' + JSON.stringify(msg) + "
                      "'\\nIncoming metadata:\\n' + JSON.stringify(metadata);")


def _error_text(exc: ValidationError) -> str:
    detail = exc.detail
    return " ".join(str(d) for d in detail) if isinstance(detail, list) else str(detail)


class _SaveNode(BaseNode):
    """Writes the data of messages of ``msg_type``; others go by Failure ("Unsupported msg type").

    A ``stored`` message (uplink data the integration pipeline has written already) passes by
    Success without a second write: see integrations.handoff. All the batch's rows are written
    in one statement; if that fails, every message of the batch goes by Failure."""

    savepoint = False

    msg_type = ""

    def process_batch(self, ctx, msgs):
        outs, rows, pending = [], [], []
        for msg in msgs:
            if msg.msg_type != self.msg_type:
                outs.append(fail(msg, f"Unsupported msg type: {msg.msg_type}"))
            elif msg.stored:
                outs.append([Out(SUCCESS, msg)])
            else:
                try:
                    rows.extend(self.rows(ctx, msg))
                except (ValidationError, ValueError) as e:
                    outs.append(fail(msg, _error_text(e) if isinstance(e, ValidationError) else e))
                    continue
                outs.append([Out(SUCCESS, msg)])
                pending.append(len(outs) - 1)
        if rows:
            try:
                with transaction.atomic():
                    self.write(rows, ctx.tenant_id)
            except Exception as e:  # the database refused the batch: its messages fail, the chain goes on
                error = f"could not store: {type(e).__name__}: {e}"[:1024]
                for i in pending:
                    outs[i] = fail(outs[i][0].msg, error)
        return outs


class SaveTimeseriesNode(_SaveNode):
    """POST_TELEMETRY_REQUEST data (``{key: value}`` stamped with metadata ``ts`` or now,
    ``{ts, values}``, or a list of those) as time series of the originator. ``defaultTTL``
    (seconds; the message's ``TTL`` metadata overrides it; 0: the global TELEMETRY_TTL_DAYS)
    becomes the TTL of each series written (devices/telemetry/series_ttl.py), also for messages
    the pipeline stored already. The other ThingsBoard options are accepted and ignored."""

    label = "save time series"
    group = "ACTION"
    side_effects = True
    defaults = {"defaultTTL": 0}
    fields = (field("defaultTTL", "number", "Default TTL (s)", help="0: the global retention"),)
    msg_type = POST_TELEMETRY_REQUEST

    @classmethod
    def clean_config(cls, configuration):
        ttl = configuration.get("defaultTTL") or 0
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
            raise ConfigError("defaultTTL must be a non-negative number of seconds")
        return {**configuration, "defaultTTL": ttl}

    def ttl_ms(self, msg) -> int:
        raw = str(msg.metadata.get("TTL", "")).strip()
        return (int(raw) if raw.isdigit() else self.config["defaultTTL"]) * 1000

    def process_batch(self, ctx, msgs):
        outs = super().process_batch(ctx, msgs)
        ttls = []
        for msg, out in zip(msgs, outs, strict=True):
            ttl = self.ttl_ms(msg) if out and out[0].relation == SUCCESS else 0
            try:
                keys = {k for _, values in parse_telemetry(msg.data, ctx.now) for k in values} if ttl else ()
            except (ValidationError, ValueError):  # a stored message the pipeline took: nothing to add
                keys = ()
            ttls.extend((msg.originator_id, key, ttl) for key in keys)
        if ttls:
            set_ttls(ttls)
        return outs

    def rows(self, ctx, msg):
        ts = msg.metadata.get("ts", "")
        now = int(ts) if ts.isdigit() else ctx.now
        entries = parse_telemetry(msg.data, now)
        return [Point(msg.originator_id, key, t, value) for t, values in entries for key, value in values.items()]

    def write(self, rows, tenant_id):
        write_points(rows, tenant_id=tenant_id)


class SaveAttributesNode(_SaveNode):
    """POST_ATTRIBUTES_REQUEST data (a flat ``{key: value}``) as attributes of the originator in
    the message's ``scope`` metadata when it names a scope, else the configured ``scope`` (default
    SERVER_SCOPE), as ThingsBoard's node chooses. ``notifyDevice`` and the other options are accepted
    and ignored."""

    label = "save attributes"
    group = "ACTION"
    side_effects = True
    defaults = {"scope": "SERVER_SCOPE", "notifyDevice": False}
    fields = (field("scope", "select", "Scope", choices=AttributeScope.values,
                    help="the message's 'scope' metadata wins when it names a scope"),
              field("notifyDevice", "bool", "Notify device"))
    msg_type = POST_ATTRIBUTES_REQUEST

    @classmethod
    def clean_config(cls, configuration):
        scope = configuration.get("scope") or AttributeScope.SERVER_SCOPE
        if scope not in AttributeScope.values:
            raise ConfigError(f"scope must be one of {', '.join(AttributeScope.values)}, got {str(scope)[:40]!r}")
        return {**configuration, "scope": scope}

    def rows(self, ctx, msg):
        values = parse_attributes(msg.data)
        scope = msg.metadata.get("scope")
        scope = scope if scope in AttributeScope.values else self.config["scope"]
        return [(msg.originator_id, scope, key, value, ctx.now) for key, value in values.items()]

    def write(self, rows, tenant_id):
        save_attributes_many(rows, tenant_id=tenant_id)


class LogNode(ScriptNode):
    """Logs the string ``jsScript`` or ``tbelScript`` (the body of ``ToString(msg, metadata,
    msgType)``) returns, at INFO on the ``rulechains.log`` logger; Success. Without a script of its
    language it logs the message and its metadata as ThingsBoard's default script does (logging
    needs no user script to be useful)."""

    label = "log"
    group = "ACTION"
    defaults = {"scriptLang": "JS", "jsScript": DEFAULT_LOG_SCRIPT, "tbelScript": DEFAULT_LOG_SCRIPT}
    fields = SCRIPT_FIELDS
    script_kind = "log"

    @classmethod
    def clean_config(cls, configuration):
        try:
            scripts.script_of(configuration)
            return configuration
        except scripts.ScriptConfigError:
            pass
        return {**configuration, "scriptLang": "JS", "jsScript": DEFAULT_LOG_SCRIPT}

    def outs(self, msg, result):
        if not result.ok:
            return fail(msg, result.error)
        text = json.loads(result.output_json)
        log.info("%s: %s", self.name, text if isinstance(text, str) else result.output_json)
        return [Out(SUCCESS, msg)]


class DeviceProfileNode(BaseNode):
    """ThingsBoard's "device profile" node, first in its default root chain: messages of devices go
    on by Success (a device of another tenant, or one that no longer exists, by Failure); other
    originators pass. ``persistAlarmRulesState`` and ``fetchAlarmRulesStateOnStart`` are accepted;
    the profile's alarm rules (``profileData.alarms``) are not evaluated here: use the create and
    clear alarm nodes. A profile's default rule chain is reached with the rule chain node's
    ``forwardMsgToDefaultRuleChain``."""

    label = "device profile"
    group = "ACTION"
    defaults = {"persistAlarmRulesState": False, "fetchAlarmRulesStateOnStart": False}
    fields = (field("persistAlarmRulesState", "bool", "Persist alarm rules state"),
              field("fetchAlarmRulesStateOnStart", "bool", "Fetch alarm rules state on start"))
    relations = ("Success", "Failure", "Alarm Created", "Alarm Updated", "Alarm Severity Updated", "Alarm Cleared")

    def process_batch(self, ctx, msgs):
        devices = ctx.originators([m for m in msgs if m.originator_type == "DEVICE"])
        return [fail(m, f"Device with id [{m.originator_id}] is not found")
                if m.originator_type == "DEVICE" and devices.get(m.originator_id) is None else [Out(SUCCESS, m)]
                for m in msgs]
