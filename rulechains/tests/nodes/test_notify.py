"""The "send sms" and "send to Slack" nodes.

- SMS through AWS SNS goes to a real local moto server (integrations/tests/aws_peers.py), which
  records every SMS it is asked to send (read back from its ``/moto-api/data.json``); with IAM it
  refuses a wrong key as AWS does.
- MOCKED CLOUDS: Twilio's REST API and Slack's Web API cannot run here. A local HTTP server
  (``FakeCloud``, below) stands in for each, answering as their documentation says
  (Twilio: 201 with the message, or 400 ``{code, message, more_info, status}``; Slack: 200
  ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``). The nodes are pointed at it through
  the module constants ``TWILIO_API_URL`` and ``SLACK_API_URL`` (monkeypatched).
"""

import base64
import json
import threading
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.tests.conftest import moto, moto_iam  # noqa: F401  (module-scoped peer fixtures)
from rulechains import engine, nodes
from rulechains.models import RuleNode
from rulechains.nodes import notify
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import chain_json, events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_device

SMS = "org.thingsboard.rule.engine.sms.TbSendSmsNode"
SLACK = "org.thingsboard.rule.engine.notification.TbSlackNode"
TOKEN = "xoxb-s3cr3t-slack-token"


@pytest.fixture
def device(tenant):
    return make_device(tenant, "pump-1")


