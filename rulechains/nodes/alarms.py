"""Alarm nodes: create (or update) and clear an alarm of the message's originator."""

import json

from rulechains import alarm_propagation, alarms, scripts
from rulechains.messages import FALSE, changed
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, fail, field, substitute

__all__ = ["CreateAlarmNode", "ClearAlarmNode"]

DEFAULT_TYPE = "General Alarm"
ALARM = "ALARM"


class _AlarmNode(BaseNode):
    """Both nodes build the alarm's ``details`` with ``alarmDetailsBuildJs`` (or
    ``alarmDetailsBuildTbel`` with ``scriptLang`` TBEL): the body of ``Details(msg, metadata,
    msgType)`` returning an object, with the alarm's previous details in
    ``metadata.prevAlarmDetails`` (JSON text) when there is an alarm already. ``alarmType`` may use
    ``${metadataKey}`` / ``$[dataKey]``. An alarm made or changed leaves as a message of type ALARM
    whose data is the alarm's JSON."""

    @classmethod
    def clean_config(cls, configuration):
        alarm_type = configuration.get("alarmType") or DEFAULT_TYPE
        if not isinstance(alarm_type, str):
            raise ConfigError("alarmType must be a string")
        script = None
        try:
            script = scripts.script_of(configuration, "alarmDetailsBuildJs", "alarmDetailsBuildTbel")
        except scripts.ScriptConfigError as e:
            if str(configuration.get("scriptLang") or "JS").upper() not in ("JS", "TBEL", "JAVASCRIPT"):
                raise ConfigError(str(e)) from None
        return {**configuration, "alarmType": alarm_type, "script": script}

    @classmethod
    def check(cls, configuration):
        script = cls.clean_config(configuration)["script"]
        if script is not None:
            error = scripts.check("details", script[1], script[0])
            if error is not None:
                raise ConfigError(f"the details script does not compile: {error}")

    def details(self, msgs, previous: list) -> list:
        """Per message the details object, or the NodeError to fail it with."""
        script = self.config["script"]
        if script is None:
            return [prev if prev is not None else {} for prev in previous]
        inputs = [changed(m, metadata={**m.metadata, "prevAlarmDetails": json.dumps(prev)}) if prev is not None else m
                  for m, prev in zip(msgs, previous, strict=True)]
        results = scripts.run("details", f"rulenode:{self.id}", self.row.version, script[1], inputs, script[0])
        out = []
        for result in results:
            if not result.ok:
                out.append(NodeError(result.error))
                continue
            value = json.loads(result.output_json)
            out.append(value if isinstance(value, dict) else NodeError(
                f"Wrong result type: the details script must return an object, got {result.output_json[:100]}"))
        return out

    def alarm_out(self, msg, alarm, relation: str, flag: str) -> list[Out]:
        metadata = {**msg.metadata, flag: "true"}
        return [Out(relation, changed(msg, data=alarms.alarm_json(alarm), metadata=metadata, msg_type=ALARM))]


