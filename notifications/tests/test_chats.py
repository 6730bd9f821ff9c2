"""Slack, Microsoft Teams and SMS delivery against real local HTTP servers standing in for the clouds
(mocked Slack Web API, mocked Teams webhook, mocked Twilio), the Slack conversations list, user group and
role targets, and the inbox TTL."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from tb_pe_client.models import SlackConversation

from devices.choices import GroupType
from notifications import retention
from notifications.models import Notification, NotificationRequest
from notifications.tests.helpers import send, template, users_target
from roles.models import GroupPermission, Role
from tbproject.clock import now_ms
from tbproject.testing.factories import make_group
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

pytestmark = pytest.mark.django_db


class MockedCloud:
    """A local HTTP server playing a cloud service: records each request (a GET's query as its body,
    path without it), answers ``reply(path, body)`` (``reply(path, body, method)`` when ``with_method``):
    (status, answer[, headers])."""

    def __init__(self, reply, with_method: bool = False):
        self.requests: list[tuple[str, dict, dict]] = []
        self.methods: list[str] = []
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path, _, query = self.path.partition("?")
                self.answer(path, {k: v[0] for k, v in parse_qs(query).items()})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"form": raw.decode()}
                self.answer(self.path, body)

            def answer(self, path, body):
                cloud.requests.append((path, dict(self.headers), body))
                cloud.methods.append(self.command)
                status, answer, *headers = reply(path, body, self.command) if with_method else reply(path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in (headers[0] if headers else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def slack_reply(path, body, method):
    """As Slack's Web API: chat.postMessage a POST of JSON; the read methods (conversations.list, users.list)
    GETs with query parameters, as python-slack-sdk sends them (a JSON body's arguments would be ignored)."""
    reads = ("/conversations.list", "/users.list")
    if method != ("GET" if path.endswith(reads) else "POST"):
        return 200, {"ok": False, "error": "invalid_arguments"}
    if path.endswith(reads) and body.get("limit") != "1000":
        return 200, {"ok": False, "error": "invalid_arguments"}
    if path.endswith("/chat.postMessage"):
        if body.get("channel") == "C404":
            return 200, {"ok": False, "error": "channel_not_found"}
        return 200, {"ok": True, "ts": "1.2"}
    if path.endswith("/conversations.list"):
        return 200, {"ok": True, "channels": [{"id": "C1", "name": "ops"}], "response_metadata": {"next_cursor": ""}}
    if path.endswith("/users.list"):
        return 200, {"ok": True, "members": [{"id": "U1", "name": "bob", "real_name": "Bob B",
                                              "profile": {"email": "bob@example.com"}},
                                             {"id": "B1", "name": "bot", "is_bot": True}]}
    return 404, {"ok": False, "error": "unknown_method"}


@pytest.fixture
def slack(settings):
    cloud = MockedCloud(slack_reply, with_method=True)  # a mocked Slack Web API
    settings.NOTIFICATION_SLACK_API_URL = cloud.url + "/api/"
    yield cloud
    cloud.close()


def teams_reply(path, body):
    if path == "/broken":
        return 500, {"error": "down: internal-secret-page"}
    if path == "/moved":
        return 302, {"error": "moved"}, {"Location": "/hook"}
    return 202, {}


@pytest.fixture
def teams(settings):
    settings.NOTIFICATION_ALLOW_PRIVATE_URLS = True  # the mocked webhook listens on 127.0.0.1
    cloud = MockedCloud(teams_reply)
    yield cloud  # a mocked Teams incoming webhook
    cloud.close()


CHATS = {"deliveryMethodsTemplates": {
    "SLACK": {"method": "SLACK", "body": "Slack: ${alarmType}"},
    "MICROSOFT_TEAMS": {"method": "MICROSOFT_TEAMS", "subject": "Teams ${alarmType}", "body": "body ${alarmType}",
                        "themeColor": "#ff0000", "button": {"enabled": True, "text": "Open", "link": "https://x.io"}}}}


def chat_target(api, name, configuration) -> str:
    res = api.post("/api/notification/target", {"name": name, "configuration": configuration}, format="json")
    assert res.status_code == 200, res.content
    return res.json()["id"]["id"]


def test_slack_and_teams_delivery_success_and_failure(api, slack, teams, django_capture_on_commit_callbacks):
    assert api.post("/api/notification/settings", {"deliveryMethodsConfigs": {
        "SLACK": {"method": "SLACK", "botToken": "xoxb-secret"}}}, format="json").status_code == 200
    targets = [
        chat_target(api, "ops", {"type": "SLACK", "conversationType": "PUBLIC_CHANNEL",
                                 "conversation": {"id": "C1", "title": "#ops"}}),
        chat_target(api, "gone", {"type": "SLACK", "conversationType": "PUBLIC_CHANNEL",
                                  "conversation": {"id": "C404"}}),
        chat_target(api, "team", {"type": "MICROSOFT_TEAMS", "webhookUrl": teams.url + "/hook", "channelName": "t",
                                  "useOldApi": True}),
        chat_target(api, "team new", {"type": "MICROSOFT_TEAMS", "webhookUrl": teams.url + "/flow",
                                      "channelName": "t"}),
        chat_target(api, "broken", {"type": "MICROSOFT_TEAMS", "webhookUrl": teams.url + "/broken",
                                    "channelName": "t"})]
    tpl = template(api, "chats", configuration=CHATS)
    with django_capture_on_commit_callbacks(execute=True):
        res = send(api, targets, tpl["id"]["id"])
    assert res.status_code == 200, res.content
    stats = NotificationRequest.objects.get(pk=res.json()["id"]["id"]).stats
    assert stats["sent"] == {"SLACK": 1, "MICROSOFT_TEAMS": 2} and stats["totalSent"] == 3
    assert stats["errors"]["SLACK"] == {"gone": "Slack error: channel_not_found"}
    assert stats["errors"]["MICROSOFT_TEAMS"]["broken"] == "Microsoft Teams webhook answered HTTP 500"
    assert "internal-secret-page" not in json.dumps(stats) and stats["totalErrors"] == 2
    posted = [(h["Authorization"], b) for p, h, b in slack.requests if p.endswith("chat.postMessage")]
    assert posted[0] == ("Bearer xoxb-secret", {"channel": "C1", "text": "Slack: ${alarmType}"})
    cards = {p: b for p, _, b in teams.requests}
    assert cards["/hook"]["@type"] == "MessageCard" and cards["/hook"]["themeColor"] == "ff0000"
    assert cards["/hook"]["potentialAction"][0]["targets"][0]["uri"] == "https://x.io"
    adaptive = cards["/flow"]["attachments"][0]["content"]
    assert adaptive["body"][0]["text"] == "Teams ${alarmType}" and adaptive["actions"][0]["url"] == "https://x.io"
    assert "xoxb-secret" not in json.dumps(api.get("/api/notification/settings").json())


def test_teams_webhooks_are_not_called_at_private_addresses_nor_redirected(
        api, tenant, teams, settings, monkeypatch, django_capture_on_commit_callbacks):
    from notifications.models import NotificationTarget

    settings.NOTIFICATION_ALLOW_PRIVATE_URLS = False
    for url in (teams.url + "/hook", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/x",
                "http://10.0.0.5/x", "http://localhost:8080/x"):
        res = api.post("/api/notification/target", {"name": "t", "configuration": {
            "type": "MICROSOFT_TEAMS", "webhookUrl": url, "channelName": "t"}}, format="json")
        assert res.status_code == 400, url
    # stored before the check, or a name that resolves to a private address: refused when sending, never called
    real = __import__("socket").getaddrinfo
    monkeypatch.setattr("socket.getaddrinfo", lambda host, *a, **k: real(
        "127.0.0.1" if host == "hook.example.com" else host, *a, **k))
    targets = []
    for name, url in (("literal", teams.url + "/hook"),
                      ("named", f"http://hook.example.com:{teams.server.server_port}/hook")):
        targets.append(str(NotificationTarget.objects.create(tenant=tenant, name=name, configuration={
            "type": "MICROSOFT_TEAMS", "webhookUrl": url, "channelName": "t"}).pk))
    with django_capture_on_commit_callbacks(execute=True):
        res = send(api, targets, template(api, "chats", configuration=CHATS)["id"]["id"])
    stats = NotificationRequest.objects.get(pk=res.json()["id"]["id"]).stats
    assert teams.requests == [] and stats["totalErrors"] == 2
    assert "not a public address" in stats["errors"]["MICROSOFT_TEAMS"]["named"]
    settings.NOTIFICATION_ALLOW_PRIVATE_URLS = True  # a redirect is answered, not followed
    moved = chat_target(api, "moved", {"type": "MICROSOFT_TEAMS", "webhookUrl": teams.url + "/moved",
                                       "channelName": "t"})
    with django_capture_on_commit_callbacks(execute=True):
        res = send(api, [moved], template(api, "chats2", configuration=CHATS)["id"]["id"])
    stats = NotificationRequest.objects.get(pk=res.json()["id"]["id"]).stats
    assert [p for p, _, _ in teams.requests] == ["/moved"] and teams.methods == ["POST"]
    assert stats["errors"]["MICROSOFT_TEAMS"]["moved"] == "Microsoft Teams webhook answered HTTP 302"


def test_slack_without_a_token_and_an_unreachable_webhook_are_recorded(api, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.NOTIFICATION_ALLOW_PRIVATE_URLS = True
    targets = [chat_target(api, "ops", {"type": "SLACK", "conversation": {"id": "C1"}}),
               chat_target(api, "nowhere", {"type": "MICROSOFT_TEAMS", "webhookUrl": "http://127.0.0.1:9/x",
                                            "channelName": "t"})]
    with django_capture_on_commit_callbacks(execute=True):
        res = send(api, targets, template(api, "chats", configuration=CHATS)["id"]["id"])
    stats = NotificationRequest.objects.get(pk=res.json()["id"]["id"]).stats
    assert stats["sent"] == {} and stats["totalErrors"] == 2
    assert "not configured" in stats["errors"]["SLACK"]["ops"]
    assert "unreachable" in stats["errors"]["MICROSOFT_TEAMS"]["nowhere"]


def test_a_teams_webhook_must_be_http(api):
    res = api.post("/api/notification/target", {"name": "t", "configuration": {
        "type": "MICROSOFT_TEAMS", "webhookUrl": "file:///etc/passwd", "channelName": "t"}}, format="json")
    assert res.status_code == 400


def test_slack_conversations(api, customer_api, slack):
    url = "/api/notification/slack/conversations"
    assert api.get(f"{url}?type=PUBLIC_CHANNEL").status_code == 400  # no token anywhere
    assert api.get(f"{url}?type=GROUP&token=t").status_code == 400
    channels = api.get(f"{url}?type=PUBLIC_CHANNEL&token=xoxb-1").json()
    assert channels == [{"type": "PUBLIC_CHANNEL", "id": "C1", "name": "ops", "wholeName": "ops", "email": None,
                         "title": "#ops"}]
    assert SlackConversation.from_dict(channels[0]).title == "#ops"  # tb-pe-client's model reads it
    users = api.get(f"{url}?type=DIRECT&token=xoxb-1").json()
    assert [(u["id"], u["email"], u["title"]) for u in users] == [("U1", "bob@example.com", "@bob")]
    assert customer_api.get(f"{url}?type=DIRECT&token=xoxb-1").status_code == 403
    methods = api.get("/api/notification/deliveryMethods").json()
    assert "SLACK" not in methods and "MICROSOFT_TEAMS" in methods


def test_sms_through_the_system_twilio_settings(api, tenant, settings, django_capture_on_commit_callbacks):
    from tenants.system import store

    twilio = MockedCloud(lambda path, body: (201, {"sid": "SM1"}) if parse_qs(body["form"])["To"] == ["+10001"]
                         else (400, {"message": "The 'To' number is not valid"}))
    settings.NOTIFICATION_TWILIO_API_URL = twilio.url
    try:
        store.write("sms", {"type": "TWILIO", "accountSid": "AC1", "accountToken": "tok", "numberFrom": "+1555"})
        good = User.objects.create_user("p1@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant,
                                        phone="+10001")
        bad = User.objects.create_user("p2@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant,
                                       phone="+2")
        target = users_target(api, "Phones", {"type": "USER_LIST", "usersIds": [str(good.pk), str(bad.pk)]})
        tpl = template(api, "sms", configuration={"deliveryMethodsTemplates": {
            "SMS": {"method": "SMS", "body": "Hi ${recipientEmail}"}}})
        with django_capture_on_commit_callbacks(execute=True):
            res = send(api, [target["id"]["id"]], tpl["id"]["id"])
        stats = NotificationRequest.objects.get(pk=res.json()["id"]["id"]).stats
        assert stats["sent"] == {"SMS": 1} and "not valid" in stats["errors"]["SMS"]["p2@example.com"]
        assert "SMS" in api.get("/api/notification/deliveryMethods").json()
    finally:
        store.forget()
        twilio.close()


def test_user_group_and_role_targets(api, tenant, tenant_admin, customer, other_tenant, mallory):
    carol = User.objects.create_user("carol@example.com", "x", authority=Authority.CUSTOMER_USER, tenant=tenant,
                                     customer=customer)
    group = make_group(tenant, "Operators", GroupType.USER)
    group.users.add(carol)
    role = Role.objects.create(tenant=tenant, name="Operator", type="GENERIC", permissions={"DEVICE": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    theirs = make_group(other_tenant, "Theirs", GroupType.USER)
    theirs.users.add(mallory)
    tpl = template(api, "hello")
    by_group = users_target(api, "Group", {"type": "USER_GROUP_LIST", "groupsIds": [str(group.pk), str(theirs.pk)]})
    by_role = users_target(api, "Role", {"type": "USER_ROLE", "rolesIds": [str(role.pk)]})
    for target in (by_group, by_role):
        assert send(api, [target["id"]["id"]], tpl["id"]["id"]).status_code == 200
    assert Notification.objects.filter(recipient=carol).count() == 2
    assert not Notification.objects.filter(recipient=mallory).exists()
    assert not Notification.objects.filter(recipient=tenant_admin).exists()
    bad = api.post("/api/notification/target", {"name": "bad", "configuration": {
        "type": "PLATFORM_USERS", "usersFilter": {"type": "USER_ROLE", "rolesIds": ["nope"]}}}, format="json")
    assert bad.status_code == 400


def test_ttl_removes_old_notifications_and_sent_requests(api, tenant_admin, settings):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    tpl = template(api, "hello")
    old = send(api, [target["id"]["id"]], tpl["id"]["id"]).json()["id"]["id"]
    new = send(api, [target["id"]["id"]], tpl["id"]["id"]).json()["id"]["id"]
    waiting = send(api, [target["id"]["id"]], tpl["id"]["id"], additionalConfig={"sendingDelayInSec": 60}).json()
    month_ago = now_ms() - 31 * 86400_000
    NotificationRequest.objects.filter(pk__in=[old, waiting["id"]["id"]]).update(created_time=month_ago)
    Notification.objects.filter(request_id=old).update(created_time=month_ago)
    assert retention.remove_expired() == 2  # the old request and its inbox row; the SCHEDULED one stays
    assert set(NotificationRequest.objects.values_list("pk", flat=True).iterator()) == {
        NotificationRequest.objects.get(pk=new).pk, NotificationRequest.objects.get(pk=waiting["id"]["id"]).pk}
    assert Notification.objects.filter(recipient=tenant_admin).count() == 1
    settings.NOTIFICATIONS_TTL_SECONDS = 0
    NotificationRequest.objects.filter(pk=new).update(created_time=month_ago)
    assert retention.remove_expired() == 0  # 0: kept forever
    assert api_as(tenant_admin).get("/api/notifications?pageSize=10&page=0").json()["totalElements"] == 1
