"""Checks of ThingsBoard's notification JSON for the fields this server acts on; everything else
is kept as sent. Each function answers the cleaned value or raises DRF's ValidationError (400)
with a message naming the field. Ids of targets and templates are looked up by the caller
(another owner's id is a 404, not a 400)."""

import json
import re
import urllib.parse
import uuid

from rest_framework.exceptions import ValidationError

from notifications import conf
from notifications.choices import (
    ALARM_ACTIONS,
    ALARM_SEARCH_STATUSES,
    ALARM_SEVERITIES,
    DELIVERY_METHODS,
    NOTIFICATION_TYPES,
    SYSTEM_FILTERS,
    TARGET_TYPES,
    TRIGGER_TYPES,
    USERS_FILTERS,
)
from tbproject import outbound
from tbproject.text import check_json

__all__ = ["body_of", "name_of", "target_config", "template_config", "enabled_methods", "trigger_config",
           "recipients_config", "sending_delay", "uuid_list", "MAX_TARGETS", "NAME_MAX", "SUBJECT_MAX", "BODY_MAX",
           "CONFIG_MAX"]

NAME_MAX = 255
SUBJECT_MAX = 1024  # characters of a template's subject
BODY_MAX = 65536  # characters of a template's body
CONFIG_MAX = 256 * 1024  # a configuration as JSON text
MAX_DELAY_SEC = 604800  # ThingsBoard's sendingDelayInSec limit (a week)
MAX_IDS = 10000  # ids in one list (usersIds...)
MAX_TARGETS = 100  # targets of one request or escalation step


def body_of(request) -> dict:
    """The request's JSON object, with no NUL character or lone surrogate anywhere in it."""
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    try:
        return check_json(data)
    except ValueError as e:
        raise ValidationError(f"Invalid request body: {e}") from None


def name_of(data: dict, field: str = "name", required: bool = True) -> str:
    value = data.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be specified!")
    if len(value) > NAME_MAX:
        raise ValidationError(f"{field} length must be equal or less than {NAME_MAX}")
    return value


def _size(value, what: str) -> None:
    if len(json.dumps(value)) > CONFIG_MAX:
        raise ValidationError(f"{what} is larger than {CONFIG_MAX} bytes")


def uuid_list(value, what: str, *, allow_empty: bool = False, limit: int = MAX_IDS) -> list[str]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise ValidationError(f"{what} must be a non-empty list of ids")
    if len(value) > limit:
        raise ValidationError(f"{what}: at most {limit} ids")
    out = []
    for item in value:
        raw = item.get("id") if isinstance(item, dict) else item
        try:
            out.append(str(uuid.UUID(str(raw))))
        except (TypeError, ValueError, AttributeError):
            raise ValidationError(f"{what}: invalid UUID string: {str(raw)[:64]}") from None
    return list(dict.fromkeys(out))


def _users_filter(value, system: bool) -> dict:
    if not isinstance(value, dict):
        raise ValidationError("configuration.usersFilter must be an object")
    kind = value.get("type")
    if kind not in USERS_FILTERS:
        raise ValidationError(f"Unsupported users filter type: {str(kind)[:64]}; "
                              f"use one of: {', '.join(USERS_FILTERS)}")
    if not system and kind in SYSTEM_FILTERS:
        raise ValidationError(f"Users filter {kind} is available to the system administrator only")
    if system and kind in ("CUSTOMER_USERS", "ORIGINATOR_ENTITY_OWNER_USERS", "USER_GROUP_LIST", "USER_ROLE"):
        raise ValidationError(f"Users filter {kind} is not available to the system administrator")
    if kind == "USER_LIST":
        value = {**value, "usersIds": uuid_list(value.get("usersIds"), "usersFilter.usersIds")}
    elif kind == "CUSTOMER_USERS":
        value = {**value, "customerId": uuid_list([value.get("customerId")], "usersFilter.customerId")[0]}
    elif kind == "USER_GROUP_LIST":
        value = {**value, "groupsIds": uuid_list(value.get("groupsIds"), "usersFilter.groupsIds")}
    elif kind == "USER_ROLE":
        value = {**value, "rolesIds": uuid_list(value.get("rolesIds"), "usersFilter.rolesIds")}
    elif kind == "TENANT_ADMINISTRATORS":
        for key in ("tenantsIds", "tenantProfilesIds"):
            if value.get(key) is not None:
                value = {**value, key: uuid_list(value[key], f"usersFilter.{key}", allow_empty=True)}
    return value


