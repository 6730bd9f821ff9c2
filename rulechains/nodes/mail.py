"""The e-mail nodes: "to email" builds a SEND_EMAIL message, "send email" sends it over SMTP.

Sending goes through Django's e-mail framework: the configured backend (EMAIL_* settings) with
``useSystemSmtpSettings``, else an SMTP ``EmailBackend`` built from the node's own settings (with
the TLS version pinned and, when ``enableProxy``, the connection tunnelled through an HTTP
CONNECT proxy, as JavaMail's ``mail.smtp.proxy.*`` do). One connection serves a whole batch.
"""

import base64
import binascii
import json
import logging
import mimetypes
import re
import smtplib
import socket
import ssl
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend
from django.utils.functional import cached_property

from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import (
    BaseNode,
    ConfigError,
    NodeError,
    Out,
    bool_option,
    fail,
    field,
    int_option,
    substitute,
    text_option,
)

__all__ = ["MsgToEmailNode", "SendEmailNode", "SEND_EMAIL", "TLS_VERSIONS"]

log = logging.getLogger(__name__)

SEND_EMAIL = "SEND_EMAIL"
TEMPLATES = ("fromTemplate", "toTemplate", "ccTemplate", "bccTemplate", "subjectTemplate", "bodyTemplate",
             "isHtmlTemplate")
BODY_TYPES = ("false", "true", "dynamic")
TLS_VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
                "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
#: ``timeout`` 0 (JavaMail: wait forever) waits this long instead: a worker must not hang on a server
DEFAULT_TIMEOUT_MS = 10_000
_ADDRESS_SPLIT = re.compile(r"\s*,\s*")
_DATA_URI = re.compile(r"^data:(image/[^;,]*)?;base64,?")