class CreateAlarmNode(_AlarmNode):
    """Raises an alarm of ``alarmType`` with ``severity`` (a severity name or a pattern, e.g.
    ``${severity}``) on the originator, or updates its active one (severity, details, endTs):
    relations ``Created`` (metadata ``isNewAlarm``) and ``Updated`` (``isExistingAlarm``). With
    ``useMessageAlarmData`` the alarm's type, severity and details come from the message data.
    Failure for an unknown severity or a failing details script. With ``propagate`` (parents along
    ``relationTypes``, any type when empty), ``propagateToOwner`` or ``propagateToTenant``, where a
    new alarm, or one whose propagation changed, propagates is recorded once for the whole batch
    (rulechains/alarm_propagation.py)."""

    label = "create alarm"
    group = "ACTION"
    side_effects = True
    defaults = {"alarmType": DEFAULT_TYPE, "severity": "CRITICAL", "propagate": False, "useMessageAlarmData": False,
                "scriptLang": "JS", "alarmDetailsBuildJs": "var details = {};\nreturn details;"}
    fields = (field("alarmType", "text", "Alarm type"),
              field("severity", "text", "Severity",
                    help="CRITICAL, MAJOR, MINOR, WARNING, INDETERMINATE, or a ${pattern}"),
              field("propagate", "bool", "Propagate"), field("useMessageAlarmData", "bool", "Use message alarm data"),
              field("scriptLang", "select", "Script language", choices=("JS", "TBEL")),
              field("alarmDetailsBuildJs", "script", "Details (JavaScript)"))
    relations = ("Created", "Updated", "False", "Failure")

    @classmethod
    def clean_config(cls, configuration):
        config = super().clean_config(configuration)
        severity = configuration.get("severity") or "CRITICAL"
        if not isinstance(severity, str) or ("$" not in severity and severity not in alarms.SEVERITIES):
            raise ConfigError(f"Incorrect Alarm Severity value: {str(severity)[:40]}")
        relation_types = configuration.get("relationTypes") or []
        propagation = {"propagate": bool(configuration.get("propagate")),
                       "propagate_to_owner": bool(configuration.get("propagateToOwner")),
                       "propagate_to_tenant": bool(configuration.get("propagateToTenant")),
                       "propagate_relation_types": [t for t in relation_types if isinstance(t, str)]
                       if isinstance(relation_types, list) else []}
        return {**config, "severity": severity, "propagation": propagation,
                "fromMessage": bool(configuration.get("useMessageAlarmData")),
                "overwriteDetails": bool(configuration.get("overwriteAlarmDetails"))}

    def wanted(self, msg) -> tuple[str, str, object]:
        """(type, severity, details from the message or None) of the alarm this message raises."""
        if self.config["fromMessage"]:
            data = msg.data if isinstance(msg.data, dict) else {}
            alarm_type, severity = data.get("type"), data.get("severity")
            if not isinstance(alarm_type, str) or not alarm_type:
                raise NodeError("useMessageAlarmData: the message data has no alarm 'type'")
            return alarm_type, str(severity or ""), data.get("details")
        return substitute(self.config["alarmType"], msg), substitute(self.config["severity"], msg), None

    def process_batch(self, ctx, msgs):
        wanted, previous = [], []
        for msg in msgs:
            try:
                wanted.append(self.wanted(msg))
            except NodeError as e:
                wanted.append(e)
            current = None if isinstance(wanted[-1], NodeError) else alarms.latest(ctx.tenant_id, msg.originator_id,
                                                                                   wanted[-1][0])
            previous.append(current.details if current is not None and not current.cleared else None)
        build = not self.config["fromMessage"] or self.config["overwriteDetails"]
        details = self.details(msgs, previous) if build else [w[2] if isinstance(w, tuple) else None for w in wanted]
        pending: list = []
        outs = [self.one(ctx, msg, want, detail, pending) for msg, want, detail in zip(msgs, wanted, details,
                                                                                        strict=True)]
        alarm_propagation.record(pending)  # one relation walk for the batch
        return outs

    def one(self, ctx, msg, want, detail, pending: list):
        for problem in (want, detail):
            if isinstance(problem, NodeError):
                return fail(msg, problem)
        alarm_type, severity, _ = want
        if severity not in alarms.SEVERITIES:
            return fail(msg, f"Used incorrect pattern or Alarm Severity not included in message: {severity[:40]!r}")
        ts = msg.metadata.get("ts", "")
        alarm, created = alarms.raise_alarm(ctx.tenant_id, msg.originator_type, msg.originator_id, alarm_type,
                                            severity, detail, ctx.now, start_ts=int(ts) if ts.isdigit() else None,
                                            propagation=self.config["propagation"], pending=pending)
        if created:
            return self.alarm_out(msg, alarm, "Created", "isNewAlarm")
        return self.alarm_out(msg, alarm, "Updated", "isExistingAlarm")


class ClearAlarmNode(_AlarmNode):
    """Clears the originator's latest alarm of ``alarmType`` if it is active: relation
    ``Cleared`` (metadata ``isClearedAlarm``); ``False`` with the message as it came when there is
    none to clear."""

    label = "clear alarm"
    group = "ACTION"
    side_effects = True
    defaults = {"alarmType": DEFAULT_TYPE, "scriptLang": "JS",
                "alarmDetailsBuildJs": "var details = {};\nreturn details;"}
    fields = (field("alarmType", "text", "Alarm type"),
              field("scriptLang", "select", "Script language", choices=("JS", "TBEL")),
              field("alarmDetailsBuildJs", "script", "Details (JavaScript)"))
    relations = ("Cleared", "False", "Failure")

    def process_batch(self, ctx, msgs):
        found = [alarms.latest(ctx.tenant_id, m.originator_id, substitute(self.config["alarmType"], m)) for m in msgs]
        active = [a if a is not None and not a.cleared else None for a in found]
        todo = [(m, a) for m, a in zip(msgs, active, strict=True) if a is not None]
        details = iter(self.details([m for m, _ in todo], [a.details for _, a in todo]) if todo else [])
        outs = []
        for msg, alarm in zip(msgs, active, strict=True):
            if alarm is None:
                outs.append([Out(FALSE, msg)])
                continue
            detail = next(details)
            if isinstance(detail, NodeError):
                outs.append(fail(msg, detail))
                continue
            alarms.clear(alarm, detail, ctx.now)
            outs.append(self.alarm_out(msg, alarm, "Cleared", "isClearedAlarm"))
        return outs
