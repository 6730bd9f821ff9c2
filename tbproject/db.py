"""Reads that survive a connection the database server broke (restarted, failed over,
pg_terminate_backend), for long-lived threads outside Django's request cycle (the HTTP ingress,
the lean attribute saves)."""

import logging

from django.db import InterfaceError, OperationalError, close_old_connections, connection

__all__ = ["read_again"]

log = logging.getLogger(__name__)


def read_again(query, what: str, *, recycle: bool = True):
    """``query()`` on this thread's connection; once more on a new connection when it fails with a
    connection error: one such error is the connection's, a second one the database's, and is
    raised. ``recycle``: first let Django close a connection past its age or broken (a thread that
    keeps its connection between batches passes False). ``what`` names the caller in the log."""
    if connection.in_atomic_block:  # a test's transaction: a new connection would not see it
        return query()
    if recycle:
        close_old_connections()
    try:
        return query()
    except (OperationalError, InterfaceError) as exc:
        log.warning("%s: database connection lost (%s); trying a new one", what, str(exc).strip()[:200])
        connection.close()
        return query()
