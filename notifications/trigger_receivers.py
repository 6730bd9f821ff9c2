"""What makes the non-alarm notification rules fire (connected in apps.py through receivers.connect).

Every receiver first asks :func:`triggers.wanted` (one lookup in a cached set of rule owners and trigger
types): a tenant without a rule of that trigger type pays nothing more, no query and no event.

- ENTITY_ACTION: post_save / post_delete of the entity models below (created, updated, deleted). The
  user acting is the request's (notifications/context.py); none for workers and commands. The devices
  and assets an integration's auto-provisioning inserts in bulk (no model signal) come with
  ``devices.provisioning.entities_provisioned``: one signal per batch, its rows "added" (the profiles,
  customers and groups it creates on the way are saved one at a time: post_save).
- DEVICE_ACTIVITY: ``rulechains.nodes.device_state.activity_changed`` (the "device state" node, the one
  place device activity is kept: ACTIVITY_EVENT makes a device active, INACTIVITY_EVENT inactive).
- INTEGRATION_LIFECYCLE_EVENT: the integrations' LC_EVENT debug events once written
  (``converters.events.events_written``): STARTED, STOPPED, UPDATED, FAILED, SUSPENDED, ACTIVATED.
- RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT: a rule chain created (STARTED), saved (UPDATED) or deleted
  (STOPPED).
- ENTITIES_LIMIT: ``tenants.limits.entities.entities_counted`` (creations of devices, assets, customers, users,
  dashboards, rule chains, integrations, converters and scheduler events of tenants with a max* limit).
- RATE_LIMITS: ``tenants.limits.refused``, at most once per RATE_LIMITS_DEDUP_SECONDS per limit and subject.
- TASK_PROCESSING_FAILURE: Celery's ``task_failure`` (any task but this app's own), at most once per
  TASK_FAILURE_DEDUP_SECONDS per task and exception type; about a tenant, a generic error line.
- API_USAGE_LIMIT: the periodic job notifications.usage_states.check (no hot path).
- RESOURCES_SHORTAGE: the periodic job notifications.resources.check (this host's CPU, RAM and storage).
"""

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor

from celery.signals import task_failure
from django.core.cache import cache
from django.db import close_old_connections
from django.db.models.signals import post_delete, post_save

from converters.events import events_written
from converters.models import Converter, DebugEvent
from dashboards.models import Dashboard
from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityGroup, EntityView
from devices.provisioning import entities_provisioned
from integrations.models import Integration
from notifications.context import actor
from notifications.rules import person_params, rule_keys_loaded
from notifications.triggers import TriggerEvent, normal_name, notify, wanted
from rulechains.models import RuleChain
from rulechains.nodes.device_state import activity_changed
from tbproject.api.ids import entity_id
from tenants import limits
from tenants.limits.entities import entities_counted
from tenants.models import Customer, Tenant, User

__all__ = ["connect", "ENTITY_TYPES", "RATE_LIMIT_APIS", "RATE_LIMITS_DEDUP_SECONDS", "USER_BOOKKEEPING",
           "TASK_FAILURE_DEDUP_SECONDS"]

#: model -> ThingsBoard entity type, for ENTITY_ACTION
ENTITY_TYPES = {Device: "DEVICE", Asset: "ASSET", Customer: "CUSTOMER", EntityView: "ENTITY_VIEW",
                DeviceProfile: "DEVICE_PROFILE", AssetProfile: "ASSET_PROFILE", EntityGroup: "ENTITY_GROUP",
                Dashboard: "DASHBOARD", User: "USER", Integration: "INTEGRATION", Converter: "CONVERTER",
                RuleChain: "RULE_CHAIN"}