def target_config(value, *, system: bool) -> dict:
    """A NotificationTargetConfig: PLATFORM_USERS (with its users filter), SLACK or MICROSOFT_TEAMS."""
    if not isinstance(value, dict):
        raise ValidationError("configuration must be an object")
    kind = value.get("type")
    if kind not in TARGET_TYPES:
        raise ValidationError(f"Unsupported notification target type: {str(kind)[:64]}; "
                              f"use one of: {', '.join(TARGET_TYPES)}")
    _size(value, "configuration")
    if kind == "PLATFORM_USERS":
        return {**value, "usersFilter": _users_filter(value.get("usersFilter"), system)}
    if kind == "SLACK" and not isinstance(value.get("conversation"), dict):
        raise ValidationError("configuration.conversation must be an object")
    if kind == "MICROSOFT_TEAMS":
        for key in ("webhookUrl", "channelName"):
            if not isinstance(value.get(key), str) or not value[key]:
                raise ValidationError(f"configuration.{key} must be specified")
        if not re.match(r"https?://[^/\s]+", value["webhookUrl"]):
            raise ValidationError("configuration.webhookUrl must be an http(s) URL")
        if not conf.allow_private_urls():  # a name is resolved (and checked again) when sending
            try:
                outbound.check_host(urllib.parse.urlsplit(value["webhookUrl"]).hostname or "")
            except (outbound.UnsafeURL, ValueError):
                raise ValidationError("configuration.webhookUrl must name a public host") from None
    return value


def _method_template(method: str, value) -> dict:
    where = f"deliveryMethodsTemplates.{method}"
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must be an object")
    if value.get("method", method) != method:
        raise ValidationError(f"{where}.method must be {method}")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError(f"{where}.enabled must be true or false")
    body = value.get("body")
    if enabled and (not isinstance(body, str) or not body.strip()):
        raise ValidationError(f"{where}.body must be specified")
    if body is not None and not isinstance(body, str):
        raise ValidationError(f"{where}.body must be a string")
    if isinstance(body, str) and len(body) > BODY_MAX:
        raise ValidationError(f"{where}.body length must be equal or less than {BODY_MAX}")
    subject = value.get("subject")
    if enabled and method in ("WEB", "EMAIL") and (not isinstance(subject, str) or not subject.strip()):
        raise ValidationError(f"{where}.subject must be specified")
    if subject is not None and not isinstance(subject, str):
        raise ValidationError(f"{where}.subject must be a string")
    if isinstance(subject, str) and len(subject) > SUBJECT_MAX:
        raise ValidationError(f"{where}.subject length must be equal or less than {SUBJECT_MAX}")
    return {**value, "method": method, "enabled": enabled}


def template_config(value) -> dict:
    """A NotificationTemplateConfig: one template per delivery method, at least one enabled."""
    if not isinstance(value, dict):
        raise ValidationError("configuration must be an object")
    _size(value, "configuration")
    methods = value.get("deliveryMethodsTemplates")
    if not isinstance(methods, dict) or not methods:
        raise ValidationError("configuration.deliveryMethodsTemplates must be a non-empty object")
    unknown = [m for m in methods if m not in DELIVERY_METHODS]
    if unknown:
        raise ValidationError(f"Unsupported delivery method: {str(unknown[0])[:32]}; "
                              f"use one of: {', '.join(DELIVERY_METHODS)}")
    cleaned = {m: _method_template(m, t) for m, t in methods.items()}
    if not any(t["enabled"] for t in cleaned.values()):
        raise ValidationError("At least one delivery method must be enabled")
    return {**value, "deliveryMethodsTemplates": cleaned}


def enabled_methods(configuration) -> list[str]:
    methods = (configuration or {}).get("deliveryMethodsTemplates") or {}
    return [m for m in DELIVERY_METHODS if isinstance(methods.get(m), dict) and methods[m].get("enabled", True)]


def notification_type(value) -> str:
    if value not in NOTIFICATION_TYPES:
        raise ValidationError(f"Unsupported notificationType: {str(value)[:64]}")
    return value


def _strings(config: dict, key: str, allowed=None) -> None:
    value = config.get(key)
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"triggerConfig.{key} must be a list of strings")
    bad = [v for v in value if allowed is not None and v not in allowed]
    if bad:
        raise ValidationError(f"triggerConfig.{key}: unsupported value {bad[0][:64]}; use one of: {', '.join(allowed)}")


