"""The audit app's subscriptions: model saves and deletes of the entities in
``audit.snapshots.AUDITED`` (a change of the customer alone is an (un)assignment, as ThingsBoard
logs it), device credential changes (CREDENTIALS_UPDATED), a device handed to another tenant
(ASSIGNED_TO_TENANT, in the old tenant's log only), rule chain metadata saves
(rulechains.metadata's signals), and tenant deletion (a tenant's entities going with it are not
audited: their log goes too). Logins and logouts: audit/logins.py."""

import json
import re

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from audit.context import actor, scratch
from audit.models import ActionType
from audit.services import record
from audit.snapshots import AUDITED, changes, metadata_snapshot, snapshot
from dashboards.models import Dashboard
from devices import credentials as device_credentials
from devices.models import Device, DeviceCredentials
from devices.tenant_assign import device_moved
from integrations.types.base import MASK
from rulechains.metadata import metadata_saved, metadata_saving
from rulechains.models import RuleChain
from tbproject.api.resources import action_failed
from tenants.choices import NULL_UUID
from tenants.deletion import deletion_started
from tenants.models import Customer, Tenant

METADATA = "metadata"  # the scratch key of chains whose metadata is being saved
DELETING = "tenants"  # the scratch key of tenants being deleted
OWNER_PATHS = {"customerId", "ownerId"}  # a change of only these is a customer (un)assignment
#: credentials fields whose values are masked in the log: passwords, keys, secrets
_SECRET_NAMES = re.compile(r"password|secret|private|psk|key$", re.IGNORECASE)


def _before_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance._state.adding or actor() is None or instance.tenant_id is None:
        return
    stored = sender.objects.filter(pk=instance.pk).first()
    if stored is not None:
        scratch()[(sender, instance.pk)] = snapshot(stored)


def _after_save(sender, instance, created, raw=False, **kwargs) -> None:
    user = actor()
    if raw or user is None or instance.tenant_id is None:  # a system administrator (a user of no tenant)
        return
    state = scratch()
    before = state.pop((sender, instance.pk), None)
    if sender is RuleChain and instance.pk in state.get(METADATA, {}):
        return  # the metadata save records itself (firstRuleNodeId moves with the nodes)
    entity_type, _ = AUDITED[sender]
    after = snapshot(instance)
    if before is not None and before.entity.get("tenantId") != after.entity.get("tenantId"):
        return  # handed to another tenant: device_moved records it, in the old tenant's log
    if created or before is None:
        _record(user, instance, entity_type, ActionType.ADDED, after.entity)
        return
    diff = changes(before, after)
    if diff and {d["path"].split(".")[0] for d in diff} <= OWNER_PATHS:
        _assignment(user, instance, entity_type, before.entity.get("customerId"), after.entity.get("customerId"))
    elif diff:
        _record(user, instance, entity_type, ActionType.UPDATED, after.entity, diff)


def _assignment(user, instance, entity_type, old: dict | None, new: dict | None) -> None:
    """Only the customer changed: ThingsBoard's ASSIGNED_TO_CUSTOMER / UNASSIGNED_FROM_CUSTOMER rows
    (a move from one customer to another is both)."""
    if old and old.get("id") != NULL_UUID:
        _record(user, instance, entity_type, ActionType.UNASSIGNED_FROM_CUSTOMER, None, extra={
            "unassignedCustomerId": old["id"], "unassignedCustomerName": _customer_name(old["id"])})
    if new and new.get("id") != NULL_UUID:
        _record(user, instance, entity_type, ActionType.ASSIGNED_TO_CUSTOMER, None, extra={
            "assignedCustomerId": new["id"], "assignedCustomerName": _customer_name(new["id"])})


def _name(obj) -> str:
    """What ThingsBoard shows as the entity's name (a customer's is its title, a user's its e-mail)."""
    return getattr(obj, "name", None) or getattr(obj, "title", None) or getattr(obj, "email", "") or ""


def _customer_name(customer_id: str) -> str:
    return Customer.objects.filter(pk=customer_id).values_list("title", flat=True).first() or ""


def _after_delete(sender, instance, **kwargs) -> None:
    user = actor()
    if user is None or instance.tenant_id is None or instance.tenant_id in scratch().get(DELETING, ()):
        return
    _record(user, instance, AUDITED[sender][0], ActionType.DELETED, None)


def _record(user, obj, entity_type, action_type, entity, diff=None, extra=None) -> None:
    record(user, tenant_id=obj.tenant_id, entity_type=entity_type, entity_id=obj.pk, entity_name=_name(obj),
           action_type=action_type, entity=entity, diff=diff, extra=extra)


for _model in AUDITED:
    label = _model._meta.label_lower
    pre_save.connect(_before_save, sender=_model, dispatch_uid=f"audit.pre_save.{label}")
    post_save.connect(_after_save, sender=_model, dispatch_uid=f"audit.post_save.{label}")
    post_delete.connect(_after_delete, sender=_model, dispatch_uid=f"audit.post_delete.{label}")


