"""What the socket servers (TCP, UDP, CoAP) share: the ports this process listens on, the
"Check connection" probe, and the uplink metadata of a remote address.

A port is claimed by the integration listening on it, per protocol, so that a second integration
(or a check) on the same port gets a clear error naming the first instead of a bare EADDRINUSE.
"""

import socket
import threading

from integrations.types.base import IntegrationError

__all__ = ["claim", "release", "probe", "remote_metadata", "describe_bind_error"]

_lock = threading.Lock()
_claimed: dict[tuple[str, int], tuple[str, str]] = {}  # (protocol, port) -> (integration id, name)


def claim(protocol: str, port: int, integration) -> None:
    """Record that ``integration`` listens on ``port``; IntegrationError if another one does here."""
    with _lock:
        holder = _claimed.get((protocol, port))
        if holder is not None and holder[0] != str(integration.pk):
            raise IntegrationError(f"{protocol.upper()} port {port} is already used by integration '{holder[1]}'")
        _claimed[(protocol, port)] = (str(integration.pk), integration.name)


def release(protocol: str, port: int, integration) -> None:
    with _lock:
        if _claimed.get((protocol, port), ("",))[0] == str(integration.pk):
            del _claimed[(protocol, port)]


def describe_bind_error(protocol: str, host: str, port: int, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"Cannot listen on {protocol.upper()} port {port} ({host}): {reason}"


def probe(protocol: str, host: str, port: int, integration) -> None:
    """``check()``: the port is ours already, or it can be bound now; IntegrationError otherwise."""
    with _lock:
        holder = _claimed.get((protocol, port))
    if holder is not None:
        if holder[0] == str(integration.pk):
            return  # this integration listens there now, in this process
        raise IntegrationError(f"{protocol.upper()} port {port} is already used by integration '{holder[1]}'")
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as sock:
        if protocol == "tcp":  # as the listener does: a port in TIME_WAIT can be bound again
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise IntegrationError(describe_bind_error(protocol, host, port, exc)) from None


def remote_metadata(peer) -> dict[str, str]:
    """``remoteAddress``/``remotePort`` of a socket peer (an IPv4-mapped IPv6 address as IPv4)."""
    host, port = peer[0], peer[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return {"remoteAddress": host, "remotePort": str(port)}
