"""SLACK, MICROSOFT_TEAMS and SMS delivery: network calls, made by the Celery task
``notifications.tasks.send_chats`` once the request is stored (as the e-mails are), so that a slow
chat service never holds up an alarm's commit or the rule engine; the task adds what happened to the
request's ``stats`` (``sent`` per method, ``errors`` per method and target or recipient).

- SLACK: Slack Web API ``chat.postMessage`` to the SLACK target's ``conversation.id``, as the bot of the
  owner's notification settings (``deliveryMethodsConfigs.SLACK.botToken``; the system administrator's
  own settings for its requests). Slack's ``ok: false`` is the error (``channel_not_found``, ...).
- MICROSOFT_TEAMS: a POST of a card to the MICROSOFT_TEAMS target's ``webhookUrl``: a MessageCard with
  ``useOldApi`` (Office 365 connectors), else an Adaptive Card message (Power Automate workflows).
  Any 2xx answer is delivered. The URL is the tenant's: its host must resolve to public addresses only
  (tbproject/outbound.py: no loopback, private, link-local or metadata address; the checked address is the
  one connected to) unless NOTIFICATION_ALLOW_PRIVATE_URLS; redirects are not followed; a failure is
  recorded as "HTTP <status>", never with the answer's body.
- An exception (unreachable, timed out, a header the HTTP library refuses) is recorded as its type only: its
  text may quote the request, and so a token (``Invalid header value b'Bearer xoxb-...\\n'``).
- SMS: to each recipient's ``phone`` through the system SMS settings (``/api/admin/settings/sms``) when
  they name a TWILIO account; without them the recipient is recorded "not configured" at once.

Endpoints are settings (notifications/conf.py): NOTIFICATION_SLACK_API_URL, NOTIFICATION_TWILIO_API_URL.
"""

import base64
import json
import logging
import urllib.parse

from notifications import conf
from notifications.models import NotificationSettings, NotificationTarget
from tbproject import outbound

__all__ = ["slack_token", "token_ok", "slack_call", "slack_read", "slack_post", "teams_post", "teams_payload",
           "sms_sender", "send_chats", "SMS_NOT_CONFIGURED"]

log = logging.getLogger(__name__)

SMS_NOT_CONFIGURED = "SMS delivery method is not configured (no SMS provider in the system settings)"


def slack_token(tenant_id) -> str:
    """The owner's Slack bot token ("" when none is set)."""
    rows = NotificationSettings.objects.filter(tenant_id=tenant_id) if tenant_id else \
        NotificationSettings.objects.filter(tenant__isnull=True)
    configs = rows.values_list("delivery_methods_configs", flat=True).first() or {}
    token = (configs.get("SLACK") or {}).get("botToken") if isinstance(configs, dict) else None
    return token if isinstance(token, str) else ""


def token_ok(token: str) -> bool:
    """Whether ``token`` can be sent as a header: printable ASCII without whitespace (a Slack token is)."""
    return token.isascii() and token.isprintable() and " " not in token


def _post(url: str, data: bytes, headers: dict, *, tenant_url: bool = False) -> tuple[int, bytes]:
    """POST (no redirect followed). A ``tenant_url`` (a Teams webhook) must name public addresses unless
    NOTIFICATION_ALLOW_PRIVATE_URLS; the endpoints of the settings (Slack, Twilio) are the operator's."""
    return outbound.request("POST", url, data, headers, timeout=conf.http_timeout(),
                            allow_private=not tenant_url or conf.allow_private_urls())


def _answer(status: int, body: bytes) -> dict:
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {"ok": False, "error": f"Slack API answered HTTP {status} without JSON"}
    return answer if isinstance(answer, dict) else {"ok": False, "error": "Slack API answered no object"}


def slack_call(token: str, method: str, params: dict) -> dict:
    """One Slack Web API write call (JSON body); its answer, or ``{"ok": False, "error": ...}``."""
    url = conf.slack_api_url().rstrip("/") + "/" + method
    try:
        status, body = _post(url, json.dumps(params).encode(), {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"})
    except Exception as e:  # unreachable, timed out, a header refused (its text would quote the token)
        return {"ok": False, "error": f"Slack API is unreachable: {type(e).__name__}"}
    return _answer(status, body)


def slack_read(token: str, method: str, params: dict) -> dict:
    """One Slack Web API read call (``conversations.list``, ``users.list``): a GET with the arguments as query
    parameters, as python-slack-sdk sends them (Slack reads those methods' arguments from the query)."""
    query = urllib.parse.urlencode({k: ("true" if v is True else "false" if v is False else v)
                                    for k, v in params.items()})
    url = conf.slack_api_url().rstrip("/") + "/" + method + (f"?{query}" if query else "")
    try:
        status, body = outbound.request("GET", url, None, {"Authorization": f"Bearer {token}"},
                                        timeout=conf.http_timeout(), allow_private=True)
    except Exception as e:
        return {"ok": False, "error": f"Slack API is unreachable: {type(e).__name__}"}
    return _answer(status, body)


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
    """None when delivered; else the error, which the tenant reads in the request's stats: the status only,
    never the answer's body (a redirect is not followed: answered as its 3xx)."""
    try:
        status, _ = _post(url, json.dumps(payload).encode(), {"Content-Type": "application/json"}, tenant_url=True)
    except outbound.UnsafeURL as e:
        return f"Microsoft Teams webhook refused: {e}"
    except Exception as e:
        return f"Microsoft Teams webhook is unreachable: {type(e).__name__}"
    if 200 <= status < 300:
        return None
    return f"Microsoft Teams webhook answered HTTP {status}"


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
            return f"Twilio is unreachable: {type(e).__name__}"
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
            error = type(e).__name__
        if error:
            log.warning("notification %s delivery to %s failed: %s", method, who, error)
            stats.failed(method, who, error)
        else:
            stats.ok(method)
    add_stats(by_request)
