"""A throwaway PostgreSQL database with the project's migrations, for one benchmark run."""

import os
import uuid
from contextlib import contextmanager

import psycopg

__all__ = ["bench_database", "processed", "processed_in"]

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@contextmanager
def bench_database():
    """Create bench_<random>, point Django at it, migrate, yield its URL, drop it afterwards."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def processed_in(conn) -> int:
    """Uplinks the pipeline has finished in the connection's database, all integrations together:
    each batch adds its messages to ``integrations_integrationstats`` after its telemetry is committed."""
    return conn.execute("SELECT coalesce(sum(messages_processed), 0) FROM integrations_integrationstats").fetchone()[0]


def processed(dsn: str) -> int:
    """:func:`processed_in` on a connection of its own."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return processed_in(conn)
