"""Notification nodes: "send sms" (ThingsBoard's ``sms.TbSendSmsNode``) and "send to Slack"
(``notification.TbSlackNode``).

Both fill their templates (``${metadataKey}``, ``$[dataKey]``) per message, send, and pass the
message on by Success unchanged once the provider took it; a refused send or a bad input leaves by
Failure with the reason. Neither changes the message.

System settings: ThingsBoard can take the SMS provider and the Slack token from its system
("admin") settings (``useSystemSmsSettings``, ``useSystemSettings``, both on in its defaults).
This server has no such settings, so those messages leave by Failure saying so. That is a
Failure, not a ConfigError, because ThingsBoard itself looks the settings up at send time and
its default configuration must stay saveable (a user switches the option off, then fills in the
node's own provider or token).

Endpoints: ``SLACK_API_URL`` and ``TWILIO_API_URL`` are module constants (tests point them at a
local fake server); the AWS provider honours our optional ``endpointUrl`` in
``smsProviderConfiguration`` (or ``AWS_ENDPOINT_URL``), as the AWS nodes in clouds.py do.
"""

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from pydantic import ValidationError

from integrations.listeners import aws
from integrations.types.aws import AwsAccess
from rulechains.messages import SUCCESS
from rulechains.nodes.base import BaseNode, ConfigError, Out, bool_option, fail, field, substitute, text_option
from rulechains.nodes.brokers import _run

__all__ = ["SendSmsNode", "SlackNode", "SLACK_API_URL", "TWILIO_API_URL", "E164", "prepare_sms"]

SLACK_API_URL = "https://slack.com/api/"
TWILIO_API_URL = "https://api.twilio.com"
#: seconds one request to a provider may take
SEND_TIMEOUT = 10.0
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
#: Twilio also takes a Phone Number SID or a Messaging Service SID as the sender
_TWILIO_SID = re.compile(r"^(PN|MG).*$")
#: ThingsBoard's limit: longer texts are cut
MAX_SMS_LENGTH = 1600
SMS_PROVIDERS = ("AWS_SNS", "TWILIO", "SMPP", "ALIYUN")
CONVERSATION_TYPES = ("PUBLIC_CHANNEL", "PRIVATE_CHANNEL", "DIRECT")


def prepare_sms(text: str) -> str:
    """ThingsBoard's preparation of an SMS text: one leading and one trailing double quote
    dropped, the two characters ``\\n`` made a line break, cut at 1600 characters."""
    text = re.sub(r'^"|"$', "", text).replace("\\n", "\n")
    return text[:MAX_SMS_LENGTH]


def _required(configuration: dict, key: str, where: str = "") -> str:
    value = text_option(configuration, key)
    if value is None or not value.strip():
        raise ConfigError(f"{where}{key} is required")
    return value


def _http(request: urllib.request.Request) -> tuple[int, bytes]:
    """(status, body) of a request; an HTTP error status is an answer too. OSError when none came."""
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:
            return response.status, response.read(1 << 20)
    except urllib.error.HTTPError as e:
        return e.code, e.read(1 << 20)


def _unreachable(where: str, error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return f"cannot reach {where}: {type(reason).__name__}: {reason}"[:512]


# --- SMS ----------------------------------------------------------------------------------------

class _Provider:
    """Sends the SMS of a batch: ``send(jobs)`` with jobs ``[(numbers, text)]`` answers one error
    text (or None when every number of the job was sent) per job."""

    def send(self, jobs: list) -> list:
        raise NotImplementedError


class _SystemSettings(_Provider):
    TEXT = ("SMS is not sent: useSystemSmsSettings is on, and this server has no system SMS provider settings; "
            "switch it off and set the node's own smsProviderConfiguration (AWS_SNS or TWILIO)")

    def send(self, jobs):
        return [self.TEXT] * len(jobs)


class _AwsSns(_Provider):
    """SNS Publish to each phone number, as ThingsBoard's AwsSmsSender: Transactional SMS."""

    ATTRIBUTES = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}

    def __init__(self, access: AwsAccess):
        self.access = access

    def send(self, jobs):
        try:
            return _run(lambda: self._send(jobs))
        except Exception as exc:  # no client at all
            return [aws.describe("Failed to send SMS message", exc)[0]] * len(jobs)

    async def _send(self, jobs):
        results = []
        async with aws.client("sns", self.access, read_timeout=SEND_TIMEOUT) as client:
            for numbers, text in jobs:
                error = None
                for number in numbers:
                    try:
                        await client.publish(PhoneNumber=number, Message=text, MessageAttributes=self.ATTRIBUTES)
                    except Exception as exc:
                        error = aws.describe(f"Failed to send SMS message to {number}", exc)[0]
                        break
                results.append(error)
        return results