class FakeCloud:
    """MOCKED CLOUD: a local HTTP server recording each request ``(method, path, headers, body)``
    and answering what ``answer(path, headers, body)`` returns: ``(status, JSON object)``."""

    def __init__(self, answer):
        self.requests, self.answer = [], answer
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                cloud.requests.append(("POST", self.path, dict(self.headers), body))
                status, reply = cloud.answer(self.path, self.headers, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_url() -> str:
    cloud = FakeCloud(lambda *a: (200, {}))
    cloud.close()
    return cloud.url


def chain_of(tenant, node_type, **configuration):
    """switch -> the node (debug) -> log on Failure, as a user builds it; the chain's export JSON."""
    return install_root(tenant, [
        node(nodes.SWITCH, "switch"), node(node_type, "notify", True, **configuration), node(nodes.LOG, "failed"),
    ], [(0, 1, "Post telemetry"), (1, 2, "Failure")])


def outs(chain):
    return [(e["relationType"], json.loads(e["data"]), json.loads(e["metadata"]), e.get("error"))
            for e in events_of(chain.nodes.get(index=1), "OUT")]


# --- SMS: AWS SNS (moto) ------------------------------------------------------------------------

def sent_sms(server) -> list[tuple[str, str]]:
    """(phone number, text) of every SMS the moto server was asked to send."""
    with urllib.request.urlopen(f"{server.url}/moto-api/data.json", timeout=10) as answer:
        data = json.load(answer)
    return [(s["phone_number"], s["message"]) for s in data.get("sns", {}).get("SMS", [])]


def aws(server, **extra) -> dict:
    key_id, secret = server.key
    return {"type": "AWS_SNS", "accessKeyId": key_id, "secretAccessKey": secret, "region": "us-east-1",
            "endpointUrl": server.url, **extra}


def unique_number() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


def test_the_sms_node_sends_to_every_number_through_aws_sns_and_passes_the_message_on(tenant, device, moto):  # noqa: F811
    first, second = unique_number(), unique_number()
    chain = chain_of(tenant, SMS, numbersToTemplate="${userPhone}, $[backup]",
                     smsMessageTemplate="Device ${deviceName} has high temperature $[temp]",
                     useSystemSmsSettings=False, smsProviderConfiguration=aws(moto))
    data, metadata = {"temp": 42, "backup": second}, {"deviceName": "pump-1", "userPhone": first}
    engine.process([msg(tenant, device, data=data, metadata=metadata)])
    sent = sent_sms(moto)
    assert (first, "Device pump-1 has high temperature 42") in sent
    assert (second, "Device pump-1 has high temperature 42") in sent
    [(relation, out_data, out_metadata, error)] = outs(chain)
    assert relation == "Success" and error is None
    assert out_data == data and out_metadata == metadata  # unchanged, as ThingsBoard passes it


def test_a_number_that_is_not_e164_fails_the_message_before_anything_is_sent(tenant, device, moto):  # noqa: F811
    good = unique_number()
    [[bad], [ok]] = run_node(tenant, SMS, [msg(tenant, device, metadata={"to": f"{good},0049 30 1234"}),
                                           msg(tenant, device, metadata={"to": good})],
                             numbersToTemplate="${to}", smsMessageTemplate="hi", useSystemSmsSettings=False,
                             smsProviderConfiguration=aws(moto))
    assert bad.relation == "Failure" and "must be in E.164 format" in bad.error and "0049 30 1234" in bad.error
    assert ok.relation == "Success", ok.error
    assert [number for number, _ in sent_sms(moto)].count(good) == 1  # the bad message sent to nobody


def test_the_sms_node_fails_with_the_reason_when_aws_refuses_the_key(tenant, device, moto_iam):  # noqa: F811
    [[out]] = run_node(tenant, SMS, [msg(tenant, device)], numbersToTemplate=unique_number(),
                       smsMessageTemplate="hi", useSystemSmsSettings=False,
                       smsProviderConfiguration=aws(moto_iam, secretAccessKey="wrong-secret"))
    assert out.relation == "Failure" and "refused the credentials" in out.error and "wrong-secret" not in out.error
    assert out.error.startswith("Failed to send SMS message to +1555")


def test_the_sms_node_fails_when_aws_cannot_be_reached(tenant, device):
    [[out]] = run_node(tenant, SMS, [msg(tenant, device)], numbersToTemplate="+15550001111",
                       smsMessageTemplate="hi", useSystemSmsSettings=False,
                       smsProviderConfiguration={"type": "AWS_SNS", "accessKeyId": "k", "secretAccessKey": "s",
                                                 "region": "us-east-1", "endpointUrl": closed_url()})
    assert out.relation == "Failure" and "cannot reach" in out.error


# --- SMS: Twilio (MOCKED CLOUD) -----------------------------------------------------------------

def twilio_answer(path, headers, body):
    form = urllib.parse.parse_qs(body.decode())
    if form["To"][0].endswith("0000"):
        return 400, {"code": 21211, "message": f"The 'To' number {form['To'][0]} is not a valid phone number.",
                     "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
    return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "num_segments": "1", "to": form["To"][0]}


@pytest.fixture
def twilio(monkeypatch):
    cloud = FakeCloud(twilio_answer)
    monkeypatch.setattr(notify, "TWILIO_API_URL", cloud.url)
    yield cloud
    cloud.close()


TWILIO = {"type": "TWILIO", "accountSid": "AC123", "accountToken": "s3cr3t-twilio", "numberFrom": "+15550009999"}


def test_the_sms_node_posts_to_twilios_messages_api_as_the_account(tenant, device, twilio):
    chain = chain_of(tenant, SMS, numbersToTemplate="${userPhone}",
                     smsMessageTemplate='"Line 1\\nLine 2 ${deviceName}"', useSystemSmsSettings=False,
                     smsProviderConfiguration=TWILIO)
    engine.process([msg(tenant, device, metadata={"userPhone": "+15551230001", "deviceName": "pump-1"})])
    [(method, path, headers, body)] = twilio.requests
    assert method == "POST" and path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:s3cr3t-twilio").decode()
    # ThingsBoard's preparation: the surrounding quotes dropped, "\n" made a line break
    assert urllib.parse.parse_qs(body.decode()) == {"To": ["+15551230001"], "From": ["+15550009999"],
                                                    "Body": ["Line 1\nLine 2 pump-1"]}
    assert [r for r, *_ in outs(chain)] == ["Success"]


def test_a_twilio_refusal_fails_the_message_with_twilios_text_and_stops_its_other_numbers(tenant, device, twilio):
    [[out]] = run_node(tenant, SMS, [msg(tenant, device)], numbersToTemplate="+15551230000,+15551230002",
                       smsMessageTemplate="hi", useSystemSmsSettings=False, smsProviderConfiguration=TWILIO)
    assert out.relation == "Failure"
    assert out.error == ("Failed to send SMS message to +15551230000 - The 'To' number +15551230000 is not a valid "
                         "phone number. (Twilio error 21211, HTTP 400)")
    assert len(twilio.requests) == 1


def test_the_sms_node_with_system_settings_fails_saying_there_are_none(tenant, device):
    cls = nodes.get_node(SMS)
    assert cls.defaults == {"numbersToTemplate": "${userPhone}", "smsMessageTemplate":
                            "Device ${deviceName} has high temperature ${temp}", "useSystemSmsSettings": True,
                            "smsProviderConfiguration": None}
    [[out]] = run_node(tenant, SMS, [msg(tenant, device, metadata={"userPhone": "+15551230003"})], **cls.defaults)
    assert out.relation == "Failure" and "no system SMS provider settings" in out.error


def test_the_sms_node_refuses_configurations_it_cannot_run():
    clean = nodes.get_node(SMS).clean_config
    base = {"numbersToTemplate": "${p}", "smsMessageTemplate": "t", "useSystemSmsSettings": False}
    for provider, problem in [
        (None, "smsProviderConfiguration is required"),
        ({"type": "SMPP", "host": "smsc", "port": 2775}, "SMS provider SMPP is not supported here"),
        ({"type": "ALIYUN"}, "not supported"),
        ({"type": "CARRIER_PIGEON"}, "smsProviderConfiguration.type must be one of"),
        ({"type": "AWS_SNS", "accessKeyId": "k", "region": "us-east-1"},
         "smsProviderConfiguration.secretAccessKey is required"),
        ({"type": "AWS_SNS", "accessKeyId": "k", "secretAccessKey": "s", "region": "US East"}, "region"),
        ({**TWILIO, "numberFrom": "0800 123"}, "numberFrom must be a phone number in E.164 format"),
        ({**TWILIO, "accountToken": ""}, "accountToken is required"),
    ]:
        with pytest.raises(ConfigError, match=problem):
            clean({**base, "smsProviderConfiguration": provider})
    with pytest.raises(ConfigError, match="numbersToTemplate"):
        clean({**base, "numbersToTemplate": " ", "smsProviderConfiguration": TWILIO})
    # the system settings ignore a provider left in the configuration, as ThingsBoard does
    assert clean({**base, "useSystemSmsSettings": "true", "smsProviderConfiguration": {"type": "SMPP"}})
    assert clean({**base, "smsProviderConfiguration": {**TWILIO, "numberFrom": "MG0123"}})


def test_sms_texts_are_prepared_as_thingsboard_prepares_them():
    assert notify.prepare_sms('"quoted"') == "quoted"
    assert notify.prepare_sms('a "b" c') == 'a "b" c'
    assert notify.prepare_sms("one\\ntwo") == "one\ntwo"
    assert notify.prepare_sms("x" * 2000) == "x" * 1600


# --- Slack (MOCKED CLOUD) -----------------------------------------------------------------------

def slack_answer(path, headers, body):
    request = json.loads(body)
    if headers["Authorization"] != f"Bearer {TOKEN}":
        return 200, {"ok": False, "error": "invalid_auth"}
    if request["channel"] == "C-NO-SCOPE":
        return 200, {"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "channels:read"}
    if request["channel"] != "C0123ALERTS":
        return 200, {"ok": False, "error": "channel_not_found"}
    return 200, {"ok": True, "channel": request["channel"], "ts": "1700000000.000100",
                 "message": {"type": "message", "text": request["text"]}}


@pytest.fixture
def slack(monkeypatch):
    cloud = FakeCloud(slack_answer)
    monkeypatch.setattr(notify, "SLACK_API_URL", cloud.url + "/api/")
    yield cloud
    cloud.close()


#: the conversation object as ThingsBoard's editor stores it (with its getTitle() as "title")
ALERTS = {"type": "PUBLIC_CHANNEL", "id": "C0123ALERTS", "name": "alerts", "wholeName": None, "email": None,
          "title": "alerts"}


def slack_config(**extra) -> dict:
    return {"botToken": TOKEN, "useSystemSettings": False, "messageTemplate": "Device ${deviceName}: $[temperature]",
            "conversationType": "PUBLIC_CHANNEL", "conversation": ALERTS, **extra}


def test_the_slack_node_posts_chat_post_message_and_passes_the_message_on(tenant, device, slack):
    chain = chain_of(tenant, SLACK, **slack_config())
    data, metadata = {"temperature": 31.5}, {"deviceName": "pump-1"}
    engine.process([msg(tenant, device, data=data, metadata=metadata)])
    [(method, path, headers, body)] = slack.requests
    assert method == "POST" and path == "/api/chat.postMessage"
    assert headers["Authorization"] == f"Bearer {TOKEN}" and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"channel": "C0123ALERTS", "text": "Device pump-1: 31.5"}
    assert outs(chain) == [("Success", data, metadata, None)]


def test_slacks_ok_false_fails_the_message_with_slacks_error(tenant, device, slack):
    conversation = {**ALERTS, "id": "C-GONE"}
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **slack_config(conversation=conversation))
    assert out.relation == "Failure" and out.error == "Slack API error: channel_not_found"
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **slack_config(botToken="xoxb-wrong"))
    assert out.error == "Slack API error: invalid_auth"
    no_scope = {**ALERTS, "id": "C-NO-SCOPE"}
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **slack_config(conversation=no_scope))
    assert out.error == "Slack API error: bot token scope 'chat:write' is needed"