@receiver(pre_delete, sender=Tenant, dispatch_uid="audit.tenant_deleting")
@receiver(deletion_started, sender=Tenant, dispatch_uid="audit.tenant_deletion_started")  # its batched deletion
def _tenant_deleting(sender, instance, **kwargs) -> None:
    scratch().setdefault(DELETING, set()).add(instance.pk)


@receiver(metadata_saving, dispatch_uid="audit.metadata_saving")
def _metadata_saving(sender, chain, **kwargs) -> None:
    if actor() is not None:
        scratch().setdefault(METADATA, {})[chain.pk] = metadata_snapshot(chain)


@receiver(metadata_saved, dispatch_uid="audit.metadata_saved")
def _metadata_saved(sender, chain, **kwargs) -> None:
    user = actor()
    before = scratch().get(METADATA, {}).pop(chain.pk, None)
    if user is None or before is None:
        return
    after = metadata_snapshot(chain)
    diff = changes(before, after)
    if diff:
        _record(user, chain, "RULE_CHAIN", ActionType.UPDATED, after.entity, diff, {"metadata": True})


@receiver(action_failed, dispatch_uid="audit.action_failed")
def _action_failed(sender, user, action, instance, name, error, **kwargs) -> None:
    """A refused save or delete: a FAILURE row with the reason. What was posted is not kept (it
    may carry secrets); an existing entity is named by its id."""
    if sender not in AUDITED or not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return
    record(user, tenant_id=instance.tenant_id if instance else user.tenant_id, entity_type=AUDITED[sender][0],
           entity_id=instance.pk if instance else NULL_UUID, entity_name=_name(instance) if instance else name,
           action_type=action, failure=error[:2000] or "refused")


@receiver(device_credentials.credentials_updated, sender=DeviceCredentials, dispatch_uid="audit.credentials_updated")
def _credentials_updated(sender, user, device, credentials, **kwargs) -> None:
    """ThingsBoard's CREDENTIALS_UPDATED row of the device, with its new credentials, their
    secrets masked (a secret the tenant admin set need not be kept twice): an access token, an
    MQTT password, LwM2M keys (the client's PSK or RPK ``key``, the servers' ``clientSecretKey``)."""
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return
    shown = device_credentials.as_json(credentials)
    if credentials.credentials_type == "ACCESS_TOKEN":
        shown["credentialsId"] = MASK
    elif credentials.credentials_type in ("MQTT_BASIC", "LWM2M_CREDENTIALS") and shown["credentialsValue"]:
        shown["credentialsValue"] = json.dumps(_masked(json.loads(shown["credentialsValue"])), separators=(",", ":"))
    _record(user, device, "DEVICE", ActionType.CREDENTIALS_UPDATED, None, extra={"credentials": shown})


@receiver(device_moved, sender=Device, dispatch_uid="audit.device_moved")
def _device_moved(sender, device, old_tenant_id, new_tenant, user=None, **kwargs) -> None:
    """ThingsBoard's ASSIGNED_TO_TENANT row, in the old tenant's log (actionData: entityId, assignedToTenantId,
    assignedToTenantName); the new tenant's log shows nothing of the old tenant's user."""
    user = user if getattr(user, "is_authenticated", False) else actor()
    if user is None or old_tenant_id is None:
        return
    record(user, tenant_id=old_tenant_id, entity_type="DEVICE", entity_id=device.pk, entity_name=device.name,
           action_type=ActionType.ASSIGNED_TO_TENANT, extra={"assignedToTenantId": str(new_tenant.pk),
                                                             "assignedToTenantName": new_tenant.title})


def _masked(value):
    """``value`` with every secret-named field that holds something replaced by the mask."""
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: (MASK if v not in (None, "") and _SECRET_NAMES.search(k) else _masked(v)) for k, v in value.items()}


@receiver(m2m_changed, sender=Dashboard.assigned_customers.through, dispatch_uid="audit.dashboard_customers")
def _dashboard_customers(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A dashboard's customers changed (the API's assign/unassign, the admin's picker): one
    ASSIGNED_TO_CUSTOMER or UNASSIGNED_FROM_CUSTOMER row per customer, as ThingsBoard logs them."""
    user = actor()
    if action not in ("post_add", "post_remove") or reverse or user is None or not pk_set:
        return
    for customer_id in sorted(map(str, pk_set)):
        if action == "post_add":
            _record(user, instance, "DASHBOARD", ActionType.ASSIGNED_TO_CUSTOMER, None, extra={
                "assignedCustomerId": customer_id, "assignedCustomerName": _customer_name(customer_id)})
        else:
            _record(user, instance, "DASHBOARD", ActionType.UNASSIGNED_FROM_CUSTOMER, None, extra={
                "unassignedCustomerId": customer_id, "unassignedCustomerName": _customer_name(customer_id)})