class _Twilio(_Provider):
    """Twilio's REST API: one ``Messages.json`` POST per number, HTTP basic auth by the account."""

    def __init__(self, sid: str, token: str, number_from: str):
        self.sid, self.token, self.number_from = sid, token, number_from

    def send(self, jobs):
        results = []
        for numbers, text in jobs:
            error = None
            for number in numbers:
                error = self.send_one(number, text)
                if error:
                    break
            results.append(error)
        return results

    def send_one(self, number: str, text: str) -> str | None:
        url = f"{TWILIO_API_URL.rstrip('/')}/2010-04-01/Accounts/{urllib.parse.quote(self.sid, safe='')}/Messages.json"
        body = urllib.parse.urlencode({"To": number, "From": self.number_from, "Body": text}).encode()
        auth = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json"})
        try:
            status, answer = _http(request)
        except OSError as e:
            return f"Failed to send SMS message to {number} - {_unreachable('Twilio', e)}"
        if 200 <= status < 300:
            return None
        try:
            detail = json.loads(answer)
            reason = f"{detail.get('message') or 'refused'} (Twilio error {detail.get('code')}, HTTP {status})"
        except (ValueError, AttributeError):
            reason = f"Twilio answered HTTP {status}"
        return f"Failed to send SMS message to {number} - {reason}"[:1024]


class SendSmsNode(BaseNode):
    """Sends ``smsMessageTemplate`` to every number of ``numbersToTemplate`` (comma separated,
    E.164 such as +15551234567; both templates take ``${metadataKey}`` and ``$[dataKey]``), through
    the node's ``smsProviderConfiguration``: ``{"type": "AWS_SNS", accessKeyId, secretAccessKey,
    region}`` (SNS Publish to the phone number, Transactional) or ``{"type": "TWILIO", accountSid,
    accountToken, numberFrom}`` (Twilio's Messages API). SMPP and ALIYUN are refused on save: no
    client for them is installed here. Every number of a message is checked before any is sent;
    the first refusal stops that message and fails it with the reason. The secret key and the
    token are write-only in the API."""

    label = "send sms"
    group = "EXTERNAL"
    side_effects = True
    savepoint = False
    defaults = {"numbersToTemplate": "${userPhone}",
                "smsMessageTemplate": "Device ${deviceName} has high temperature ${temp}",
                "useSystemSmsSettings": True, "smsProviderConfiguration": None}
    fields = (field("numbersToTemplate", "text", "Phone numbers To template", help="comma separated, E.164"),
              field("smsMessageTemplate", "text", "SMS message template"),
              field("useSystemSmsSettings", "bool", "Use system SMS provider settings"),
              field("smsProviderConfiguration", "json", "SMS provider",
                    help='{"type": "AWS_SNS", "accessKeyId", "secretAccessKey", "region"} or '
                         '{"type": "TWILIO", "accountSid", "accountToken", "numberFrom"}'))
    secret_fields = ("smsProviderConfiguration.secretAccessKey", "smsProviderConfiguration.accountToken")
    secret_slots = ("smsProviderConfiguration.accessKeyId", "smsProviderConfiguration.accountSid")

    @classmethod
    def clean_config(cls, configuration):
        cleaned = {"numbers": _required(configuration, "numbersToTemplate"),
                   "text": text_option(configuration, "smsMessageTemplate", "")}
        if bool_option(configuration, "useSystemSmsSettings", False):
            return {**cleaned, "provider": _SystemSettings()}
        provider = configuration.get("smsProviderConfiguration")
        if not isinstance(provider, dict):
            raise ConfigError("smsProviderConfiguration is required when useSystemSmsSettings is off: "
                              '{"type": "AWS_SNS" or "TWILIO", ...}')
        kind = provider.get("type")
        if kind not in SMS_PROVIDERS:
            raise ConfigError(f"smsProviderConfiguration.type must be one of {', '.join(SMS_PROVIDERS)}, "
                              f"got {str(kind)[:40]!r}")
        if kind in ("SMPP", "ALIYUN"):
            raise ConfigError(f"SMS provider {kind} is not supported here (no {kind} client is installed): "
                              "use AWS_SNS or TWILIO")
        where = "smsProviderConfiguration."
        if kind == "AWS_SNS":
            keys = {k: _required(provider, k, where) for k in ("accessKeyId", "secretAccessKey", "region")}
            try:
                access = AwsAccess(**keys, endpointUrl=text_option(provider, "endpointUrl") or "")
            except ValidationError as e:
                raise ConfigError("; ".join(f"{where}{'.'.join(map(str, err['loc']))}: {err['msg']}"
                                            for err in e.errors())) from None
            return {**cleaned, "provider": _AwsSns(access)}
        sid, token = _required(provider, "accountSid", where), _required(provider, "accountToken", where)
        number_from = _required(provider, "numberFrom", where).strip()
        if not (E164.match(number_from) or _TWILIO_SID.match(number_from)):
            raise ConfigError(f"{where}numberFrom must be a phone number in E.164 format (+15551234567), a Phone "
                              "Number SID (PN...) or a Messaging Service SID (MG...)")
        return {**cleaned, "provider": _Twilio(sid, token, number_from)}

    def job(self, msg) -> tuple[list[str], str] | str:
        """(numbers, text) of a message, or the reason it cannot be sent."""
        numbers = [n.strip() for n in substitute(self.config["numbers"], msg).split(",")]
        for number in numbers:
            if not E164.match(number):
                return ("Invalid phone number format. Phone number must be in E.164 format "
                        f"(+15551234567), got {number[:40]!r}")
        return numbers, prepare_sms(substitute(self.config["text"], msg))

    def process_batch(self, ctx, msgs):
        outs: list = [None] * len(msgs)
        ready = []
        for i, msg in enumerate(msgs):
            job = self.job(msg)
            if isinstance(job, str):
                outs[i] = fail(msg, job)
            else:
                ready.append((i, job))
        if ready:
            errors = self.config["provider"].send([job for _, job in ready])
            for (i, _), error in zip(ready, errors, strict=True):
                outs[i] = fail(msgs[i], error) if error else [Out(SUCCESS, msgs[i])]
        return outs