def test_the_slack_node_fails_without_a_token_a_conversation_or_a_reachable_slack(tenant, device, monkeypatch):
    cls = nodes.get_node(SLACK)
    assert cls.defaults == {"botToken": "xoxb-", "useSystemSettings": True, "messageTemplate":
                            "Device ${deviceId}: temperature is $[temperature]", "conversationType": "PUBLIC_CHANNEL",
                            "conversation": None}
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **cls.defaults)
    assert out.relation == "Failure" and out.error.startswith("Slack token is missing: useSystemSettings is on")
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **slack_config(botToken=""))
    assert out.error == "Slack token is missing: set the node's botToken"
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **slack_config(conversation=None))
    assert "No Slack conversation is set" in out.error
    monkeypatch.setattr(notify, "SLACK_API_URL", closed_url() + "/api/")
    [[out]] = run_node(tenant, SLACK, [msg(tenant, device)], **slack_config())
    assert out.relation == "Failure" and "cannot reach Slack" in out.error and TOKEN not in out.error


def test_the_slack_node_refuses_configurations_it_cannot_run(tenant):
    for change, problem in [({"messageTemplate": ""}, "messageTemplate is required"),
                            ({"conversationType": "GROUP"}, "conversationType must be one of"),
                            ({"conversation": "C0123"}, "conversation must be an object"),
                            ({"conversation": {"name": "alerts"}}, "conversation.id is required"),
                            ({"useSystemSettings": 3}, "useSystemSettings must be true or false")]:
        with pytest.raises(ConfigError, match=problem):
            make_node(tenant, SLACK, **slack_config(**change))


