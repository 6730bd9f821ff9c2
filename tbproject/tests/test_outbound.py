"""tbproject/outbound.py: IPv6 transition forms judged by the IPv4 address they carry, and a call's deadline that
a server dripping its answer byte by byte cannot outlast (a local server stands in for the remote one)."""

import socket
import threading
import time

import pytest

from tbproject import outbound


@pytest.mark.parametrize("address, public", [
    ("2002:7f00:1::", False),                           # 6to4 of 127.0.0.1
    ("2002:a00:1::1", False),                           # 6to4 of 10.0.0.1
    ("2002:808:808::1", True),                          # 6to4 of 8.8.8.8
    ("64:ff9b::7f00:1", False),                         # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", False),                      # NAT64 of 169.254.169.254
    ("64:ff9b::808:808", True),                         # NAT64 of 8.8.8.8
    ("::ffff:127.0.0.1", False), ("::ffff:8.8.8.8", True),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),    # Teredo, client 127.0.0.1
    ("2001:4860:4860::8888", True), ("::1", False), ("fe80::1", False),
])
def test_ipv6_transition_forms_are_judged_by_the_ipv4_they_carry(address, public):
    assert outbound.public_address(address) is public


@pytest.fixture(scope="module")
def drip_server():
    """Answers with headers at once, then a 50-byte body one byte every 0.05 s; on /headers: a header line
    every 0.05 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn):
        with conn:
            try:
                slow_headers = b" /headers " in conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n" if slow_headers else
                             b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n")
                for i in range(50):
                    if stop.wait(0.05):
                        return
                    conn.sendall(f"X-Drip-{i}: 1\r\n".encode() if slow_headers else b"x")
            except OSError:
                return

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    listener.close()


def test_a_deadline_ends_a_slow_drip_that_each_read_timeout_lets_pass(drip_server):
    with pytest.raises(TimeoutError):
        outbound.request("GET", drip_server, None, {}, timeout=1, allow_private=True,
                         deadline=time.monotonic() + 0.3)
    with pytest.raises(TimeoutError):  # headers dripped line by line
        outbound.request("GET", drip_server + "headers", None, {}, timeout=1, allow_private=True,
                         deadline=time.monotonic() + 0.3)
    status, body = outbound.request("GET", drip_server, None, {}, timeout=1, allow_private=True, limit=3,
                                    deadline=time.monotonic() + 5)
    assert status == 200 and body == b"xxx"
