"""Test helper: a real local SMTP server (aiosmtpd) that keeps what it receives, with Django's mail settings
pointed at it for the test."""

import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller

__all__ = ["Inbox", "local_smtp"]


class Inbox:
    """What the server received: (recipients, text) per message; ``refuse`` makes it refuse every recipient."""

    def __init__(self):
        self.messages: list = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        return [text for rcpt, text in self.messages if address in rcpt]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_smtp(settings, inbox: Inbox | None = None):
    """A server on a free local port for the ``with`` block, Django's SMTP backend sending to it."""
    inbox = inbox if inbox is not None else Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEFAULT_FROM_EMAIL = "iot@example.com"
    try:
        yield inbox
    finally:
        controller.stop()
