"""Outgoing mail through the stored ``mail`` settings (ThingsBoard's mail server settings), or through the
``EMAIL_*`` settings (Django's EMAIL_BACKEND) while nothing is stored.

``POST /api/admin/settings/testMail`` sends a real message with the posted settings to the system
administrator asking; an SMTP server that refuses answers a 400 carrying the server's own words.
"""

import logging
import smtplib

from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend

from tenants.system import admin_settings, store
from tenants.system.store import SettingsError

__all__ = ["configured", "send", "send_test", "backend", "MailError", "TEST_SUBJECT"]

TEST_SUBJECT = "Test message from ThingsBoard"
TEST_BODY = "This is a test message: mail from this server reaches you with these settings."

log = logging.getLogger(__name__)


class MailError(Exception):
    """A mail that could not be sent: the SMTP server's reason, or why it could not be reached."""


def configured() -> bool:
    """Whether mail really goes out: a stored mail server, or EMAIL_HOST."""
    return store.read("mail") is not None or bool(settings.EMAIL_HOST)


def backend(doc: dict) -> EmailBackend:
    """A Django SMTP connection configured from a mail settings document."""
    port = store.integer(doc, "smtpPort", default=25, minimum=1, maximum=65535, numeric_text=True)
    timeout_ms = store.integer(doc, "timeout", default=10000, minimum=0, maximum=3_600_000, numeric_text=True)
    ssl = doc.get("smtpProtocol") == "smtps"
    tls = not ssl and doc.get("enableTls") in (True, "true")
    return EmailBackend(host=doc.get("smtpHost") or "localhost", port=port, username=doc.get("username") or "",
                        password=doc.get("password") or "", use_tls=tls, use_ssl=ssl,
                        timeout=max(timeout_ms / 1000, 1) if timeout_ms else None, fail_silently=False)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {text}"[:500]
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{to}: {code} {msg.decode('utf-8', 'replace')}"
                         for to, (code, msg) in error.recipients.items())[:500]
    return f"{type(error).__name__}: {error}"[:500]


def _deliver(doc: dict | None, to: str, subject: str, body: str) -> None:
    try:
        if doc is None:
            mail.send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
            return
        message = mail.EmailMessage(subject, body, doc.get("mailFrom") or settings.DEFAULT_FROM_EMAIL, [to],
                                    connection=backend(doc))
        message.send()
    except SettingsError as e:
        raise MailError(f"The stored mail settings are not usable: {e}") from None
    except Exception as e:  # SMTP refused, unreachable, timed out, TLS failed
        raise MailError(_describe(e)) from None


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text mail, through the stored mail server when there is one; MailError if it fails."""
    _deliver(store.read("mail"), to, subject, body)


def send_test(value, to: str) -> None:
    """``POST /api/admin/settings/testMail``: the posted mail settings (its password the stored one when left
    out) used at once, not saved; SettingsError for settings refused before any connection, MailError after."""
    if isinstance(value, dict) and isinstance(value.get("jsonValue"), dict):
        value = value["jsonValue"]
    value = store.checked_document(value)
    current = store.read("mail") or admin_settings.defaults("mail")
    doc = admin_settings.mail_document(value, keep_from=current)
    if doc.get("enableProxy") in (True, "true"):
        raise SettingsError("Mail through a proxy (enableProxy) is not supported by this server")
    try:
        _deliver(doc, to, TEST_SUBJECT, TEST_BODY)
    except MailError as e:
        log.warning("test mail to %s failed: %s", to, e)
        raise MailError(f"Unable to send mail: {e}") from None