#: tenant profile limit key -> (ThingsBoard's LimitedApi, its label, the limit level's entity type)
RATE_LIMIT_APIS = {
    limits.REST_TENANT: ("REST_REQUESTS_PER_TENANT", "REST API requests", "TENANT"),
    limits.REST_CUSTOMER: ("REST_REQUESTS_PER_CUSTOMER", "REST API requests per customer", "CUSTOMER"),
    limits.UPLINKS_TENANT: ("INTEGRATION_MSGS_PER_TENANT", "integration messages", "TENANT"),
    "transportTenantMsgRateLimit": ("TRANSPORT_MESSAGES_PER_TENANT", "transport messages", "TENANT"),
    "transportDeviceMsgRateLimit": ("TRANSPORT_MESSAGES_PER_DEVICE", "transport messages per device", "DEVICE"),
}
RATE_LIMITS_DEDUP_SECONDS = 3600
#: a failing task (by name and exception type) is told at most once per this many seconds
TASK_FAILURE_DEDUP_SECONDS = 3600
TASK_FAILURE_MESSAGE = "Internal error while processing the task (see the server logs)"
#: User fields whose saves (``update_fields`` only these) are bookkeeping, not an update: the last login,
#: the count of wrong passwords (tenants/lockout.py, in additionalInfo), a lock, a password change
USER_BOOKKEEPING = frozenset({"last_login", "additional_info", "password", "credentials_changed", "password_history",
                              "is_active"})
log = logging.getLogger(__name__)
_off_loop = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notification-triggers")


def _safe(gate):
    """A failing notification never fails the write that caused it. ``gate(*args, **kwargs)`` (a cached
    set lookup: :func:`triggers.wanted`) is asked first, so that a tenant without a rule of the trigger
    hands no work over. On an event loop (the lean ASGI app's device API) the receiver runs in a thread
    of its own, where the database may be used; the loop answers the gate only from the loaded cache."""

    def wrap(receiver):
        @functools.wraps(receiver)
        def run(*args, **kwargs):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass
            else:
                if rule_keys_loaded() and not _ask(gate, args, kwargs):
                    return
                _off_loop.submit(_in_thread, receiver, gate, args, kwargs)
                return
            if _ask(gate, args, kwargs):
                _call(receiver, args, kwargs)

        return run

    return wrap


def _ask(gate, args, kwargs) -> bool:
    try:
        return bool(gate(*args, **kwargs))
    except Exception:
        log.exception("notification trigger gate failed")
        return False


def _call(receiver, args, kwargs) -> None:
    try:
        receiver(*args, **kwargs)
    except Exception:
        log.exception("notification trigger %s failed", receiver.__name__)


def _in_thread(receiver, gate, args, kwargs) -> None:
    """A job of the off-loop thread: its database connection is checked before and after, as a request's is."""
    close_old_connections()
    try:
        if _ask(gate, args, kwargs):
            _call(receiver, args, kwargs)
    finally:
        close_old_connections()


_LIFECYCLE_ACTION = {"STARTED": "start", "ACTIVATED": "start", "FAILED": "start", "CREATED": "create",
                     "UPDATED": "update", "STOPPED": "stop", "SUSPENDED": "stop", "DELETED": "delete"}


def _name(obj) -> str:
    return getattr(obj, "name", None) or getattr(obj, "title", None) or getattr(obj, "email", "") or ""


def _entity_action(instance, action: str) -> None:
    tenant_id = getattr(instance, "tenant_id", None)
    if not wanted("ENTITY_ACTION", tenant_id):
        return
    kind = ENTITY_TYPES[type(instance)]
    user = actor()
    params = {"entityType": normal_name(kind), "entityId": str(instance.pk), "entityName": _name(instance),
              "actionType": {"CREATED": "added", "UPDATED": "updated", "DELETED": "deleted"}[action],
              "userId": str(user.pk) if user else "", **(person_params("user", user) if user else {})}
    info = {"entityId": entity_id(kind, instance.pk), "entityName": params["entityName"],
            "actionType": {"CREATED": "ADDED"}.get(action, action), "userId": params["userId"] or None,
            "userEmail": params.get("userEmail")}
    customer_id = getattr(instance, "customer_id", None)
    notify(TriggerEvent("ENTITY_ACTION", tenant_id, params, info, facts={"entity_type": kind, "action": action},
                        originator=(kind, instance.pk),
                        recipients={"customer_id": customer_id, "affected_user_id": user.pk if user else None}))


