"""How the server reaches a tenant's repository, and what it refuses to reach.

Only remote repositories: ``https://``, ``http://``, ``ssh://`` (``git+ssh://``) and scp-style
``user@host:path``. A local path, ``file://`` or ``git://`` is refused (a tenant administrator would
read and push into any repository on the server, another tenant's cache among them), and so is a host
that resolves to a private, loopback, link-local, reserved or multicast address; HTTP checks the address
again at each connection (redirects and names that resolve differently by then). Both are allowed by
``VC_ALLOW_LOCAL_REPOSITORIES``, meant for tests. Network operations time out after
``VC_NETWORK_TIMEOUT`` seconds of silence; SSH never prompts (BatchMode) and offers only the tenant's key.
"""

import ipaddress
import shlex
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import urllib3
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

from tbproject.outbound import public_address

__all__ = ["RefusedURI", "BlockedAddress", "parse", "redact", "blocked", "check_host", "pool_manager",
           "ssh_command", "allow_local", "timeout", "max_fetch_bytes", "ACCEPTED"]

ACCEPTED = "https://, http://, ssh:// or user@host:path"
_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git+ssh": 22}
_HOST_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


class RefusedURI(ValueError):
    """A repository URI this server does not reach; the message is for the user."""


class BlockedAddress(OSError):
    """The repository host resolves to an address that is not allowed."""


def allow_local() -> bool:
    return bool(getattr(settings, "VC_ALLOW_LOCAL_REPOSITORIES", False))


def timeout() -> float:
    return float(getattr(settings, "VC_NETWORK_TIMEOUT", 20))


def max_fetch_bytes() -> int:
    return int(getattr(settings, "VC_MAX_FETCH_BYTES", 200 * 1024 * 1024))


def _refused() -> RefusedURI:
    return RefusedURI(f"Repository URI must be a remote repository: {ACCEPTED}")


def _host_ok(host: str | None) -> bool:
    if not host or host.startswith("-"):
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return set(host) <= _HOST_CHARS


def parse(uri: str) -> tuple[str, str | None, int | None]:
    """(kind: "http" | "ssh" | "local", host, port) of an accepted URI; RefusedURI otherwise."""
    uri = (uri or "").strip()
    if "://" in uri:
        scheme = uri.split("://", 1)[0].lower()
        if scheme == "file" and allow_local():
            return "local", None, None
        if scheme not in _DEFAULT_PORTS:
            raise _refused()
        try:
            parts = urlsplit(uri)
            host, port = parts.hostname, parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise _refused() from None
        if not _host_ok(host):
            raise _refused()
        return ("http" if scheme.startswith("http") else "ssh"), host, port
    head, colon, path = uri.partition(":")
    if colon and "/" not in head and "\\" not in head and len(head) > 1:  # scp-style; not C:\
        host = head.rsplit("@", 1)[-1]
        if _host_ok(host) and not head.startswith("-") and path and not path.startswith(":"):
            return "ssh", host, 22
        raise _refused()
    if allow_local() and uri:
        return "local", None, None
    raise _refused()


def redact(uri: str) -> str:
    """The URI without the password (or token) it may carry."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<invalid URI>"
    if "://" not in uri or "@" not in parts.netloc:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    user = user.split(":", 1)[0] + (":***" if ":" in user else "")
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def blocked(address: str) -> bool:
    """Not a public unicast address (the project's rule for tenant-typed hosts: tbproject/outbound.py)."""
    return not public_address(address)


def _resolve(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_host(host: str, port: int) -> str:
    """An address of ``host`` to connect to; BlockedAddress when any of its addresses is not allowed."""
    addresses = _resolve(host, port)
    if not addresses:
        raise OSError(f"{host} does not resolve")
    if not allow_local() and any(blocked(a) for a in addresses):
        raise BlockedAddress("address not allowed")
    return addresses[0]


class _CheckedConnection(HTTPConnection):
    def _new_conn(self):
        try:
            address = check_host(self._dns_host, self.port)
            return urllib3_connection.create_connection((address, self.port), self.timeout,
                                                        source_address=self.source_address,
                                                        socket_options=self.socket_options)
        except BlockedAddress:
            raise
        except OSError as e:
            raise NewConnectionError(self, "Failed to establish a new connection") from e


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


class _CheckedPool(HTTPConnectionPool):
    ConnectionCls = _CheckedConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedPoolManager(urllib3.PoolManager):
    """Every connection (redirects too) goes to an address checked at connection time; few retries."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool_classes_by_scheme = {"http": _CheckedPool, "https": _CheckedHTTPSPool}

    def urlopen(self, method, url, redirect=True, **kw):
        kw.setdefault("retries", urllib3.Retry(total=3, connect=0, read=0, redirect=3))
        return super().urlopen(method, url, redirect=redirect, **kw)


def pool_manager(uri: str):
    """The HTTP pool manager dulwich talks through (behind a proxy, the proxy connects)."""
    from dulwich.client import default_urllib3_manager

    wait = urllib3.Timeout(connect=timeout(), read=timeout())
    return default_urllib3_manager(None, pool_manager_cls=_CheckedPoolManager, base_url=uri, timeout=wait)


def ssh_command(known_hosts: Path) -> str:
    """ssh without prompts, agent or default keys, with a connect timeout and keep-alives."""
    seconds = max(1, int(timeout()))
    options = ["BatchMode=yes", f"ConnectTimeout={seconds}", "IdentitiesOnly=yes", "IdentityAgent=none",
               "PasswordAuthentication=no", "KbdInteractiveAuthentication=no", "StrictHostKeyChecking=accept-new",
               f"UserKnownHostsFile={known_hosts}", f"ServerAliveInterval={seconds}", "ServerAliveCountMax=3"]
    return shlex.join(["ssh", *[part for option in options for part in ("-o", option)]])
