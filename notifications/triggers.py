"""Notification rules of the triggers other than the alarm ones (those are notifications/rules.py).

    if triggers.wanted("ENTITY_ACTION", tenant_id):      # one cached set lookup, no query
        triggers.notify(TriggerEvent("ENTITY_ACTION", tenant_id, params, info, facts=...))

What makes each trigger fire is subscribed in notifications/trigger_receivers.py. An event is queued
with the alarm events of its transaction (rules.queue: handled once it commits, dropped with a
rolled-back savepoint) and handled in a batch: one query finds the matching rules, one their
targets; requests and inbox rows are inserted in bulk (notifications/delivery.py).

Owner of the rules an event reaches: the tenant's own for tenant-level triggers (ENTITY_ACTION,
DEVICE_ACTIVITY, INTEGRATION_LIFECYCLE_EVENT, RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT, EDGE_*); the
system administrator's for the platform ones (ENTITIES_LIMIT, API_USAGE_LIMIT, RATE_LIMITS,
TASK_PROCESSING_FAILURE, NEW_PLATFORM_VERSION, RESOURCES_SHORTAGE), whose recipients are usually
AFFECTED_TENANT_ADMINISTRATORS (the tenant the event is about) or SYSTEM_ADMINISTRATORS.

Each trigger's ``triggerConfig`` fields are ThingsBoard's (tb_pe_client's *NotificationRuleTriggerConfig);
an empty or missing filter list matches everything, as in ThingsBoard's UI. EDGE_CONNECTION,
EDGE_COMMUNICATION_FAILURE and NEW_PLATFORM_VERSION have no matcher: their rules are stored and served, and
nothing here makes those events (no Edge; no update server: /api/admin/updates never announces a version).
"""

import logging
import math
from dataclasses import dataclass, field

from notifications import sending
from notifications.delivery import send_batch
from notifications.models import NotificationRequest, NotificationRule, NotificationTarget
from notifications.rules import queue, rule_keys
from tbproject.clock import now_ms

__all__ = ["TriggerEvent", "SYSTEM_TRIGGERS", "wanted", "notify", "handle", "MATCHERS", "normal_name"]

log = logging.getLogger(__name__)

#: triggers whose rules are the system administrator's (the event names the tenant it is about)
SYSTEM_TRIGGERS = frozenset({"ENTITIES_LIMIT", "API_USAGE_LIMIT", "RATE_LIMITS", "TASK_PROCESSING_FAILURE",
                             "NEW_PLATFORM_VERSION", "RESOURCES_SHORTAGE"})


@dataclass
class TriggerEvent:
    trigger: str
    tenant_id: object  # the tenant the event happened in (None: none)
    params: dict  # the template parameters
    info: dict = field(default_factory=dict)  # the inbox rows' ``info``
    facts: dict = field(default_factory=dict)  # what the rule's triggerConfig is matched against
    originator: tuple = ("", None)  # (entity type, id)
    recipients: dict = field(default_factory=dict)  # context of ORIGINATOR_ENTITY_OWNER_USERS, AFFECTED_USER

    @property
    def owner(self):
        return None if self.trigger in SYSTEM_TRIGGERS else (str(self.tenant_id) if self.tenant_id else None)


def normal_name(entity_type: str) -> str:
    """ThingsBoard's EntityType normal name: DEVICE_PROFILE -> "Device profile"."""
    return str(entity_type).replace("_", " ").capitalize()


def wanted(trigger: str, tenant_id) -> bool:
    """Whether an enabled rule of ``trigger`` could be reached (the cached set of rule owners and types)."""
    owner = None if trigger in SYSTEM_TRIGGERS else (str(tenant_id) if tenant_id else None)
    if owner is None and trigger not in SYSTEM_TRIGGERS:
        return False  # a tenant-level event with no tenant (a system administrator's entity)
    return (owner, trigger) in rule_keys()


def notify(event: TriggerEvent) -> None:
    """Queue ``event`` (callers ask :func:`wanted` first, so that a tenant without rules pays nothing more)."""
    queue(event)


# --- matching: triggerConfig x the event's facts ---------------------------------------------------

def _any_of(config: dict, key: str, value) -> bool:
    allowed = config.get(key)
    return not allowed or (value is not None and str(value) in {str(v) for v in allowed})


def _entity_action(config: dict, facts: dict) -> bool:
    flag = {"CREATED": "created", "UPDATED": "updated", "DELETED": "deleted"}[facts["action"]]
    return bool(config.get(flag)) and _any_of(config, "entityTypes", facts["entity_type"])


def _device_activity(config: dict, facts: dict) -> bool:
    if facts["event"] not in (config.get("notifyOn") or ()):
        return False
    if config.get("devices"):
        return _any_of(config, "devices", facts["device_id"])
    return _any_of(config, "deviceProfiles", facts["profile_id"])


