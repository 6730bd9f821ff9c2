"""ThingsBoard's "device state" node (action.TbDeviceStateNode, since 3.6).

It reports a connectivity ``event`` for the originator device as ThingsBoard's device state
service does: the device's server attributes (``lastConnectTime``, ``lastActivityTime`` with
``active`` true, ``lastDisconnectTime``, ``inactivityAlarmTime`` with ``active`` false; the
event's ts is the metadata ``ts``, else now) are written in one statement per batch, and the
event message (CONNECT_EVENT, ...; ACTIVITY_EVENT only when the device was not active) goes to the
rule engine with the device's state as data, keyed as ThingsBoard's device state node sends it
(``lastConnectTime``, ``lastActivityTime``, ``lastDisconnectTime``, ``lastInactivityAlarmTime``: the
stored ``inactivityAlarmTime``, ``inactivityTimeout``; no ``active``). The incoming message leaves
by Success.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.dispatch import Signal

from devices.attributes import attribute_values, save_attributes_many
from rulechains.messages import FAILURE, SUCCESS, Msg, msg_ts
from rulechains.nodes.base import BaseNode, ConfigError, Out, field

__all__ = ["DeviceStateNode", "EVENTS", "rate_limits", "activity_changed"]

log = logging.getLogger(__name__)

#: event -> the server attributes it writes (ts for the time key, then the fixed values)
EVENTS = {"CONNECT_EVENT": ("lastConnectTime", {}), "ACTIVITY_EVENT": ("lastActivityTime", {"active": True}),
          "DISCONNECT_EVENT": ("lastDisconnectTime", {}),
          "INACTIVITY_EVENT": ("inactivityAlarmTime", {"active": False})}
STATE_KEYS = ("active", "lastConnectTime", "lastActivityTime", "lastDisconnectTime", "inactivityAlarmTime",
              "inactivityTimeout")
#: the event message's data: ThingsBoard's key -> the stored attribute it is read from
EVENT_DATA = {"lastConnectTime": "lastConnectTime", "lastActivityTime": "lastActivityTime",
              "lastDisconnectTime": "lastDisconnectTime", "lastInactivityAlarmTime": "inactivityAlarmTime"}
RATE_LIMITED = "Rate limited"
#: ThingsBoard's DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION default: events:seconds, per device
DEFAULT_RATE_LIMITS = "1:1,30:60,60:3600"
#: ThingsBoard's default inactivity timeout (ms), in the event's data when the device has none
DEFAULT_INACTIVITY_TIMEOUT = 600_000
#: Sent (sender: DeviceStateNode) when devices became active or inactive, inside the node's transaction,
#: with ``tenant_id`` and ``changes``: [(Device, "ACTIVE" | "INACTIVE", ts)]. notifications/ subscribes
#: (DEVICE_ACTIVITY rules); this app does not know who listens.
activity_changed = Signal()


def rate_limits() -> list[tuple[int, int]]:
    """(events, seconds) windows of DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION ("" disables)."""
    text = str(getattr(settings, "DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION", DEFAULT_RATE_LIMITS))
    limits = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        count, _, seconds = part.partition(":")
        if count.isdigit() and seconds.isdigit() and int(seconds) > 0:
            limits.append((int(count), int(seconds)))
        else:
            log.warning("DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION: %r is not events:seconds, ignored", part[:40])
    return limits


def _allowed(device_id, now_s: float) -> bool:
    """One more event for this device within every window (cache counters, shared by processes)."""
    for count, seconds in rate_limits():
        key = f"rulenode-devicestate:{device_id}:{seconds}:{int(now_s // seconds)}"
        cache.add(key, 0, timeout=seconds + 1)
        try:
            used = cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=seconds + 1)
            used = 1
        if used > count:
            return False
    return True


class DeviceStateNode(BaseNode):
    """Sends ``event`` (CONNECT_EVENT, ACTIVITY_EVENT, DISCONNECT_EVENT, INACTIVITY_EVENT) for the
    originator device. Another originator type goes by Failure with ThingsBoard's text; a device
    over its rate limit (DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION) by "Rate limited"."""

    label = "device state"
    group = "ACTION"
    side_effects = True
    relations = ("Success", "Failure", RATE_LIMITED)
    defaults = {"event": "ACTIVITY_EVENT"}
    fields = (field("event", "select", "Device connectivity event", choices=tuple(EVENTS)),)

    @classmethod
    def clean_config(cls, configuration):
        event = configuration.get("event")
        if event is None:
            raise ConfigError("Event cannot be null!")
        if not isinstance(event, str) or event not in EVENTS:
            raise ConfigError(f"Unsupported event: {str(event)[:40]}")
        return {"event": event}

    def process_batch(self, ctx, msgs):
        outs: list = [None] * len(msgs)
        devices = ctx.originators([m for m in msgs if m.originator_type == "DEVICE"])
        todo = []
        for i, msg in enumerate(msgs):
            if msg.originator_type != "DEVICE":
                outs[i] = [Out(FAILURE, msg, f"Unsupported originator entity type: [{msg.originator_type}]. "
                                             "Only DEVICE entity type is supported.")]
            elif devices.get(msg.originator_id) is None:
                outs[i] = [Out(FAILURE, msg, f"Device with id [{msg.originator_id}] is not found")]
            elif not _allowed(msg.originator_id, time.time()):
                outs[i] = [Out(RATE_LIMITED, msg)]
            else:
                todo.append(i)
        if todo:
            self.report(ctx, [msgs[i] for i in todo], devices)
            for i in todo:
                outs[i] = [Out(SUCCESS, msgs[i])]
        return outs

    def report(self, ctx, msgs, devices) -> None:
        """Write the state attributes of the batch's devices and queue their event messages."""
        time_key, fixed = EVENTS[self.config["event"]]
        ids = {m.originator_id for m in msgs}
        state = {}
        for (entity_id, key), (_, value) in attribute_values(ids, "SERVER_SCOPE", STATE_KEYS).items():
            state.setdefault(entity_id, {})[key] = value
        rows, events, changes = [], [], []
        for msg in msgs:
            ts = msg_ts(msg, ctx.now)
            current = state.setdefault(msg.originator_id, {})
            was_active = current.get("active") is True
            written = {time_key: ts, **fixed}
            current.update(written)
            rows += [(msg.originator_id, "SERVER_SCOPE", key, value, ts) for key, value in written.items()]
            if "active" in fixed and fixed["active"] != was_active:
                changes.append((devices[msg.originator_id], "ACTIVE" if fixed["active"] else "INACTIVE", ts))
            if self.config["event"] == "ACTIVITY_EVENT" and was_active:
                continue  # ThingsBoard sends ACTIVITY_EVENT only when the device becomes active
            device = devices[msg.originator_id]
            data = {key: current.get(stored, 0) for key, stored in EVENT_DATA.items()}
            data["inactivityTimeout"] = current.get("inactivityTimeout", DEFAULT_INACTIVITY_TIMEOUT)
            metadata = {"deviceName": device.name, "deviceType": device.profile.name if device.profile_id else "",
                        "deviceLabel": device.label or "", "scope": "SERVER_SCOPE", "ts": str(ts)}
            events.append(Msg(self.config["event"], ctx.tenant_id, "DEVICE", msg.originator_id, data, metadata))
        save_attributes_many(rows, tenant_id=ctx.tenant_id)
        if changes:
            activity_changed.send(DeviceStateNode, tenant_id=ctx.tenant_id, changes=changes)
        if events:
            from rulechains import services  # imported late: services import the engine's tasks

            services.submit(events)
