"""HTTP calls to URLs a tenant typed (a webhook), safe from server-side request forgery.

:func:`request` resolves the URL's host once, refuses it when any address it names is not a public one
(loopback, private, link-local such as 169.254.169.254, carrier-grade NAT, reserved, multicast,
unspecified; an IPv6 form carrying an IPv4 address, IPv4-mapped, 6to4, NAT64 or Teredo, as that one) unless
``allow_private``, and connects to that very address (no second lookup a DNS rebinding could answer
differently; TLS still checks the host's name). A ``deadline`` bounds a whole call (``timeout`` each socket
wait). Redirects are never followed: a 3xx is answered as it is. No proxy from the environment is used.

    status, body = outbound.request("POST", url, data, headers, timeout=10, allow_private=False)
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse

__all__ = ["UnsafeURL", "public_address", "check_host", "request"]


class UnsafeURL(ValueError):
    """The URL is not http(s), or its host names an address that is not public."""


def public_address(address: str) -> bool:
    """Whether ``address`` (an IP literal) is a public unicast one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            return all(public_address(str(v4)) for v4 in embedded)
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
                                 or ip.is_multicast or ip.is_unspecified)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list:
    """The IPv4 addresses an IPv6 transition form carries: IPv4-mapped, 6to4 (2002::/16), NAT64
    (64:ff9b::/96), Teredo (2001::/32: its server and client)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return list(ip.teredo or ())


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_host(host: str) -> None:
    """Without a lookup: refuse a host that is an IP literal not public, or ``localhost`` (for a clear
    answer when a URL is saved; :func:`request` checks the resolved addresses again)."""
    host = (host or "").strip("[]").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost") or (_literal(host) and not public_address(host)):
        raise UnsafeURL("the URL's host is not a public address")


def _resolve(host: str, port: int, allow_private: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise OSError(f"cannot resolve {host}: {e}") from e
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise OSError(f"cannot resolve {host}")
    if not allow_private and not all(public_address(a) for a in addresses):
        raise UnsafeURL("the URL's host is not a public address")
    return addresses[0]


def request(method: str, url: str, data: bytes | None, headers: dict, *, timeout: float,
            allow_private: bool = False, limit: int = 65536, deadline: float | None = None) -> tuple[int, bytes]:
    """(status, at most ``limit`` bytes of the body) of one call; UnsafeURL when refused, OSError when
    unreachable. ``timeout`` bounds each socket operation; ``deadline`` (a time.monotonic() value), when given,
    the whole call: a server dripping its answer cannot outlast it (TimeoutError)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("only http and https URLs are allowed")
    host = parts.hostname
    if not allow_private:
        check_host(host)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as e:
        raise UnsafeURL("the URL's port is not valid") from e
    address = _resolve(host, port, allow_private)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    # connect to the address checked above, not to a second lookup of the name (TLS still verifies ``host``)
    conn._create_connection = lambda where, *args, **kwargs: socket.create_connection(
        (address, where[1]), *args, **kwargs)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if deadline is None:
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read(limit)
        finally:
            conn.close()
    return _before_deadline(conn, method, path, data, headers, timeout, limit, deadline)


def _before_deadline(conn, method, path, data, headers, timeout, limit, deadline) -> tuple[int, bytes]:
    """The call with every socket wait cut to what is left before ``deadline``, the body read in chunks, and
    a watchdog shutting the socket at the deadline (headers dripped line by line)."""

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer before the deadline")
        return min(timeout, remaining)

    def cut() -> None:
        expired.set()
        try:
            (sock or conn.sock).shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    sock, conn.timeout, expired = None, left(), threading.Event()
    watchdog = threading.Timer(deadline - time.monotonic(), cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, path, body=data, headers=headers)
        sock = conn.sock  # the response keeps reading it after ``conn`` lets go of it (Connection: close)
        sock.settimeout(left())
        response = conn.getresponse()
        chunks, size = [], 0
        while size < limit:
            sock.settimeout(left())
            chunk = response.read1(min(65536, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if expired.is_set():  # the watchdog ended the answer: a part is no answer
            raise TimeoutError("no answer before the deadline")
        return response.status, b"".join(chunks)
    except (OSError, http.client.HTTPException):
        if expired.is_set():  # the watchdog's cut
            raise TimeoutError("no answer before the deadline") from None
        raise
    finally:
        watchdog.cancel()
        conn.close()
