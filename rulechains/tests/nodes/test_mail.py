"""The "to email" and "send email" nodes, sending to a real SMTP server (aiosmtpd) on a free port."""

import email
import json
import logging
import socket
import threading

import pytest

from rulechains import engine, nodes
from rulechains.metadata import node_json
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_device

TO_EMAIL = "org.thingsboard.rule.engine.mail.TbMsgToEmailNode"
SEND_EMAIL = "org.thingsboard.rule.engine.mail.TbSendEmailNode"
USER, PASSWORD = "alerts", "s3cret-Pa55"
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVO"
         "RK5CYII=")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server received: (envelope sender, recipients, parsed message)."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that accepts USER/PASSWORD (AUTH PLAIN/LOGIN, no TLS)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def smtp_config(port, **changes) -> dict:
    """The configuration ThingsBoard exports for a send email node with its own SMTP settings."""
    return {"useSystemSmtpSettings": False, "smtpHost": "127.0.0.1", "smtpPort": port, "username": USER,
            "password": PASSWORD, "smtpProtocol": "smtp", "timeout": 10000, "enableTls": False, "tlsVersion": "TLSv1.2",
            "enableProxy": False, "proxyHost": None, "proxyPort": None, "proxyUser": None, "proxyPassword": None,
            **changes}


def email_msg(tenant, **fields):
    data = {"from": "noreply@example.com", "to": "ops@example.com", "cc": None, "bcc": None, "subject": "Hot",
            "body": "It is hot", "images": None, "html": False, **fields}
    return msg(tenant, msg_type="SEND_EMAIL", data=data)


def test_to_email_builds_thingsboards_email_json_from_metadata_and_data(tenant):
    device = make_device(tenant, "thermo")
    [[out]] = run_node(tenant, TO_EMAIL, [msg(tenant, device, data={"temperature": 41},
                                              metadata={"userEmail": "a@example.com", "deviceName": "thermo",
                                                        "deviceType": "default"})],
                       **nodes.get_node(TO_EMAIL).defaults)
    assert out.relation == "Success" and out.msg.msg_type == "SEND_EMAIL"
    assert out.msg.data == {"from": "info@testmail.org", "to": "a@example.com", "cc": None, "bcc": None,
                            "subject": "Device default temperature high",
                            "body": "Device thermo has high temperature 41", "images": None, "html": False}
    assert out.msg.metadata["userEmail"] == "a@example.com" and out.msg.originator_id == device.pk


@pytest.mark.parametrize("configuration, metadata, html", [
    ({"mailBodyType": "true"}, {}, True),
    ({"mailBodyType": "dynamic", "isHtmlTemplate": "${isHtml}"}, {"isHtml": "TRUE"}, True),
    ({"mailBodyType": "dynamic", "isHtmlTemplate": "${isHtml}"}, {"isHtml": "yes"}, False),
    ({"isHtmlTemplate": "${isHtml}"}, {"isHtml": "true"}, True),  # an export from before mailBodyType
])
def test_to_email_decides_html_as_thingsboard(tenant, configuration, metadata, html):
    [[out]] = run_node(tenant, TO_EMAIL, [msg(tenant, metadata=metadata)], toTemplate="x@example.com",
                       **configuration)
    assert out.msg.data["html"] is html


def test_to_email_takes_images_from_the_metadata_and_fails_when_they_are_not_json(tenant):
    good, bad = (msg(tenant, metadata={"images": json.dumps({"logo.png": PIXEL})}),
                 msg(tenant, metadata={"images": "{not json"}))
    [[ok], [failed]] = run_node(tenant, TO_EMAIL, [good, bad], toTemplate="x@example.com")
    assert ok.msg.data["images"] == {"logo.png": PIXEL}
    assert failed.relation == "Failure" and failed.error.startswith(
        "The given string value cannot be transformed to Json object")


def test_to_email_refuses_templates_that_are_not_text(tenant):
    with pytest.raises(ConfigError, match="subjectTemplate"):
        make_node(tenant, TO_EMAIL, subjectTemplate={"a": 1})


