"""The guard around transports/mqtt/tls.py's SSL_CTX pointer: where it fails (an unknown CPython, a layout not
the expected one) the listener still serves one-way TLS and says so, a client certificate authenticating no
one; a wrong layout never crashes the process (the pointer is probed before use), and the verify callback
outlives a reload of the module. The crash-prone cases run in a child process: a crash is a failure there,
not the end of the test run."""

import subprocess
import sys
import textwrap

import pytest
from gmqtt.mqtt.handler import MQTTConnectError

from integrations.tests.processes import ROOT
from tbproject.testing.factories import make_device
from transports.mqtt import auth, tls
from transports.mqtt.server import TransportThread
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND
from transports.tests.test_tls import (
    PASSWORD,
    TlsClient,
    _certificate,
    _client_context,
    _use_certificate,
    _write_pair,
    pki,
)

__all__ = ["pki"]  # the fixture, shared with test_tls.py


def _child(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=BOUND * 4)


@pytest.fixture
def one_way_transport(committed, pki, settings, monkeypatch):
    """The TLS listener where the guard fails: this CPython is not among the known layouts."""
    monkeypatch.setattr(tls, "_VERSIONS", ())
    settings.DEVICE_MQTT_SSL_ENABLED, settings.DEVICE_MQTT_SSL_PORT = True, 0
    settings.DEVICE_MQTT_SSL_CERT, settings.DEVICE_MQTT_SSL_KEY = pki["cert"], pki["key"]
    settings.DEVICE_MQTT_SSL_KEY_PASSWORD = PASSWORD
    auth._CACHE.forget()
    host = TransportThread("127.0.0.1", 0).start()
    assert host.error is None and host.server.ssl_port
    yield host
    host.stop()


def test_where_the_guard_fails_one_way_tls_works_with_a_warning_and_a_certificate_is_no_credential(
        api, tenant, pki, one_way_transport, caplog):
    assert any("one-way TLS only" in r.getMessage() and r.levelname == "WARNING" for r in caplog.get_records("setup"))
    port = one_way_transport.server.ssl_port
    device, x509_device = make_device(tenant, "one-way-token"), make_device(tenant, "one-way-x509")
    client = TlsClient(port, _client_context(pki), token(device)).connect()
    try:
        assert client.request_attributes() == {}
    finally:
        client.close()
    pair = _certificate("one-way-device")
    _use_certificate(api, x509_device, pair[0])
    stranger = TlsClient(port, _client_context(pki, pair))  # the server asks for no certificate: none is sent
    with pytest.raises(MQTTConnectError) as refused:
        stranger.connect()
    stranger.close()
    assert refused.value._code == 5


def test_the_probe_says_unreadable_memory_is_unreadable_without_touching_it():
    assert tls._readable(id(object()))
    assert not tls._readable(0) and not tls._readable(8) and not tls._readable(id(object()) + 1)
    assert not tls._readable(0x7FF0_0000_0000)  # no mapping there: EFAULT, not a crash


def test_a_shifted_layout_never_crashes_and_is_refused():
    done = _child("""
        import ssl, _ssl
        from transports.mqtt import tls
        tls._LIBSSL = tls._libssl()
        right = object.__basicsize__
        for offset in range(0, _ssl._SSLContext.__basicsize__ - 7, 4):  # every field, aligned or not
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            found = tls._ssl_ctx(context, offset)
            assert (found is not None) == (offset == right), offset
        print("survived")
    """)
    assert done.returncode == 0 and "survived" in done.stdout, done.stderr[-2000:]


def test_the_callback_outlives_a_reload_of_the_module(pki, tmp_path):
    device_files = _write_pair(tmp_path, "reload-device", *_certificate("reload-device"))
    done = _child("""
        import gc, importlib, socket, ssl, sys, threading
        from transports.mqtt import tls
        cert, key, password, device_cert, device_key = sys.argv[1:]
        context = tls.server_context(cert, key, password)
        assert tls.wants_client_certificates(context)
        importlib.reload(tls)
        gc.collect()
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
        client.load_cert_chain(device_cert, device_key)
        for _ in range(3):
            server_end, client_end = socket.socketpair()
            seen = []
            def serve():
                with context.wrap_socket(server_end, server_side=True) as s:
                    seen.append(s.getpeercert(binary_form=True))
                    s.sendall(b"x")
            thread = threading.Thread(target=serve)
            thread.start()
            with client.wrap_socket(client_end) as c:
                c.recv(1)
            thread.join()
            assert seen and seen[0], seen
        print("survived")
    """, pki["cert"], pki["key"], PASSWORD, *device_files)
    assert done.returncode == 0 and "survived" in done.stdout, (done.returncode, done.stderr[-2000:])