# --- both: ThingsBoard's export imports; the secrets are write-only ------------------------------

def test_an_export_with_sms_and_slack_nodes_imports_and_keeps_their_secrets_write_only(api, mallory_api, tenant):
    sms = node(SMS, "sms", numbersToTemplate="${userPhone}", smsMessageTemplate="hi", useSystemSmsSettings=False,
               smsProviderConfiguration={"type": "AWS_SNS", "accessKeyId": "AKIA-SMS", "region": "us-east-1",
                                         "secretAccessKey": "s3cr3t-sms"})
    twilio = node(SMS, "twilio", numbersToTemplate="${userPhone}", smsMessageTemplate="hi",
                  useSystemSmsSettings=False, smsProviderConfiguration=TWILIO)
    slack = node(SLACK, "slack", **slack_config())
    res = api.post("/api/ruleChain/import", chain_json("Notify", [sms, twilio, slack], [(0, 2, "Success")]),
                   format="json")
    assert res.status_code == 200, res.content
    chain_id = res.json()["ruleChain"]["id"]["id"]
    for url in (f"/api/ruleChain/{chain_id}/metadata", f"/api/ruleChain/{chain_id}/export"):
        body = api.get(url).content.decode()
        assert "s3cr3t" not in body and TOKEN not in body and "******" in body and "AKIA-SMS" in body, url
        assert mallory_api.get(url).status_code == 404  # another tenant's chain
    saved = api.post("/api/ruleChain/metadata", api.get(f"/api/ruleChain/{chain_id}/metadata").json(), format="json")
    assert saved.status_code == 200, saved.content
    stored = {n.name: n.configuration for n in RuleNode.objects.filter(rule_chain_id=chain_id)}
    assert stored["sms"]["smsProviderConfiguration"]["secretAccessKey"] == "s3cr3t-sms"
    assert stored["twilio"]["smsProviderConfiguration"]["accountToken"] == "s3cr3t-twilio"
    assert stored["slack"]["botToken"] == TOKEN
    smpp = node(SMS, "smpp", numbersToTemplate="${p}", smsMessageTemplate="hi", useSystemSmsSettings=False,
                smsProviderConfiguration={"type": "SMPP", "host": "smsc", "port": 2775})
    refused = api.post("/api/ruleChain/import", chain_json("SMPP", [smpp], []), format="json")
    assert refused.status_code == 400 and "SMPP is not supported" in refused.content.decode()


def test_a_slack_token_with_a_control_character_never_reaches_the_failure_text(tenant, device, slack):
    with pytest.raises(ConfigError, match="botToken must not contain whitespace") as refused:
        make_node(tenant, SLACK, **slack_config(botToken=TOKEN + "\n"))
    assert TOKEN not in str(refused.value)
    cls = nodes.get_node(SLACK)  # a node stored before the check: the HTTP library refuses the header, quoting it
    node_ = cls.__new__(cls)
    node_.config = {**cls.clean_config(slack_config()), "token": TOKEN + "\n"}
    assert node_.post("C0123ALERTS", "hi") == "Failed to send the Slack message: cannot reach Slack: ValueError"
    assert slack.requests == []
