"""MQTT over TLS (ThingsBoard's MQTT_SSL_*): the listener's SSL context, which asks devices for certificates.

    context = server_context(cert_path, key_path, password)   # ssl.SSLContext for asyncio.start_server(ssl=...)

One-way TLS: the server's certificate only; devices authenticate at CONNECT as over plain MQTT. Two-way TLS
as ThingsBoard's: the server asks for a client certificate without requiring one ("want client auth") and
trusts any, self-signed ones included; the certificate authenticates the device at CONNECT by its hash among
the X509_CERTIFICATE credentials (auth.peer_certificate, auth.authenticate), and an unknown one is answered
CONNACK 5 (not authorized), not refused in the handshake. A certificate outside its validity dates passes the
handshake too and is answered CONNACK 5 at CONNECT (auth.authenticate), as ThingsBoard's checkValidity there.

Python's ssl has no verify callback, and CERT_OPTIONAL refuses (in the handshake) a certificate that does not
chain to a trusted one. Loading every device certificate into the context as a trust anchor (with
VERIFY_X509_PARTIAL_CHAIN) was the alternative: it knows only the certificates stored when it was last loaded
(another process's new device would wait for a reload) and refuses an unknown certificate with a TLS alert
where ThingsBoard answers CONNACK 5. So the context gets OpenSSL's verify callback through ctypes:
SSL_CTX_set_verify on the SSL_CTX the SSLContext wraps (the pointer right after the object header of
CPython's PySSLContext), from the libssl _ssl itself is linked with. CPython keeps a context's callback when
its verify_mode is set and gives it to every connection made from the context. :func:`server_context` checks
the pointer before installing the callback: only on the CPython versions whose PySSLContext layout is known
(:data:`_VERSIONS`), only a pointer whose memory the kernel can read (:func:`_readable`: a write of it into a
pipe answers EFAULT, never a crash), and the verify mode OpenSSL reports there must follow verify_mode; where
any fails, the listener runs one-way TLS and says so in a warning. The callback object stays alive with each
context it was given to (``context._tb_verify_cb``) and is never rebound, not even by a module reload.
"""

import ctypes
import errno
import logging
import os
import ssl
import sys
import sysconfig

__all__ = ["server_context", "wants_client_certificates", "TlsConfigError"]

log = logging.getLogger(__name__)

_VERIFY_PEER = 1  # OpenSSL's SSL_VERIFY_PEER, without SSL_VERIFY_FAIL_IF_NO_PEER_CERT: asked, not required
_VERSIONS = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14))  # PySSLContext: the SSL_CTX* right after the header
_CTX_OFFSET = object.__basicsize__
_PROBE = 1024  # bytes of the SSL_CTX that must be readable (its verify_mode lies well inside)


class TlsConfigError(ValueError):
    """The certificate, key or password of the TLS listener cannot be used (the text says which, never the
    password)."""


def _libssl():
    import _ssl  # the extension module: dlsym through its handle finds the libssl it is linked with

    library = ctypes.CDLL(_ssl.__file__)
    library.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]  # the callback's address
    library.SSL_CTX_set_verify.restype = None
    library.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
    library.SSL_CTX_get_verify_mode.restype = ctypes.c_int
    return library


def _accept_any(preverify_ok: int, store_ctx: int) -> int:
    """OpenSSL's verify callback: any certificate (no CA: its hash decides, its dates are checked at CONNECT)."""
    return 1


_LIBSSL = None
# OpenSSL keeps the callback's address: made once per process, never rebound (a reload keeps the module's dict)
_CALLBACK = globals().get("_CALLBACK") or ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)(_accept_any)


def _readable(address: int, size: int = _PROBE) -> bool:
    """Whether ``size`` bytes at ``address`` can be read: the kernel copies them into a pipe, or answers EFAULT
    (an unmapped address), where reading them here would crash the process."""
    if not address or address % ctypes.sizeof(ctypes.c_void_p):
        return False
    read_end, write_end = os.pipe()
    try:
        return os.write(write_end, (ctypes.c_char * size).from_address(address)) == size
    except OSError as e:
        if e.errno == errno.EFAULT:
            return False
        raise
    finally:
        os.close(read_end)
        os.close(write_end)


def _ssl_ctx(context: ssl.SSLContext, offset: int = _CTX_OFFSET) -> int | None:
    """The SSL_CTX* ``context`` wraps, or None where it cannot be found with confidence."""
    if (sys.implementation.name != "cpython" or sysconfig.get_config_var("Py_GIL_DISABLED")
            or tuple(sys.version_info[:2]) not in _VERSIONS):
        return None
    pointer = ctypes.c_void_p.from_address(id(context) + offset).value  # inside the object: always readable
    if not _readable(pointer):
        return None
    seen = []
    for mode in (ssl.CERT_OPTIONAL, ssl.CERT_NONE):
        context.verify_mode = mode
        seen.append(_LIBSSL.SSL_CTX_get_verify_mode(pointer))
    return pointer if seen == [_VERIFY_PEER, 0] else None


def _want_any_client_certificate(context: ssl.SSLContext) -> bool:
    """Ask for a client certificate and accept any (see the module docstring); False where it cannot."""
    global _LIBSSL
    try:
        if _LIBSSL is None:
            _LIBSSL = _libssl()
        pointer = _ssl_ctx(context)
    except (OSError, AttributeError):
        pointer = None
    if pointer is None:
        context.verify_mode = ssl.CERT_NONE
        return False
    context.verify_mode = ssl.CERT_OPTIONAL
    context._tb_verify_cb = _CALLBACK  # alive as long as the context, whatever becomes of this module
    _LIBSSL.SSL_CTX_set_verify(pointer, _VERIFY_PEER, ctypes.cast(_CALLBACK, ctypes.c_void_p))
    return True


def server_context(cert: str, key: str | None = None, password: str | None = None) -> ssl.SSLContext:
    """The listener's context: ``cert`` a PEM file with the server's certificate (and its chain), ``key`` a PEM
    file with its private key (None: in ``cert``), ``password`` the key's (None: unencrypted)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key or None, password=password or None)
    except FileNotFoundError:
        missing = [path for path in (cert, key) if path and not os.path.exists(path)] or [cert]
        raise TlsConfigError(f"the TLS certificate or key file {missing[0]!r} does not exist") from None
    except ValueError:  # CPython's: a password over 1024 bytes (never in the text)
        raise TlsConfigError(f"cannot load the TLS key {key or cert!r}: its password is longer than OpenSSL "
                             f"accepts (1024 bytes)") from None
    except (ssl.SSLError, OSError) as e:  # the password is never in the text
        raise TlsConfigError(f"cannot load the TLS certificate {cert!r} and key {key or cert!r} "
                             f"(not PEM, not a pair, or a wrong key password): {getattr(e, 'reason', None) or e}"
                             ) from None
    if not _want_any_client_certificate(context):
        log.warning("device MQTT over TLS: client certificates cannot be asked for on this Python (%s): one-way "
                    "TLS only, X.509 device credentials cannot connect", sys.version.split()[0])
    return context


def wants_client_certificates(context: ssl.SSLContext) -> bool:
    return context.verify_mode != ssl.CERT_NONE
