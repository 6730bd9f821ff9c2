"""Alarm comments as ThingsBoard keeps them (since 3.5): users' comments, and the SYSTEM comments
the platform writes when a user acknowledges, clears, assigns or unassigns an alarm, when its
severity changes, when an assignee is deleted, and in place of a deleted comment.

    save(alarm, user, body) -> AlarmComment       # POST /api/alarm/{id}/comment (an ``id``: an edit)
    delete(alarm, user, pk) -> AlarmComment       # DELETE /api/alarm/{id}/comment/{commentId}
    on_action(alarms, action, user, deleted=None) # ALARM_ACK, ALARM_CLEAR, ALARM_(UN)ASSIGNED
    severity_changed(alarm, old, user=None)
    comment_json(comment) / infos(comments)       # AlarmComment / AlarmCommentInfo JSON

ThingsBoard's rules (its CE AlarmCommentController, DefaultTbAlarmCommentService,
BaseAlarmCommentService, DefaultTbAlarmService): a new comment is OTHER, by the caller; an edit
replaces the comment JSON and marks it ``"edited": "true"`` (a string, as ThingsBoard writes it)
and ``editedOn`` (ms); a deleted user comment is kept as a SYSTEM comment "Comment was deleted by
user X" (``subtype`` COMMENT_DELETED, ``userName``) with no user, and a SYSTEM comment cannot be
deleted (400). Stricter than ThingsBoard's server, which leaves it to its UI: only its author edits
a comment, only its author or a tenant administrator deletes one, a SYSTEM comment is never edited,
and a body's ``type`` is ignored (a user cannot write a SYSTEM comment).
"""

import json

from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from rulechains.models import Alarm, AlarmComment, AlarmCommentType
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.clock import now_ms
from tbproject.text import check_json
from tenants.choices import Authority
from tenants.models import User

__all__ = ["save", "delete", "on_action", "severity_changed", "comment_json", "infos", "title", "MAX_LENGTH"]

MAX_LENGTH = 10000  # ThingsBoard's @Length(max = 10000) on the comment JSON
FORBIDDEN = "You don't have permission to perform this operation!"
_ACTIONS = {"ALARM_ACK": ("ACK", "Alarm was acknowledged by user {user}"),
            "ALARM_CLEAR": ("CLEAR", "Alarm was cleared by user {user}"),
            "ALARM_ASSIGNED": ("ASSIGN", "Alarm was assigned by user {user} to user {assignee}"),
            "ALARM_UNASSIGNED": ("ASSIGN", "Alarm was unassigned by user {user}")}
_DELETED_ASSIGNEE = "Alarm was unassigned because user {user} - was deleted"
_SEVERITY = "Alarm severity was updated from {old} to {new}"
_COMMENT_DELETED = "Comment was deleted by user {user}"


def title(user) -> str:
    """ThingsBoard's ``User.getTitle()``: first and last name, else the email."""
    return " ".join(part for part in (user.first_name, user.last_name) if part) or user.email


def _text_json(comment: dict) -> str:
    """The comment as Jackson's ``toString()`` writes it: ThingsBoard's ``name``, and what its length limits."""
    return json.dumps(comment, separators=(",", ":"), ensure_ascii=False)


def _valid(body) -> dict:
    """The ``comment`` object of a request body, or a 400 saying what is wrong with it."""
    if not isinstance(body, dict):
        raise ValidationError("Request body must be a JSON object")
    comment = body.get("comment")
    if comment is None:
        raise ValidationError("Alarm comment should be specified!")
    if not isinstance(comment, dict):
        raise ValidationError("Alarm comment must be a JSON object with a 'text'")
    text = comment.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Alarm comment text should be specified!")
    try:
        check_json(comment)
    except ValueError as e:
        raise ValidationError(f"Alarm comment: {e}") from None
    if len(_text_json(comment)) > MAX_LENGTH:
        raise ValidationError(f"comment length must be equal or less than {MAX_LENGTH}")
    return comment


def _of_alarm(alarm: Alarm, pk) -> AlarmComment:
    comment_id = parse_uuid(pk)
    comment = AlarmComment.objects.filter(tenant_id=alarm.tenant_id, alarm=alarm, pk=comment_id).first()
    if comment is None:  # also one of another alarm or tenant: nothing is told of it
        raise NotFound(f"Alarm comment with id [{comment_id}] is not found")
    return comment


