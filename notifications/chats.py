"""SLACK, MICROSOFT_TEAMS and SMS delivery: network calls, made by the Celery task
``notifications.tasks.send_chats`` once the request is stored (as the e-mails are), so that a slow
chat service never holds up an alarm's commit or the rule engine; the task adds what happened to the
request's ``stats`` (``sent`` per method, ``errors`` per method and target or recipient).

- SLACK: Slack Web API ``chat.postMessage`` to the SLACK target's ``conversation.id``, as the bot of the
  owner's notification settings (``deliveryMethodsConfigs.SLACK.botToken``; the system administrator's
  own settings for its requests). Slack's ``ok: false`` is the error (``channel_not_found``, ...).
- MICROSOFT_TEAMS: a POST of a card to the MICROSOFT_TEAMS target's ``webhookUrl``: a MessageCard with
  ``useOldApi`` (Office 365 connectors), else an Adaptive Card message (Power Automate workflows).
  Any 2xx answer is delivered.
- SMS: to each recipient's ``phone`` through the system SMS settings (``/api/admin/settings/sms``) when
  they name a TWILIO account; without them the recipient is recorded "not configured" at once.

Endpoints are settings (notifications/conf.py): NOTIFICATION_SLACK_API_URL, NOTIFICATION_TWILIO_API_URL.
"""

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from notifications import conf
from notifications.models import NotificationSettings, NotificationTarget

__all__ = ["slack_token", "slack_call", "slack_post", "teams_post", "teams_payload", "sms_sender", "send_chats",
           "SMS_NOT_CONFIGURED"]

log = logging.getLogger(__name__)

SMS_NOT_CONFIGURED = "SMS delivery method is not configured (no SMS provider in the system settings)"


def slack_token(tenant_id) -> str:
    """The owner's Slack bot token ("" when none is set)."""
    rows = NotificationSettings.objects.filter(tenant_id=tenant_id) if tenant_id else \
        NotificationSettings.objects.filter(tenant__isnull=True)
    configs = rows.values_list("delivery_methods_configs", flat=True).first() or {}
    token = (configs.get("SLACK") or {}).get("botToken") if isinstance(configs, dict) else None
    return token if isinstance(token, str) else ""


def _post(url: str, data: bytes, headers: dict) -> tuple[int, bytes]:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("only http and https URLs are allowed")
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=conf.http_timeout()) as response:
            return response.status, response.read(65536)
    except urllib.error.HTTPError as e:
        return e.code, e.read(4096) if e.fp else b""


def slack_call(token: str, method: str, params: dict) -> dict:
    """One Slack Web API call (JSON body); its answer, or ``{"ok": False, "error": ...}``."""
    url = conf.slack_api_url().rstrip("/") + "/" + method
    try:
        status, body = _post(url, json.dumps(params).encode(), {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"})
    except Exception as e:  # unreachable, timed out
        return {"ok": False, "error": f"Slack API is unreachable: {e}"[:300]}
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {"ok": False, "error": f"Slack API answered HTTP {status} without JSON"}
    return answer if isinstance(answer, dict) else {"ok": False, "error": "Slack API answered no object"}


def slack_post(token: str, channel: str, text: str) -> str | None:
    """``chat.postMessage``: None when Slack accepted it, else the error."""
    if not token:
        return "Slack delivery method is not configured (no Slack bot token in the notification settings)"
    if not channel:
        return "The Slack target names no conversation"
    answer = slack_call(token, "chat.postMessage", {"channel": channel, "text": text})
    return None if answer.get("ok") else f"Slack error: {answer.get('error') or 'unknown'}"


def teams_payload(configuration: dict, spec: dict, subject: str, body: str) -> dict:
    button = spec.get("button") if isinstance(spec.get("button"), dict) else {}
    link = button.get("link") if button.get("enabled") else None
    if configuration.get("useOldApi"):
        card = {"@type": "MessageCard", "@context": "http://schema.org/extensions",
                "themeColor": str(spec.get("themeColor") or "").lstrip("#") or None,
                "summary": subject or body[:80], "title": subject or None, "text": body}
        if link:
            card["potentialAction"] = [{"@type": "OpenUri", "name": button.get("text") or link,
                                        "targets": [{"os": "default", "uri": link}]}]
        return {k: v for k, v in card.items() if v is not None}
    blocks = ([{"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium", "wrap": True}]
              if subject else []) + [{"type": "TextBlock", "text": body, "wrap": True}]
    content = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
               "version": "1.4", "body": blocks}
    if link:
        content["actions"] = [{"type": "Action.OpenUrl", "title": button.get("text") or link, "url": link}]
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "content": content}]}


