"""The REST API call node, against a local http.server started by the test."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rulechains import nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import make_node, msg, run_node


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        status = 500 if self.path.startswith("/fail") else 200
        payload = b"broken" if status == 500 else json.dumps({"echo": json.loads(body or b"null")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Answer", "42")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = do_PUT = _answer


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server, path):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_it_posts_the_data_and_takes_the_answer_as_the_new_data(tenant, server):
    batch = [msg(tenant, data={"t": i}, metadata={"dev": f"d{i}"}) for i in range(3)]
    outs = run_node(tenant, nodes.REST_API_CALL, batch, restEndpointUrlPattern=url(server, "/in/${dev}"),
                    requestMethod="POST", headers={"X-Dev": "${dev}", "X-T": "$[t]"},
                    credentials={"type": "basic", "username": "u", "password": "p"})
    assert [o.relation for [o] in outs] == ["Success"] * 3
    out = outs[1][0]
    assert out.msg.data == {"echo": {"t": 1}} and out.msg.stored is False
    assert out.msg.metadata["statusCode"] == "200" and out.msg.metadata["status"] == "OK"
    assert out.msg.metadata["X-Answer"] == "42" and out.msg.metadata["dev"] == "d1"
    seen = {path: headers for _, path, headers, _ in server.seen}
    assert set(seen) == {"/in/d0", "/in/d1", "/in/d2"}
    assert seen["/in/d1"]["X-Dev"] == "d1" and seen["/in/d1"]["X-T"] == "1"
    assert seen["/in/d1"]["Authorization"] == "Basic dTpw"


def test_an_error_status_or_no_answer_goes_by_failure(tenant, server):
    [[bad]] = run_node(tenant, nodes.REST_API_CALL, [msg(tenant)], restEndpointUrlPattern=url(server, "/fail"))
    assert bad.relation == "Failure" and bad.msg.metadata["statusCode"] == "500"
    assert bad.msg.metadata["error_body"] == "broken" and "500" in bad.error
    closed = server.server_address[1]
    server.shutdown()
    server.server_close()
    [[gone]] = run_node(tenant, nodes.REST_API_CALL, [msg(tenant)],
                        restEndpointUrlPattern=f"http://127.0.0.1:{closed}/x", readTimeoutMs=2000)
    assert gone.relation == "Failure" and "error" in gone.msg.metadata


def test_a_get_sends_no_body_and_a_bad_url_fails(tenant, server):
    [[out]] = run_node(tenant, nodes.REST_API_CALL, [msg(tenant)], restEndpointUrlPattern=url(server, "/q"),
                       requestMethod="GET")
    assert out.relation == "Success" and server.seen[0][3] == b""
    [[bad]] = run_node(tenant, nodes.REST_API_CALL, [msg(tenant)], restEndpointUrlPattern="ftp://x/y")
    assert bad.relation == "Failure" and "http or https" in bad.error


@pytest.mark.parametrize("configuration, message", [
    ({}, "restEndpointUrlPattern"), ({"restEndpointUrlPattern": "http://x", "requestMethod": "BREW"}, "requestMethod"),
    ({"restEndpointUrlPattern": "http://x", "credentials": {"type": "cert.PEM"}}, "credentials"),
])
def test_it_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, nodes.REST_API_CALL, **configuration)
