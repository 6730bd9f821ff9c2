"""SSL contexts from ThingsBoard's credential objects, whose certificates are PEM text, not files.

The CA goes in from memory; ``ssl`` can only read a client certificate and key from files, so
those are written to a private temporary directory (mode 0700, files 0600), loaded and removed
at once: the key never stays on disk.
"""

import os
import shutil
import ssl
import tempfile

__all__ = ["client_ssl_context"]


def client_ssl_context(credentials, *, verify_hostname: bool = True) -> ssl.SSLContext:
    """A TLS client context: the server is verified against ``caCert`` (else the system's CAs);
    with ``cert.PEM`` credentials the client presents ``cert`` and ``privateKey``.

    Raises ``ValueError`` naming the field that holds unusable PEM text.
    """
    ca = (getattr(credentials, "caCert", "") or "").strip()
    try:
        context = ssl.create_default_context(cadata=ca or None)
    except ssl.SSLError as exc:
        raise ValueError(f"caCert is not a valid PEM certificate: {exc.reason or exc}") from None
    context.check_hostname = verify_hostname
    if getattr(credentials, "type", "") == "cert.PEM" and (credentials.cert or credentials.privateKey):
        _load_client_certificate(context, credentials.cert, credentials.privateKey,
                                 getattr(credentials, "privateKeyPassword", "") or None)
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: str, key: str, password: str | None) -> None:
    if not cert.strip() or not key.strip():
        raise ValueError("cert.PEM credentials need both cert and privateKey")
    directory = tempfile.mkdtemp(prefix="tb-mqtt-")  # created 0700
    try:
        cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        for path, text in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text.strip() + "\n")
        try:
            context.load_cert_chain(cert_path, key_path, password=password)
        except ssl.SSLError as exc:
            raise ValueError(f"cert/privateKey are not a usable PEM certificate and key: {exc.reason or exc}") from None
    finally:
        shutil.rmtree(directory, ignore_errors=True)