def _from_json(text: str) -> dict:
    """A JSON object from text, with ThingsBoard's JacksonUtil error text when it is not one."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise NodeError(f"The given string value cannot be transformed to Json object: {text[:200]}")
    return value


class MsgToEmailNode(BaseNode):
    """Makes a SEND_EMAIL message (metadata kept) whose data is ThingsBoard's TbEmail JSON:
    ``{"from", "to", "cc", "bcc", "subject", "body", "images", "html"}``, each text from its
    ``*Template`` with ``${metadataKey}`` and ``$[data.key]`` filled in (an empty template gives
    null). ``html`` is ``mailBodyType`` "true"/"false", or with "dynamic" the filled-in
    ``isHtmlTemplate`` ("true" in any case means HTML); configurations older than
    ``mailBodyType`` (``isHtmlTemplate`` alone) are read as "dynamic". ``images`` comes from the
    metadata key ``images`` (a JSON object of name -> base64 data URI); when that is not JSON the
    message goes by Failure."""

    label = "to email"
    group = "TRANSFORMATION"
    savepoint = False
    defaults = {"fromTemplate": "info@testmail.org", "toTemplate": "${userEmail}", "ccTemplate": None,
                "bccTemplate": None, "subjectTemplate": "Device ${deviceType} temperature high",
                "bodyTemplate": "Device ${deviceName} has high temperature $[temperature]", "isHtmlTemplate": None,
                "mailBodyType": "false"}
    fields = (field("fromTemplate", "text", "From"), field("toTemplate", "text", "To", help="comma separated"),
              field("ccTemplate", "text", "Cc"), field("bccTemplate", "text", "Bcc"),
              field("subjectTemplate", "text", "Subject"), field("bodyTemplate", "text", "Body"),
              field("mailBodyType", "select", "Mail body type", choices=BODY_TYPES),
              field("isHtmlTemplate", "text", "Dynamic mail body type", help="with mailBodyType dynamic"))

    @classmethod
    def clean_config(cls, configuration):
        cleaned = {}
        for name in TEMPLATES:
            value = configuration.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)  # Jackson reads a number into a String field
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{name} must be a text template")
            cleaned[name] = value or None
        body_type = configuration.get("mailBodyType")
        if isinstance(body_type, bool):
            body_type = str(body_type).lower()
        if body_type is not None and not isinstance(body_type, str):
            raise ConfigError(f"mailBodyType must be one of {', '.join(BODY_TYPES)}")
        if body_type is None and cleaned["isHtmlTemplate"]:
            body_type = "dynamic"  # an export from before mailBodyType
        cleaned["mailBodyType"] = body_type
        return cleaned

    def process(self, ctx, msg):
        config = self.config

        def text(name):
            template = config[name]
            return substitute(template, msg) if template else None

        if config["mailBodyType"] == "dynamic":
            html = text("isHtmlTemplate")
        else:
            html = config["mailBodyType"]
        images = msg.metadata.get("images")
        email = {"from": text("fromTemplate"), "to": text("toTemplate"), "cc": text("ccTemplate"),
                 "bcc": text("bccTemplate"), "subject": text("subjectTemplate"), "body": text("bodyTemplate"),
                 "images": _from_json(images) if images else None,
                 "html": str(html or "").strip().lower() == "true"}
        return [Out(SUCCESS, changed(msg, data=email, msg_type=SEND_EMAIL))]


class SendEmailNode(BaseNode):
    """Sends SEND_EMAIL messages (made by the "to email" node) and passes each on by Success once
    the SMTP server took it; a message of another type, data that is not the e-mail JSON, a blank
    ``to`` or an error of the server (refused connection, wrong credentials, refused recipients)
    sends it by Failure with the reason. ``to``, ``cc``, ``bcc`` are comma separated; ``html``
    sends the body as text/html; ``images`` are attached inline, each with its name as Content-ID.

    ``useSystemSmtpSettings``: Django's configured e-mail backend (the EMAIL_* settings). Otherwise
    ``smtpHost``, ``smtpPort``, ``smtpProtocol`` (smtp, or smtps: SSL from the start),
    ``username``/``password`` (logs in when a username is set), ``timeout`` (ms; 0: 10 s),
    ``enableTls`` (STARTTLS) with ``tlsVersion``, and ``enableProxy`` with ``proxyHost``,
    ``proxyPort``, ``proxyUser``, ``proxyPassword`` (an HTTP CONNECT proxy). The passwords are
    write-only in the API and never logged."""

    label = "send email"
    group = "EXTERNAL"
    side_effects = True
    savepoint = False
    defaults = {"useSystemSmtpSettings": True, "smtpHost": "localhost", "smtpPort": 25, "username": None,
                "password": None, "smtpProtocol": "smtp", "timeout": 10000, "enableTls": False, "tlsVersion": "TLSv1.2",
                "enableProxy": False, "proxyHost": None, "proxyPort": None, "proxyUser": None, "proxyPassword": None}
    fields = (field("useSystemSmtpSettings", "bool", "Use system SMTP settings"),
              field("smtpProtocol", "select", "Protocol", choices=("smtp", "smtps")),
              field("smtpHost", "text", "SMTP host"), field("smtpPort", "number", "SMTP port"),
              field("timeout", "number", "Timeout (ms)"), field("enableTls", "bool", "Enable TLS"),
              field("tlsVersion", "select", "TLS version", choices=tuple(TLS_VERSIONS)),
              field("username", "text", "Username"), field("password", "secret", "Password"),
              field("enableProxy", "bool", "Enable proxy"), field("proxyHost", "text", "Proxy host"),
              field("proxyPort", "text", "Proxy port"), field("proxyUser", "text", "Proxy user"),
              field("proxyPassword", "secret", "Proxy password"))
    secret_fields = ("password", "proxyPassword")
    secret_slots = ("username", "proxyUser")

    @classmethod
    def clean_config(cls, configuration):
        system = bool_option(configuration, "useSystemSmtpSettings", True)
        if system:
            return {"system": True}
        host = configuration.get("smtpHost")
        if not isinstance(host, str) or not host.strip():
            raise ConfigError("smtpHost must be the SMTP server's host name")
        protocol = configuration.get("smtpProtocol") or "smtp"
        if protocol not in ("smtp", "smtps"):
            raise ConfigError(f"smtpProtocol must be smtp or smtps, got {str(protocol)[:20]!r}")
        tls_version = configuration.get("tlsVersion") or None
        if tls_version is not None and tls_version not in TLS_VERSIONS:
            raise ConfigError(f"tlsVersion must be one of {', '.join(TLS_VERSIONS)}")
        port = int_option(configuration, "smtpPort", 25, low=1, high=65535)
        cleaned = {"system": False, "host": host.strip(), "port": port,
                   "ssl": protocol == "smtps", "tls": bool_option(configuration, "enableTls", False),
                   "tlsVersion": tls_version, "timeout": _timeout(configuration),
                   "username": _text(configuration, "username"), "password": _text(configuration, "password"),
                   "proxy": None}
        if cleaned["ssl"] and cleaned["tls"]:
            cleaned["tls"] = False  # smtps is TLS already; STARTTLS applies to smtp only
        if bool_option(configuration, "enableProxy", False):
            proxy_host = configuration.get("proxyHost")
            if not isinstance(proxy_host, str) or not proxy_host.strip():
                raise ConfigError("proxyHost is required when enableProxy is on")
            proxy_port = int_option(configuration, "proxyPort", None, low=1, high=65535, required=True)
            cleaned["proxy"] = (proxy_host.strip(), proxy_port,
                                _text(configuration, "proxyUser"), _text(configuration, "proxyPassword"))
        return cleaned

    def process_batch(self, ctx, msgs):
        outs: list = [None] * len(msgs)
        ready = []
        for i, msg in enumerate(msgs):
            try:
                ready.append((i, self.email(msg)))
            except NodeError as e:
                outs[i] = fail(msg, e)
        if ready:
            self.send(msgs, ready, outs)
        return outs

    def send(self, msgs, ready: list, outs: list) -> None:
        """Send ``ready`` ((index, EmailMessage)) over one connection, filling ``outs``."""
        backend = self.backend()
        try:
            backend.open()
        except Exception as e:
            error = self.describe(e)
            log.warning("send email node %s: %s", self.id, error)
            for i, _ in ready:
                outs[i] = fail(msgs[i], error)
            return
        try:
            for i, email in ready:
                try:
                    backend.send_messages([email])
                    outs[i] = [Out(SUCCESS, msgs[i])]
                except Exception as e:
                    outs[i] = fail(msgs[i], self.describe(e))
        finally:
            try:
                backend.close()
            except Exception:  # the server hung up after the last message: nothing left to lose
                pass

    def backend(self):
        config = self.config
        if config["system"]:
            return get_connection(fail_silently=False)
        return NodeEmailBackend(host=config["host"], port=config["port"], username=config["username"] or "",
                                password=config["password"] or "", use_tls=config["tls"], use_ssl=config["ssl"],
                                timeout=config["timeout"], tls_version=config["tlsVersion"], proxy=config["proxy"])

    def email(self, msg) -> EmailMessage:
        """The e-mail of a SEND_EMAIL message; NodeError with ThingsBoard's text if it is not one."""
        if msg.msg_type != SEND_EMAIL:
            raise NodeError(f"Not expected msg type {msg.msg_type} for SendEmail Node")
        data = msg.data if isinstance(msg.data, dict) else _from_json(msg.data if isinstance(msg.data, str)
                                                                       else json.dumps(msg.data))
        to = data.get("to")
        if not isinstance(to, str) or not to.strip():
            raise NodeError(f"Email destination can not be blank [{to if to is not None else 'null'}]")
        email = EmailMessage(subject=str(data.get("subject") or ""), body=str(data.get("body") or ""),
                             from_email=str(data.get("from") or "").strip() or settings.DEFAULT_FROM_EMAIL,
                             to=_addresses(to), cc=_addresses(data.get("cc")), bcc=_addresses(data.get("bcc")))
        if data.get("html") is True or str(data.get("html")).lower() == "true":
            email.content_subtype = "html"
        images = data.get("images") or {}
        if not isinstance(images, dict):
            raise NodeError("images must be an object of name -> base64 image")
        for name, value in images.items():
            email.attach(_inline_image(str(name), str(value)))
        if images:
            email.mixed_subtype = "related"
        return email

    def describe(self, error: Exception) -> str:
        """The error as a message's Failure text: what failed and where, never the password."""
        config = self.config
        where = "the system SMTP server" if config["system"] else f"{config['host']}:{config['port']}"
        if isinstance(error, smtplib.SMTPAuthenticationError):
            text = (f"SMTP authentication failed at {where} for user '{config.get('username') or ''}': "
                    f"{error.smtp_code} {_decoded(error.smtp_error)}")
        elif isinstance(error, smtplib.SMTPRecipientsRefused):
            refused = ", ".join(f"{rcpt} ({code} {_decoded(reason)})" for rcpt, (code, reason) in
                                error.recipients.items())
            text = f"The SMTP server {where} refused the recipients: {refused}"
        elif isinstance(error, smtplib.SMTPResponseException):
            text = f"The SMTP server {where} answered {error.smtp_code} {_decoded(error.smtp_error)}"
        elif isinstance(error, (OSError, smtplib.SMTPException)):
            text = f"Could not send through the SMTP server {where}: {type(error).__name__}: {error}"
        else:
            text = f"{type(error).__name__}: {error}"
        for secret in (config.get("password"), (config.get("proxy") or (None,) * 4)[3]):
            if secret:
                text = text.replace(secret, "******")
        return text[:1024]