def save(alarm: Alarm, user, body) -> AlarmComment:
    """Create the caller's comment on the alarm, or with the ``id`` of one of its comments, edit it."""
    comment = _valid(body)
    ref = body.get("id")
    if ref is None:
        created = AlarmComment.objects.create(tenant_id=alarm.tenant_id, alarm=alarm, user=user,
                                              type=AlarmCommentType.OTHER, comment=comment)
        _announce([created], "ADDED_COMMENT", user)
        return created
    if not isinstance(ref, dict) or "id" not in ref:
        raise ValidationError("Alarm comment 'id' must be a JSON object with an 'id'")
    existing = _of_alarm(alarm, ref["id"])
    if existing.type == AlarmCommentType.SYSTEM:
        raise ValidationError("System comment could not be edited")
    if existing.user_id != user.pk:
        raise PermissionDenied(FORBIDDEN)
    existing.comment = {**comment, "edited": "true", "editedOn": now_ms()}
    existing.save(update_fields=["comment"])
    _announce([existing], "UPDATED_COMMENT", user)
    return existing


def delete(alarm: Alarm, user, pk) -> AlarmComment:
    """Replace a user comment by ThingsBoard's SYSTEM note that it was deleted; its author or a
    tenant administrator may."""
    existing = _of_alarm(alarm, pk)
    if existing.type == AlarmCommentType.SYSTEM:
        raise ValidationError("System comment could not be deleted")
    if existing.user_id != user.pk and user.authority != Authority.TENANT_ADMIN:
        raise PermissionDenied(FORBIDDEN)
    name = title(user)
    existing.type, existing.user = AlarmCommentType.SYSTEM, None
    existing.comment = {"text": _COMMENT_DELETED.format(user=name), "subtype": "COMMENT_DELETED", "userName": name}
    existing.save(update_fields=["type", "user", "comment"])
    _announce([existing], "DELETED_COMMENT", user)
    return existing


def _announce(comments, action: str, user) -> None:
    """Tell the audit log (rulechains.signals.alarm_comment_action); ThingsBoard audits the SYSTEM
    comments a user's action wrote as ADDED_COMMENT too."""
    from rulechains.signals import alarm_comment_action

    if user is not None:
        for comment in comments:
            alarm_comment_action.send(sender=AlarmComment, comment=comment, action=action, user=user)


def _system(alarm: Alarm, user, subtype: str, text: str, **fields) -> AlarmComment:
    comment = {"text": text, "subtype": subtype, **fields}
    return AlarmComment(tenant_id=alarm.tenant_id, alarm=alarm, user=user, type=AlarmCommentType.SYSTEM,
                        comment=comment)


def on_action(alarms, action: str, user=None, deleted=None) -> None:
    """The SYSTEM comments of alarms a user acknowledged, cleared, assigned or unassigned, or that
    were unassigned because ``deleted``, their assignee, is being deleted. The rule engine's own
    clears (no user) get none, as in ThingsBoard."""
    if action not in _ACTIONS or (user is None and deleted is None):
        return
    rows = []
    for alarm in alarms:
        if user is None:
            rows.append(_system(alarm, None, "ASSIGN", _DELETED_ASSIGNEE.format(user=title(deleted))))
            continue
        subtype, text = _ACTIONS[action]
        extra = {"userId": str(user.pk)}
        assignee = ""
        if action == "ALARM_ASSIGNED" and alarm.assignee_id:
            assignee = title(alarm.assignee)
            extra["assigneeId"] = str(alarm.assignee_id)
        rows.append(_system(alarm, user, subtype, text.format(user=title(user), assignee=assignee), **extra))
    AlarmComment.objects.bulk_create(rows)
    _announce(rows, "ADDED_COMMENT", user)


def severity_changed(alarm: Alarm, old: str, user=None) -> None:
    """ThingsBoard's SEVERITY_CHANGED comment, whoever changed it (the rule engine too); ``user``,
    when one did (the alarm API), is the comment's user."""
    if old == alarm.severity:
        return
    comment = _system(alarm, user, "SEVERITY_CHANGED", _SEVERITY.format(old=old, new=alarm.severity),
                      oldSeverity=old, newSeverity=alarm.severity)
    comment.save()
    _announce([comment], "ADDED_COMMENT", user)


def comment_json(comment: AlarmComment) -> dict:
    """ThingsBoard's AlarmComment JSON (its id has no entityType, as ThingsBoard's AlarmCommentId)."""
    return {"id": {"id": str(comment.pk)}, "createdTime": comment.created_time,
            "alarmId": entity_id("ALARM", comment.alarm_id),
            "userId": entity_id("USER", comment.user_id) if comment.user_id else None,
            "type": comment.type, "comment": comment.comment, "name": _text_json(comment.comment)}


def infos(comments) -> list[dict]:
    """AlarmCommentInfo JSON: each comment with its user's ``firstName``, ``lastName``, ``email``."""
    comments = list(comments)
    ids = {c.user_id for c in comments if c.user_id}
    users = {pk: (first or None, last or None, email) for pk, first, last, email in
             User.objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "email")} if ids else {}
    rows = []
    for comment in comments:
        first, last, email = users.get(comment.user_id, (None, None, None))
        rows.append({**comment_json(comment), "firstName": first, "lastName": last, "email": email})
    return rows