# --- Slack --------------------------------------------------------------------------------------

class SlackNode(BaseNode):
    """Posts ``messageTemplate`` (``${metadataKey}``, ``$[dataKey]``) to the Slack conversation
    ``conversation.id`` (a channel, private channel or user, as ``conversationType`` says; the
    export's ``{type, id, name, ...}``) with Slack's ``chat.postMessage`` as the bot of
    ``botToken`` (write-only in the API). Slack's ``ok: false`` fails the message with Slack's
    error code (``channel_not_found``, ``invalid_auth``, ...). A configuration without a
    conversation saves (ThingsBoard's defaults have none) and fails its messages saying so."""

    label = "send to Slack"
    group = "EXTERNAL"
    side_effects = True
    savepoint = False
    defaults = {"botToken": "xoxb-", "useSystemSettings": True,
                "messageTemplate": "Device ${deviceId}: temperature is $[temperature]",
                "conversationType": "PUBLIC_CHANNEL", "conversation": None}
    fields = (field("messageTemplate", "text", "Message template"),
              field("useSystemSettings", "bool", "Use system Slack settings"),
              field("botToken", "secret", "Slack API token"),
              field("conversationType", "select", "Slack channel type", choices=CONVERSATION_TYPES),
              field("conversation", "json", "Conversation", help='{"type": ..., "id": "C0123", "name": "alerts"}'))
    secret_fields = ("botToken",)

    @classmethod
    def clean_config(cls, configuration):
        template = text_option(configuration, "messageTemplate")
        if not template:
            raise ConfigError("messageTemplate is required")
        kind = configuration.get("conversationType")
        if kind is not None and kind not in CONVERSATION_TYPES:
            raise ConfigError(f"conversationType must be one of {', '.join(CONVERSATION_TYPES)}")
        conversation = configuration.get("conversation")
        if conversation is not None:
            if not isinstance(conversation, dict):
                raise ConfigError("conversation must be an object with the Slack conversation's id")
            conversation = _required(conversation, "id", "conversation.")
        token = text_option(configuration, "botToken") or ""
        if token and not (token.isascii() and token.isprintable() and " " not in token):  # never echoed
            raise ConfigError("botToken must not contain whitespace, control or non-ASCII characters")
        return {"system": bool_option(configuration, "useSystemSettings", False), "template": template,
                "token": token, "conversation": conversation}

    def process(self, ctx, msg):
        config = self.config
        if config["system"]:
            return fail(msg, "Slack token is missing: useSystemSettings is on, and this server has no system "
                             "Slack settings; switch it off and set the node's botToken")
        if not config["token"]:
            return fail(msg, "Slack token is missing: set the node's botToken")
        if not config["conversation"]:
            return fail(msg, "No Slack conversation is set: choose one (configuration.conversation)")
        error = self.post(config["conversation"], substitute(config["template"], msg))
        return fail(msg, error) if error else [Out(SUCCESS, msg)]

    def post(self, channel: str, text: str) -> str | None:
        body = json.dumps({"channel": channel, "text": text}).encode()
        request = urllib.request.Request(f"{SLACK_API_URL.rstrip('/')}/chat.postMessage", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {self.config['token']}",
                                                  "Content-Type": "application/json; charset=utf-8"})
        try:
            status, answer = _http(request)
        except OSError as e:
            return f"Failed to send the Slack message: {_unreachable('Slack', e)}"
        except ValueError as e:  # a header refused: its text would quote the token
            return f"Failed to send the Slack message: cannot reach Slack: {type(e).__name__}"
        try:
            reply = json.loads(answer)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            return f"Slack API error: HTTP {status} without a Slack answer"
        if reply.get("ok") is True:
            return None
        error = str(reply.get("error") or f"HTTP {status}")
        if error == "missing_scope" and reply.get("needed"):
            error = f"bot token scope '{reply['needed']}' is needed"
        return f"Slack API error: {error}"[:1024]