def trigger_config(trigger_type, value) -> dict:
    if trigger_type not in TRIGGER_TYPES:
        raise ValidationError(f"Unsupported triggerType: {str(trigger_type)[:64]}")
    if not isinstance(value, dict):
        raise ValidationError("triggerConfig must be an object")
    if value.get("triggerType", trigger_type) != trigger_type:
        raise ValidationError("triggerConfig.triggerType must be the rule's triggerType")
    _size(value, "triggerConfig")
    value = {**value, "triggerType": trigger_type}
    if trigger_type in ("ALARM", "ALARM_COMMENT", "ALARM_ASSIGNMENT"):
        _strings(value, "alarmTypes")
        _strings(value, "alarmSeverities", ALARM_SEVERITIES)
        _strings(value, "alarmStatuses", ALARM_SEARCH_STATUSES)
    if trigger_type == "ALARM":
        notify_on = value.get("notifyOn")
        if not isinstance(notify_on, list) or not notify_on:
            raise ValidationError("triggerConfig.notifyOn must be a non-empty list")
        _strings(value, "notifyOn", ALARM_ACTIONS)
        clear = value.get("clearRule")
        if clear is not None and (not isinstance(clear, dict) or not isinstance(clear.get("alarmStatuses", []), list)):
            raise ValidationError("triggerConfig.clearRule.alarmStatuses must be a list")
        if clear is not None:
            _strings({"clearRule.alarmStatuses": clear.get("alarmStatuses")}, "clearRule.alarmStatuses",
                     ALARM_SEARCH_STATUSES)
    if trigger_type == "ALARM_ASSIGNMENT":
        _strings(value, "notifyOn", ("ASSIGNED", "UNASSIGNED"))
    for key, allowed in _TRIGGER_LISTS.get(trigger_type, {}).items():
        if allowed is _IDS:  # List[UUID] in tb-pe-client: stored as canonical UUIDs, or the client cannot read it
            if value.get(key) is not None:
                value[key] = uuid_list(value[key], f"triggerConfig.{key}", allow_empty=True)
        else:
            _strings(value, key, allowed)
    if trigger_type == "DEVICE_ACTIVITY" and not value.get("notifyOn"):
        raise ValidationError("triggerConfig.notifyOn must be a non-empty list")
    for key in _THRESHOLDS.get(trigger_type, ()):
        threshold = value.get(key)
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 <= threshold <= 1):
            raise ValidationError(f"triggerConfig.{key} must be a number from 0 to 1")
    return value


#: trigger type -> its threshold fields (a share of a limit, 0..1)
_THRESHOLDS = {"ENTITIES_LIMIT": ("threshold",),
               "RESOURCES_SHORTAGE": ("cpuThreshold", "ramThreshold", "storageThreshold")}


_LIFECYCLE = ("CREATED", "STARTED", "ACTIVATED", "SUSPENDED", "UPDATED", "STOPPED", "DELETED", "FAILED",
              "DEACTIVATED", "RELATION_UPDATED", "RELATION_DELETED")
_IDS = "ids"
#: trigger type -> its list fields (their allowed values; None: any strings; _IDS: UUIDs)
_TRIGGER_LISTS = {
    "ENTITY_ACTION": {"entityTypes": None},
    "DEVICE_ACTIVITY": {"notifyOn": ("ACTIVE", "INACTIVE"), "devices": _IDS, "deviceProfiles": _IDS},
    "INTEGRATION_LIFECYCLE_EVENT": {"notifyOn": _LIFECYCLE, "integrationTypes": None, "integrations": _IDS},
    "RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT": {"ruleChains": _IDS, "ruleChainEvents": _LIFECYCLE,
                                              "ruleNodeEvents": _LIFECYCLE},
    "ENTITIES_LIMIT": {"entityTypes": None},
    "API_USAGE_LIMIT": {"apiFeatures": ("TRANSPORT", "DB", "RE", "JS", "TBEL", "EMAIL", "SMS", "ALARM", "REPORT", "AI"),
                        "notifyOn": ("ENABLED", "WARNING", "DISABLED")},
    "RATE_LIMITS": {"apis": None},
    # accepted and stored as ThingsBoard does; they never fire here (no Edge)
    "EDGE_CONNECTION": {"notifyOn": ("CONNECTED", "DISCONNECTED"), "edges": _IDS},
    "EDGE_COMMUNICATION_FAILURE": {"edges": _IDS},
}


def recipients_config(trigger_type: str, value) -> tuple[dict, list[str]]:
    """The cleaned recipients configuration and every target id it names (the caller checks them)."""
    if not isinstance(value, dict):
        raise ValidationError("recipientsConfig must be an object")
    value = {**value, "triggerType": trigger_type}
    if trigger_type == "ALARM":
        table = value.get("escalationTable")
        if not isinstance(table, dict) or not table:
            raise ValidationError("recipientsConfig.escalationTable must be a non-empty object")
        if len(table) > 20:
            raise ValidationError("recipientsConfig.escalationTable: at most 20 steps")
        cleaned = {}
        for delay, targets in table.items():
            if not re.fullmatch(r"[0-9]{1,12}", str(delay)) or int(delay) > MAX_DELAY_SEC:
                raise ValidationError(f"recipientsConfig.escalationTable: a delay must be a number of seconds "
                                      f"from 0 to {MAX_DELAY_SEC}, got {str(delay)[:32]}")
            cleaned[str(int(delay))] = uuid_list(targets, f"recipientsConfig.escalationTable.{delay}",
                                                 limit=MAX_TARGETS)
        value["escalationTable"] = cleaned
        return value, [t for ids in cleaned.values() for t in ids]
    value["targets"] = uuid_list(value.get("targets"), "recipientsConfig.targets", limit=MAX_TARGETS)
    return value, value["targets"]


def sending_delay(additional_config) -> int:
    if additional_config is None:
        return 0
    if not isinstance(additional_config, dict):
        raise ValidationError("additionalConfig must be an object")
    delay = additional_config.get("sendingDelayInSec", 0)
    if delay is None:
        return 0
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY_SEC:
        raise ValidationError(f"additionalConfig.sendingDelayInSec must be an integer from 0 to {MAX_DELAY_SEC}")
    return delay