def _integration_lifecycle(config: dict, facts: dict) -> bool:
    if config.get("onlyOnError") and not facts.get("error"):
        return False
    return (_any_of(config, "integrationTypes", facts["integration_type"])
            and _any_of(config, "integrations", facts["integration_id"])
            and _any_of(config, "notifyOn", facts["event"]))


def _rule_engine_lifecycle(config: dict, facts: dict) -> bool:
    if not _any_of(config, "ruleChains", facts["rule_chain_id"]):
        return False
    if facts["component"] == "RULE_NODE":
        if not config.get("trackRuleNodeEvents"):
            return False
        events, only_failures = "ruleNodeEvents", "onlyRuleNodeLifecycleFailures"
    else:
        events, only_failures = "ruleChainEvents", "onlyRuleChainLifecycleFailures"
    if config.get(only_failures) and not facts.get("error"):
        return False
    return _any_of(config, events, facts["event"])


def _entities_limit(config: dict, facts: dict) -> bool:
    """The creation that made the count reach ``threshold`` of the limit (once per crossing)."""
    if not _any_of(config, "entityTypes", facts["entity_type"]) or not facts["limit"]:
        return False
    threshold = config.get("threshold")
    threshold = 0.8 if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) else threshold
    need = max(1, math.ceil(facts["limit"] * min(max(threshold, 0), 1)))
    return facts["before"] < need <= facts["count"]


def _api_usage(config: dict, facts: dict) -> bool:
    return _any_of(config, "apiFeatures", facts["feature"]) and _any_of(config, "notifyOn", facts["status"])


def _rate_limits(config: dict, facts: dict) -> bool:
    return _any_of(config, "apis", facts["api"])


_RESOURCE_THRESHOLDS = {"CPU": "cpuThreshold", "RAM": "ramThreshold", "STORAGE": "storageThreshold"}


def _resources_shortage(config: dict, facts: dict) -> bool:
    """The check whose reading made the usage reach the rule's threshold of the resource (once per crossing)."""
    threshold = config.get(_RESOURCE_THRESHOLDS[facts["resource"]])
    threshold = 0.8 if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) else threshold
    return facts["before"] < round(threshold * 100, 6) <= facts["usage"]  # 0.55 * 100 is 55.00000000000001


MATCHERS = {
    "ENTITY_ACTION": _entity_action, "DEVICE_ACTIVITY": _device_activity,
    "INTEGRATION_LIFECYCLE_EVENT": _integration_lifecycle,
    "RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT": _rule_engine_lifecycle, "ENTITIES_LIMIT": _entities_limit,
    "API_USAGE_LIMIT": _api_usage, "RATE_LIMITS": _rate_limits, "TASK_PROCESSING_FAILURE": lambda c, f: True,
    "RESOURCES_SHORTAGE": _resources_shortage,
}


# --- handling a batch ------------------------------------------------------------------------------

def _rules_of(events: list) -> list:
    owners = {e.owner for e in events}
    triggers = {e.trigger for e in events}
    rules = NotificationRule.objects.filter(enabled=True, trigger_type__in=triggers).select_related("template")
    tenants = [o for o in owners if o is not None]
    found = list(rules.filter(tenant_id__in=tenants)) if tenants else []
    if None in owners:
        found += list(rules.filter(tenant__isnull=True))
    return found


def handle(events: list) -> int:
    """Fire the rules the events match; returns how many requests were sent. One rule's failure
    (logged) loses only what that rule would have made."""
    keys = rule_keys()
    events = [e for e in events if (e.owner, e.trigger) in keys and e.trigger in MATCHERS]
    if not events:
        return 0
    rules = _rules_of(events)
    if not rules:
        return 0
    wanted_ids = {t for r in rules for t in r.target_ids()}
    targets = {str(t.pk): t for t in NotificationTarget.objects.filter(pk__in=wanted_ids)}
    now, made = now_ms(), []
    for rule in rules:
        owner = str(rule.tenant_id) if rule.tenant_id else None
        mine = [t for t in rule.target_ids() if t in targets and targets[t].tenant_id == rule.tenant_id]
        size = len(made)
        try:
            for event in events:
                if event.owner != owner or event.trigger != rule.trigger_type:
                    continue
                if not MATCHERS[event.trigger](rule.trigger_config or {}, event.facts):
                    continue
                recipients = {k: (str(v) if v is not None else None) for k, v in event.recipients.items()}
                if event.tenant_id:
                    recipients.setdefault("tenant_id", str(event.tenant_id))
                made.append(NotificationRequest(
                    tenant_id=rule.tenant_id, targets=mine, rule=rule, template_ref=rule.template,
                    template=_template_json(rule.template), context={"params": event.params, "recipients": recipients},
                    info={"type": event.trigger, **event.info}, originator_type=event.originator[0] or "",
                    originator_id=event.originator[1], created_time=now))
        except Exception:
            del made[size:]
            log.exception("notification rule %s failed; the other rules went on", rule.pk)
    if made:
        send_batch(sending.jobs_for(made, targets))
    return len(made)


def _template_json(template) -> dict:
    from notifications.shapes import template_json

    return template_json(template)