@_safe(lambda sender, instance, **kw: wanted("ENTITY_ACTION", getattr(instance, "tenant_id", None)))
def _saved(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or (sender is User and update_fields and set(update_fields) <= USER_BOOKKEEPING):
        return  # a login, a wrong password counted, a lock, a password set: no change of the user
    _entity_action(instance, "CREATED" if created else "UPDATED")


@_safe(lambda sender, instance, **kw: wanted("ENTITY_ACTION", getattr(instance, "tenant_id", None)))
def _deleted(sender, instance, **kwargs) -> None:
    _entity_action(instance, "DELETED")


@_safe(lambda sender, tenant_id, **kw: wanted("ENTITY_ACTION", tenant_id))
def _provisioned(sender, tenant_id, entities, **kwargs) -> None:
    for entity in entities:
        _entity_action(entity, "CREATED")


@_safe(lambda sender, tenant_id, **kw: wanted("DEVICE_ACTIVITY", tenant_id))
def _activity(sender, tenant_id, changes, **kwargs) -> None:
    if not wanted("DEVICE_ACTIVITY", tenant_id):
        return
    for device, event, ts in changes:
        params = {"deviceId": str(device.pk), "deviceName": device.name, "deviceLabel": device.label or "",
                  "deviceType": device.profile.name if device.profile_id else "", "eventType": event.lower()}
        info = {"deviceId": str(device.pk), "deviceName": device.name, "deviceLabel": device.label or "",
                "deviceType": params["deviceType"], "active": event == "ACTIVE", "ts": ts,
                "deviceCustomerId": entity_id("CUSTOMER", device.customer_id) if device.customer_id else None}
        notify(TriggerEvent("DEVICE_ACTIVITY", tenant_id, params, info, originator=("DEVICE", device.pk),
                            facts={"device_id": device.pk, "profile_id": device.profile_id, "event": event},
                            recipients={"customer_id": device.customer_id}))


@_safe(lambda sender, events, **kw: any(wanted("INTEGRATION_LIFECYCLE_EVENT", e.tenant_id) for e in events))
def _integration_events(sender, events, **kwargs) -> None:
    rows = [e for e in events if e.event_type == "LC_EVENT" and e.entity_type == "INTEGRATION"
            and wanted("INTEGRATION_LIFECYCLE_EVENT", e.tenant_id)]
    if not rows:
        return
    found = {i.pk: i for i in Integration.objects.filter(pk__in={e.entity_id for e in rows})}
    for row in rows:
        integration, body = found.get(row.entity_id), row.body or {}
        if integration is None:
            continue
        event, error = str(body.get("event") or ""), body.get("error") or ""
        params = {"integrationType": integration.type, "integrationName": integration.name,
                  "integrationId": str(integration.pk), "eventType": event.lower(),
                  "action": _LIFECYCLE_ACTION.get(event, event.lower()), "error": error}
        info = {**params, "integrationId": entity_id("INTEGRATION", integration.pk), "error": error or None}
        notify(TriggerEvent("INTEGRATION_LIFECYCLE_EVENT", row.tenant_id, params, info,
                            originator=("INTEGRATION", integration.pk),
                            facts={"integration_type": integration.type, "integration_id": integration.pk,
                                   "event": event, "error": error}))


def rule_chain_event(chain, event: str, error: str = "") -> None:
    """RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT of a rule chain (STARTED, UPDATED, STOPPED, FAILED)."""
    if not wanted("RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", chain.tenant_id):
        return
    params = {"componentType": "Rule chain", "componentId": str(chain.pk), "componentName": chain.name,
              "ruleChainId": str(chain.pk), "ruleChainName": chain.name, "eventType": event.lower(),
              "action": _LIFECYCLE_ACTION.get(event, event.lower()), "error": error}
    info = {**params, "componentId": entity_id("RULE_CHAIN", chain.pk),
            "ruleChainId": entity_id("RULE_CHAIN", chain.pk), "error": error or None}
    notify(TriggerEvent("RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", chain.tenant_id, params, info,
                        originator=("RULE_CHAIN", chain.pk),
                        facts={"component": "RULE_CHAIN", "rule_chain_id": chain.pk, "event": event,
                               "error": error}))


@_safe(lambda sender, instance, **kw: wanted("RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", instance.tenant_id))
def _chain_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if not raw:
        rule_chain_event(instance, "STARTED" if created else "UPDATED")


@_safe(lambda sender, instance, **kw: wanted("RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", instance.tenant_id))
def _chain_deleted(sender, instance, **kwargs) -> None:
    rule_chain_event(instance, "STOPPED")


def _tenant_params(tenant_id) -> dict:
    name = Tenant.objects.filter(pk=tenant_id).values_list("title", flat=True).first() if tenant_id else None
    return {"tenantId": str(tenant_id or ""), "tenantName": name or ""}


@_safe(lambda sender, tenant_id, **kw: wanted("ENTITIES_LIMIT", tenant_id))
def _counted(sender, tenant_id, entity_type, count, limit, added, **kwargs) -> None:
    if not wanted("ENTITIES_LIMIT", tenant_id):
        return
    params = {"entityType": normal_name(entity_type), "currentCount": count, "limit": limit,
              "percents": int(round(count * 100 / limit)) if limit else 0, **_tenant_params(tenant_id)}
    notify(TriggerEvent("ENTITIES_LIMIT", tenant_id, params, {**params, "entityType": entity_type},
                        originator=("TENANT", tenant_id),
                        facts={"entity_type": entity_type, "count": count, "before": count - added, "limit": limit}))


@_safe(lambda sender, key, subject, tenant_id, **kw: wanted("RATE_LIMITS", tenant_id))
def _refused(sender, key, subject, tenant_id, **kwargs) -> None:
    if key not in RATE_LIMIT_APIS or not wanted("RATE_LIMITS", tenant_id):
        return
    if not cache.add(f"notifications:rate-limits:{key}:{subject}", 1, RATE_LIMITS_DEDUP_SECONDS):
        return  # told within the hour
    api, label, level = RATE_LIMIT_APIS[key]
    tenant = _tenant_params(tenant_id)
    level_name = tenant["tenantName"]
    if level == "CUSTOMER":
        level_name = Customer.objects.filter(pk=subject).values_list("title", flat=True).first() or ""
    elif level == "DEVICE":
        level_name = Device.objects.filter(pk=subject).values_list("name", flat=True).first() or ""
    params = {"api": label, "limitLevelEntityType": normal_name(level), "limitLevelEntityId": str(subject),
              "limitLevelEntityName": level_name, **tenant}
    info = {**params, "api": api, "limitLevel": entity_id(level, subject)}
    notify(TriggerEvent("RATE_LIMITS", tenant_id, params, info, originator=(level, subject), facts={"api": api}))


@_safe(lambda sender=None, **kw: wanted("TASK_PROCESSING_FAILURE", None))
def _task_failed(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra) -> None:
    name = getattr(sender, "name", "") or ""
    if name.startswith("notifications.") or not wanted("TASK_PROCESSING_FAILURE", None):
        return
    kind = type(exception).__name__ if exception is not None else ""
    if not cache.add(f"notifications:task-failure:{name}:{kind}", 1, TASK_FAILURE_DEDUP_SECONDS):
        return  # told within the period
    kwargs = kwargs or {}
    tenant_id = kwargs.get("tenant_id")
    request = getattr(sender, "request", None)
    # an exception's text may name internals (hosts, queries, values): a tenant's admins read a generic line,
    # the system administrator's (no tenant) the exception
    error = (TASK_FAILURE_MESSAGE if tenant_id else f"{kind}: {exception}"[:1024]) if exception is not None else ""
    params = {"taskType": name, "taskDescription": f"{name} {task_id or ''}".strip(), "error": error,
              "tenantId": str(tenant_id or ""), "entityType": str(kwargs.get("entity_type") or ""),
              "entityId": str(kwargs.get("entity_id") or ""), "attempt": (getattr(request, "retries", 0) or 0) + 1}
    notify(TriggerEvent("TASK_PROCESSING_FAILURE", tenant_id, params, dict(params), facts={}))


def connect() -> None:
    for model in ENTITY_TYPES:
        label = model._meta.label_lower
        post_save.connect(_saved, sender=model, dispatch_uid=f"notifications.entity_saved.{label}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"notifications.entity_deleted.{label}")
    entities_provisioned.connect(_provisioned, dispatch_uid="notifications.entities_provisioned")
    activity_changed.connect(_activity, dispatch_uid="notifications.device_activity")
    events_written.connect(_integration_events, sender=DebugEvent, dispatch_uid="notifications.integration_lc")
    post_save.connect(_chain_saved, sender=RuleChain, dispatch_uid="notifications.rule_chain_saved")
    post_delete.connect(_chain_deleted, sender=RuleChain, dispatch_uid="notifications.rule_chain_deleted")
    entities_counted.connect(_counted, dispatch_uid="notifications.entities_limit")
    limits.refused.connect(_refused, dispatch_uid="notifications.rate_limits")
    task_failure.connect(_task_failed, dispatch_uid="notifications.task_failure", weak=False)
