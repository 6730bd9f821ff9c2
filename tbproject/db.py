"""Database helpers shared by the apps.

    read_again(query, what)     # a read that survives a connection the server broke
    copy_rows(model, objs)      # bulk_create without RETURNING; on PostgreSQL one COPY

``read_again`` serves long-lived threads outside Django's request cycle (the HTTP ingress, the
lean attribute saves): the database server may have restarted, failed over or terminated them
(pg_terminate_backend).
"""

import functools
import logging
import time

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, close_old_connections, connection, connections

__all__ = ["read_again", "copy_rows"]

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


def copy_rows(model, objs: list) -> None:
    """Insert unsaved ``objs`` of ``model``, their primary keys already set, as bulk_create would
    (fields' pre_save and database preparation), without reading anything back. On PostgreSQL
    it is one COPY: Django's INSERT with one parameter per field and row cost more to build
    (psycopg splits and quotes every parameter into the query text) than the database took to store
    the rows (a third of a worker's time in a batch of 500 downlinks)."""
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy looks it up per attribute
    if db.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    fields = model._meta.concrete_fields
    prepare = [_prepared(field, db) for field in fields]
    quote = db.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    started = time.monotonic()
    with db.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([prep(field.pre_save(obj, True)) for field, prep in zip(fields, prepare, strict=True)])
    if db.queries_logged:  # as Django's debug cursor logs its statements (tests count them)
        db.queries_log.append({"sql": f"{sql} -- {len(objs)} rows", "time": f"{time.monotonic() - started:.3f}"})


#: Fields whose Python value psycopg takes as it is (COPY's text format: PostgreSQL parses it by
#: the column's type); every other field goes through Django's get_db_prep_save.
_AS_IS = ("CharField", "TextField", "UUIDField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
          "SmallIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField", "BooleanField")


def _prepared(field, db):
    target = field.target_field if field.is_relation else field
    return _same if target.get_internal_type() in _AS_IS else functools.partial(_db_value, field, db)


def _same(value):
    return value


def _db_value(field, db, value):
    return field.get_db_prep_save(value, db)
