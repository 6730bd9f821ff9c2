"""Writing audit rows (ThingsBoard's actionData shapes) and reading them for the API."""

from audit.models import ActionStatus, ActionType, AuditLog
from tenants.choices import NULL_UUID

__all__ = ["record"]


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
        entity_type=entity_type, entity_id=entity_id, entity_name=entity_name[:255],
        user_id=user.pk, user_name=user.email, action_type=action_type, action_data=data,
        action_status=ActionStatus.FAILURE if failure else ActionStatus.SUCCESS, action_failure_details=failure)