class NodeEmailBackend(EmailBackend):
    """Django's SMTP backend with ThingsBoard's extra settings: a pinned TLS version, an HTTP proxy."""

    def __init__(self, *, tls_version=None, proxy=None, **kwargs):
        super().__init__(**kwargs)
        self.tls_version, self.proxy = tls_version, proxy

    @cached_property
    def ssl_context(self):
        context = ssl.create_default_context()
        if self.tls_version:
            context.minimum_version = context.maximum_version = TLS_VERSIONS[self.tls_version]
        return context

    @property
    def connection_class(self):
        base = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        if not self.proxy:
            return base
        proxy = self.proxy

        class Proxied(base):
            def _get_socket(self, host, port, timeout):
                sock = _tunnel(proxy, host, port, timeout)
                if isinstance(self, smtplib.SMTP_SSL):
                    sock = self.context.wrap_socket(sock, server_hostname=self._host)
                return sock

        return Proxied


def _tunnel(proxy: tuple, host: str, port: int, timeout) -> socket.socket:
    """A socket to host:port through an HTTP CONNECT proxy (JavaMail's mail.smtp.proxy.*)."""
    proxy_host, proxy_port, user, password = proxy
    sock = socket.create_connection((proxy_host, proxy_port), timeout)
    request = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    if user:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        request += f"Proxy-Authorization: Basic {token}\r\n"
    sock.sendall((request + "\r\n").encode())
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):  # byte by byte: the server's greeting may follow at once
        chunk = sock.recv(1)
        if not chunk or len(answer) > 16_384:
            sock.close()
            raise OSError(f"the proxy {proxy_host}:{proxy_port} closed the connection")
        answer += chunk
    status = answer.split(b"\r\n", 1)[0].decode("latin-1")
    if len(status.split()) < 2 or status.split()[1] != "200":
        sock.close()
        raise OSError(f"the proxy {proxy_host}:{proxy_port} refused the tunnel: {status}")
    return sock


def _inline_image(name: str, value: str) -> MIMEImage:
    match = _DATA_URI.match(value)
    content_type = (match.group(1) if match and match.group(1) else None) or mimetypes.guess_type(name)[0]
    try:
        raw = base64.b64decode(value[match.end():] if match else value, validate=True)
    except (binascii.Error, ValueError):
        raise NodeError(f"images.{name} is not base64 image data") from None
    subtype = content_type.split("/", 1)[1] if content_type and content_type.startswith("image/") else "png"
    image = MIMEImage(raw, _subtype=subtype)
    image.add_header("Content-ID", f"<{name}>")
    image.add_header("Content-Disposition", "inline", filename=name)
    return image


def _addresses(value) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    return [a for a in _ADDRESS_SPLIT.split(value.strip()) if a]


def _decoded(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _text(configuration: dict, name: str) -> str | None:
    return text_option(configuration, name) or None


def _timeout(configuration: dict) -> float:
    return (int_option(configuration, "timeout", DEFAULT_TIMEOUT_MS, low=0) or DEFAULT_TIMEOUT_MS) / 1000
