"""``GET /api/notification/slack/conversations?type=PUBLIC_CHANNEL|PRIVATE_CHANNEL|DIRECT[&token=]``
(tb_pe_client's NotificationTemplateControllerApi.list_slack_conversations): the Slack conversations the
bot can post to, as ThingsBoard's SlackConversation (``type``, ``id``, ``name``, ``wholeName``, ``email``,
``title``), read from Slack's ``conversations.list`` (channels) or ``users.list`` (direct messages; GETs) with
``token``, else the caller's owner's bot token (notification settings). No token, or Slack refusing it:
a 400 with Slack's error code; the token is never echoed."""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from notifications import chats
from notifications.api.base import IsAdministrator, OwnedView
from notifications.sending import owner_of

__all__ = ["SlackConversations", "CONVERSATION_TYPES"]

CONVERSATION_TYPES = {"PUBLIC_CHANNEL": "public_channel", "PRIVATE_CHANNEL": "private_channel", "DIRECT": None}
MAX_PAGES = 20  # Slack pages of 1000 read at most


def _channels(token: str, kind: str, slack_type: str) -> list[dict]:
    out, cursor = [], ""
    for _ in range(MAX_PAGES):
        params = {"types": slack_type, "exclude_archived": True, "limit": 1000}
        answer = chats.slack_read(token, "conversations.list", {**params, **({"cursor": cursor} if cursor else {})})
        if not answer.get("ok"):
            raise ValidationError(f"Slack error: {answer.get('error') or 'unknown'}")
        for row in answer.get("channels") or []:
            name = str(row.get("name") or "")
            out.append({"type": kind, "id": row.get("id"), "name": name, "wholeName": name, "email": None,
                        "title": f"#{name}"})
        cursor = ((answer.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return out
    return out


def _users(token: str) -> list[dict]:
    out, cursor = [], ""
    for _ in range(MAX_PAGES):
        answer = chats.slack_read(token, "users.list", {"limit": 1000, **({"cursor": cursor} if cursor else {})})
        if not answer.get("ok"):
            raise ValidationError(f"Slack error: {answer.get('error') or 'unknown'}")
        for row in answer.get("members") or []:
            if row.get("deleted") or row.get("is_bot"):
                continue
            profile = row.get("profile") or {}
            name = str(row.get("name") or "")
            whole = str(row.get("real_name") or profile.get("real_name") or name)
            out.append({"type": "DIRECT", "id": row.get("id"), "name": name, "wholeName": whole,
                        "email": profile.get("email"), "title": f"@{name}"})
        cursor = ((answer.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return out
    return out


class SlackConversations(OwnedView):
    permission_classes = [IsAdministrator]

    def get(self, request):
        kind = request.query_params.get("type")
        if kind not in CONVERSATION_TYPES:
            raise ValidationError(f"type must be one of: {', '.join(CONVERSATION_TYPES)}")
        token = request.query_params.get("token") or chats.slack_token(owner_of(request.user))
        if not token:
            raise ValidationError("Slack delivery method is not configured: set the bot token in the notification "
                                  "settings or pass token")
        if not chats.token_ok(token):  # not sent, and never echoed
            raise ValidationError("The Slack bot token must not contain whitespace, control or non-ASCII characters")
        rows = _users(token) if kind == "DIRECT" else _channels(token, kind, CONVERSATION_TYPES[kind])
        return Response(sorted(rows, key=lambda r: r["title"]))