def teams_post(url: str, payload: dict) -> str | None:
    try:
        status, answer = _post(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    except Exception as e:
        return f"Microsoft Teams webhook is unreachable: {e}"[:300]
    if 200 <= status < 300:
        return None
    return f"Microsoft Teams webhook answered HTTP {status}: {answer[:200].decode('utf-8', 'replace')}"


class _Twilio:
    def __init__(self, config: dict):
        self.sid, self.token = str(config.get("accountSid") or ""), str(config.get("accountToken") or "")
        self.number_from = str(config.get("numberFrom") or "")

    def send(self, number: str, text: str) -> str | None:
        url = (f"{conf.twilio_api_url().rstrip('/')}/2010-04-01/Accounts/"
               f"{urllib.parse.quote(self.sid, safe='')}/Messages.json")
        auth = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        try:
            status, answer = _post(url, urllib.parse.urlencode({"To": number, "From": self.number_from,
                                                                "Body": text}).encode(),
                                   {"Authorization": f"Basic {auth}",
                                    "Content-Type": "application/x-www-form-urlencoded"})
        except Exception as e:
            return f"Twilio is unreachable: {e}"[:300]
        if 200 <= status < 300:
            return None
        try:
            message = json.loads(answer).get("message")
        except (ValueError, AttributeError):
            message = None
        return f"Twilio answered HTTP {status}: {message or answer[:200].decode('utf-8', 'replace')}"


def sms_sender():
    """The system SMS provider that this server can use (TWILIO), or None."""
    from tenants.system import store

    config = store.read("sms")
    if isinstance(config, dict) and config.get("type") == "TWILIO" and config.get("accountSid"):
        return _Twilio(config)
    return None


def send_chats(items: list) -> None:
    """Deliver ``items`` ([request id, method, who, owner tenant id, target id or phone, subject, body,
    template spec]) and add what happened to each request's stats."""
    from notifications.delivery import Stats, add_stats

    by_request: dict[str, Stats] = {}
    targets = {str(t.pk): t for t in NotificationTarget.objects.filter(
        pk__in=[i[4] for i in items if i[1] != "SMS"])}
    tokens: dict = {}
    sms = None
    for request_id, method, who, tenant_id, address, subject, body, spec in items:
        stats = by_request.setdefault(request_id, Stats())
        try:
            if method == "SMS":
                sms = sms or sms_sender()
                error = sms.send(address, body) if sms else SMS_NOT_CONFIGURED
            else:
                target = targets.get(address)
                config = target.configuration if target is not None else {}
                if target is None:
                    error = "The target was deleted"
                elif method == "SLACK":
                    if tenant_id not in tokens:
                        tokens[tenant_id] = slack_token(tenant_id)
                    error = slack_post(tokens[tenant_id], str((config.get("conversation") or {}).get("id") or ""),
                                       body)
                else:
                    error = teams_post(str(config.get("webhookUrl") or ""), teams_payload(config, spec, subject, body))
        except Exception as e:  # a bug must not lose the other items' stats
            log.exception("notification %s delivery failed", method)
            error = f"{type(e).__name__}: {e}"
        if error:
            log.warning("notification %s delivery to %s failed: %s", method, who, error)
            stats.failed(method, who, error)
        else:
            stats.ok(method)
    add_stats(by_request)