def test_send_email_delivers_to_the_smtp_server_with_cc_bcc_and_html(tenant, smtp_server):
    first = email_msg(tenant, to="ops@example.com, boss@example.com", cc="cc@example.com", bcc="audit@example.com",
                      subject="Alarm", body="<b>hot</b>", html=True)
    second = email_msg(tenant, subject="Second", images={"logo.png": PIXEL})
    outs = run_node(tenant, SEND_EMAIL, [first, second], **smtp_config(smtp_server.port))
    assert [o.relation for [o] in outs] == ["Success", "Success"] and outs[0][0].msg == first
    (sender, rcpts, mail), (_, _, with_image) = smtp_server.received
    assert sender == "noreply@example.com"
    assert rcpts == ["ops@example.com", "boss@example.com", "cc@example.com", "audit@example.com"]
    assert mail["Subject"] == "Alarm" and mail["To"] == "ops@example.com, boss@example.com"
    assert mail["Cc"] == "cc@example.com" and mail["Bcc"] is None
    assert mail.get_content_type() == "text/html" and mail.get_payload(decode=True).strip() == b"<b>hot</b>"
    assert with_image.get_content_type() == "multipart/related"
    [image] = [p for p in with_image.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo.png>"


def test_a_wrong_password_goes_to_failure_without_the_password(tenant, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    [[out]] = run_node(tenant, SEND_EMAIL, [email_msg(tenant)], **smtp_config(smtp_server.port, password="wrong-pw"))
    assert out.relation == "Failure"
    assert out.error.startswith(f"SMTP authentication failed at 127.0.0.1:{smtp_server.port} for user 'alerts': 535")
    assert "wrong-pw" not in out.error and "wrong-pw" not in caplog.text
    assert smtp_server.received == []


def test_a_refused_connection_fails_every_message_of_the_batch(tenant):
    port = free_port()  # nothing listens there
    outs = run_node(tenant, SEND_EMAIL, [email_msg(tenant), email_msg(tenant)], **smtp_config(port))
    for [out] in outs:
        assert out.relation == "Failure"
        assert out.error.startswith(f"Could not send through the SMTP server 127.0.0.1:{port}: ConnectionRefusedError")


def test_messages_that_are_not_emails_fail_with_thingsboards_text(tenant, smtp_server):
    outs = run_node(tenant, SEND_EMAIL, [msg(tenant, data={"to": "a@example.com"}), email_msg(tenant, to=" "),
                                         msg(tenant, msg_type="SEND_EMAIL", data="not json"), email_msg(tenant)],
                    **smtp_config(smtp_server.port))
    assert outs[0][0].error == "Not expected msg type POST_TELEMETRY_REQUEST for SendEmail Node"
    assert outs[1][0].error == "Email destination can not be blank [ ]"
    assert outs[2][0].error.startswith("The given string value cannot be transformed to Json object")
    assert outs[3][0].relation == "Success" and len(smtp_server.received) == 1


def test_system_smtp_settings_use_djangos_configured_backend(tenant, mailoutbox):
    [[out]] = run_node(tenant, SEND_EMAIL, [email_msg(tenant, cc="cc@example.com")], useSystemSmtpSettings=True)
    assert out.relation == "Success"
    [sent] = mailoutbox
    assert sent.subject == "Hot" and sent.to == ["ops@example.com"] and sent.cc == ["cc@example.com"]


class ConnectProxy:
    """A minimal HTTP CONNECT proxy: remembers the request, then relays bytes both ways."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(1024)
            self.requests.append(head.decode())
            host, port = head.split()[1].decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source, target):
        try:
            while data := source.recv(4096):
                target.sendall(data)
        except OSError:
            pass
        finally:
            target.close()


def test_send_email_goes_through_an_http_proxy_when_enabled(tenant, smtp_server):
    proxy = ConnectProxy()
    try:
        [[out]] = run_node(tenant, SEND_EMAIL, [email_msg(tenant)],
                           **smtp_config(smtp_server.port, enableProxy=True, proxyHost="127.0.0.1",
                                         proxyPort=str(proxy.port), proxyUser="px", proxyPassword="px-pw"))
    finally:
        proxy.listener.close()
    assert out.relation == "Success" and len(smtp_server.received) == 1
    [request] = proxy.requests
    assert request.startswith(f"CONNECT 127.0.0.1:{smtp_server.port} HTTP/1.1")
    assert "Proxy-Authorization: Basic cHg6cHgtcHc=" in request  # px:px-pw


@pytest.mark.parametrize("configuration, message", [
    ({"smtpProtocol": "imap"}, "smtpProtocol must be smtp or smtps"),
    ({"smtpPort": 70000}, "smtpPort must be an integer from 1 to 65535, got '70000'"),
    ({"smtpHost": ""}, "smtpHost"),
    ({"enableProxy": True}, "proxyHost is required"),
    ({"tlsVersion": "SSLv3"}, "tlsVersion"),
    ({"timeout": -1}, "timeout must be an integer from 0 to 2147483647, got '-1'"),
])
def test_send_email_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, SEND_EMAIL, **smtp_config(25, **configuration))


def test_the_passwords_are_masked_in_what_the_api_answers(tenant):
    chain = install_root(tenant, [node(SEND_EMAIL, "mail", **smtp_config(25, proxyPassword="px-pw"))], [])
    configuration = node_json(chain.nodes.get(index=0))["configuration"]
    assert PASSWORD not in json.dumps(configuration) and "px-pw" not in json.dumps(configuration)
    assert configuration["username"] == USER


def test_an_exported_alarm_mail_chain_sends_the_email_through_the_engine(tenant, smtp_server):
    """to email -> send email, as ThingsBoard exports them, run by the engine on a device's message."""
    device = make_device(tenant, "boiler")
    chain = install_root(tenant, [
        {"type": TO_EMAIL, "name": "to email", "debugMode": False, "singletonMode": False, "configurationVersion": 0,
         "configuration": {"fromTemplate": "info@testmail.org", "toTemplate": "${userEmail}", "ccTemplate": None,
                           "bccTemplate": None, "subjectTemplate": "Device ${deviceName} temperature high",
                           "bodyTemplate": "Device ${deviceName} has high temperature $[temperature]",
                           "isHtmlTemplate": None, "mailBodyType": "false"},
         "additionalInfo": {"description": "", "layoutX": 300, "layoutY": 150}},
        {"type": SEND_EMAIL, "name": "send email", "debugMode": False, "singletonMode": False,
         "configurationVersion": 0, "configuration": smtp_config(smtp_server.port),
         "additionalInfo": {"description": "", "layoutX": 600, "layoutY": 150}},
        node(nodes.LOG, "sent", True), node(nodes.LOG, "failed", True),
    ], [(0, 1, "Success"), (1, 2, "Success"), (1, 3, "Failure")], name="Mail")
    report = engine.process([msg(tenant, device, data={"temperature": 93},
                                 metadata={"userEmail": "owner@example.com", "deviceName": "boiler"})])
    assert report.failures == 0
    [(sender, rcpts, mail)] = smtp_server.received
    assert sender == "info@testmail.org" and rcpts == ["owner@example.com"]
    assert mail["Subject"] == "Device boiler temperature high"
    assert mail.get_payload(decode=True).decode().strip() == "Device boiler has high temperature 93"
    [sent] = events_of(chain.nodes.get(index=2), "IN")
    assert sent["msgType"] == "SEND_EMAIL" and events_of(chain.nodes.get(index=3)) == []
