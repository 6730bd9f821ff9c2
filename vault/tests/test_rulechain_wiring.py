"""A REST API call node whose header and basic credentials name secrets, run by the rule engine against a
local HTTP server: the values reach the server, a missing secret fails the node's messages with a clear
error (and nothing else), a new value is used from the next batch, nothing shows the value."""

import base64
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rulechains import engine, nodes
from rulechains.tests.helpers import events_of, install_root, msg, node
from tbproject.testing.factories import make_device
from vault import services
from vault.models import Secret

TOKEN = "t0ken-never-shown"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def chain(tenant, server, *, header_secret="apiToken", password_secret="apiPass"):
    rest = node(nodes.REST_API_CALL, "call out", True,
                restEndpointUrlPattern=f"http://127.0.0.1:{server.server_address[1]}/in", requestMethod="POST",
                headers={"Authorization": f"Bearer ${{secret:{header_secret};type:TEXT}}", "X-Dev": "${deviceName}"},
                credentials={"type": "basic", "username": "svc",
                             "password": f"${{secret:{password_secret};type:TEXT}}"})
    installed = install_root(tenant, [rest, node(nodes.LOG, "after", True)], [(0, 1, "Success")])
    return installed.nodes.get(index=0)


def test_the_node_sends_the_secrets_values(tenant, server, caplog):
    services.save(tenant.pk, {"name": "apiToken", "type": "TEXT", "value": TOKEN})
    services.save(tenant.pk, {"name": "apiPass", "type": "TEXT", "value": "p@ss"})
    rest = chain(tenant, server)
    device = make_device(tenant, "d-1")
    with caplog.at_level(logging.DEBUG):
        report = engine.process([msg(tenant, device, metadata={"deviceName": "d-1"})])
    assert report.failures == 0
    [headers] = server.seen
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"svc:p@ss").decode()  # basic wins, as before
    assert headers["X-Dev"] == "d-1"
    shown = json.dumps(events_of(rest)) + json.dumps(rest.configuration) + caplog.text
    assert TOKEN not in shown and "p@ss" not in shown
    assert rest.configuration["headers"]["Authorization"] == "Bearer ${secret:apiToken;type:TEXT}"


def test_a_header_secret_reaches_the_server_and_a_new_value_the_next_batch(tenant, server):
    services.save(tenant.pk, {"name": "apiToken", "type": "TEXT", "value": TOKEN})
    services.save(tenant.pk, {"name": "apiPass", "type": "TEXT", "value": "p"})
    rest = node(nodes.REST_API_CALL, "bearer", True,
                restEndpointUrlPattern=f"http://127.0.0.1:{server.server_address[1]}/in",
                headers={"Authorization": "Bearer ${secret:apiToken;type:TEXT}"})
    install_root(tenant, [rest], [])
    device = make_device(tenant, "d-1")
    engine.process([msg(tenant, device)])
    services.set_value(Secret.objects.get(tenant=tenant, name="apiToken"), "rotated")
    engine.process([msg(tenant, device)])
    assert [h["Authorization"] for h in server.seen] == [f"Bearer {TOKEN}", "Bearer rotated"]


def test_a_missing_secret_fails_the_nodes_messages_with_a_clear_error(tenant, server):
    services.save(tenant.pk, {"name": "apiToken", "type": "TEXT", "value": TOKEN})
    rest = chain(tenant, server, password_secret="absent")
    device = make_device(tenant, "d-1")
    report = engine.process([msg(tenant, device), msg(tenant, device)])
    assert report.failures == 2 and server.seen == []
    errors = [e["error"] for e in events_of(rest, "OUT")]
    assert errors == ["Invalid configuration: Secret 'absent' referenced by ${secret:absent;type:TEXT} "
                      "is not found"] * 2
    services.save(tenant.pk, {"name": "absent", "type": "TEXT", "value": "now"})
    assert engine.process([msg(tenant, device)]).failures == 0 and len(server.seen) == 1


def test_another_tenants_secret_of_the_same_name_is_not_used(tenant, other_tenant, server):
    services.save(other_tenant.pk, {"name": "apiToken", "type": "TEXT", "value": "mallorys"})
    services.save(other_tenant.pk, {"name": "apiPass", "type": "TEXT", "value": "mallorys"})
    chain(tenant, server)
    report = engine.process([msg(tenant, make_device(tenant, "d-1"))])
    assert report.failures == 1 and server.seen == []
