"""Writing audit rows (ThingsBoard's actionData shapes) and pruning old ones."""

import json

from django.conf import settings

from audit.models import ActionStatus, ActionType, AuditLog
from tbproject.clock import now_ms
from tbproject.text import check_json, storable
from tenants.choices import NULL_UUID

__all__ = ["record", "prune"]

DAY_MS = 24 * 3600 * 1000
DELETE_BATCH = 5000


def record(user, *, tenant_id, entity_type: str, entity_id, entity_name: str, action_type: str,
           entity: dict | None = None, diff: list | None = None, extra: dict | None = None,
           failure: str = "") -> AuditLog:
    """One row, SUCCESS unless ``failure`` says why not. ``actionData`` is ThingsBoard's:
    ``{"entity": ...}`` for ADDED and UPDATED, ``{"entityId": ...}`` for DELETED; ``diff`` (ours)
    lists what changed."""
    data: dict = {"entityId": str(entity_id)} if action_type == ActionType.DELETED or entity is None \
        else {"entity": entity}
    if diff is not None:
        data["diff"] = diff
    data.update(extra or {})
    return AuditLog.objects.create(
        tenant_id=tenant_id, customer_id=getattr(user, "customer_id", None) or NULL_UUID,
        entity_type=entity_type, entity_id=entity_id, entity_name=storable(entity_name)[:255],
        user_id=user.pk, user_name=user.email, action_type=action_type, action_data=_storable_json(data),
        action_status=ActionStatus.FAILURE if failure else ActionStatus.SUCCESS,
        action_failure_details=storable(failure))


def _storable_json(data: dict) -> dict:
    """``data`` as it is when the database can hold it, else with its unstorable text repaired."""
    try:
        return check_json(data)
    except ValueError:
        text = json.dumps(data, ensure_ascii=False, default=str)
        return json.loads(storable(text).replace("\\u0000", "\\ufffd"))  # json writes NUL as an escape


def prune(now: int | None = None) -> int:
    """Delete rows older than AUDIT_LOG_TTL_DAYS (0, the default, keeps them); returns how many."""
    ttl = int(settings.AUDIT_LOG_TTL_DAYS)
    if ttl <= 0:
        return 0
    expired = AuditLog.objects.filter(created_time__lt=(now_ms() if now is None else now) - ttl * DAY_MS)
    deleted = 0
    while pks := list(expired.values_list("pk", flat=True)[:DELETE_BATCH]):
        deleted += AuditLog.objects.filter(pk__in=pks).delete()[0]
    return deleted
