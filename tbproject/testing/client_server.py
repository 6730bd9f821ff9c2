"""One migrated database per test run for the suites that start a real server (tests/test_tb_client.py).

Each module of ThingsBoard-client tests starts its own server on a database of its own, so that no
module sees another's entities. Migrating a fresh database costs 10-25 s here, once per module; so
the database is migrated once per run (with the client's users) and each module's server gets a
copy: a SQLite file copied through SQLite's backup API, or a PostgreSQL database created with the
migrated one as its ``TEMPLATE``.
"""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "tenant@client.test", "client-pass-1"
SYSADMIN, SYSADMIN_PASSWORD = "sysadmin@client.test", "sysadmin-pass-1"

_SETUP = f"""
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from tenants.models import Tenant, User
tenant = Tenant.objects.create(title="Client Test")
User.objects.create_user({EMAIL!r}, {PASSWORD!r}, authority="TENANT_ADMIN", tenant=tenant)
User.objects.create_user({SYSADMIN!r}, {SYSADMIN_PASSWORD!r}, authority="SYS_ADMIN")
from django.db import connections
connections.close_all()
"""


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


class PostgresDatabase:
    """A throwaway database on the server ``url`` names, empty or a copy of ``template``."""

    def __init__(self, url: str, *, template: str | None = None, prefix: str = "tbclient"):
        import psycopg

        self.psycopg = psycopg
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(url)
        # CREATE/DROP DATABASE run from the maintenance database, as Django's test runner does.
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self._execute(f'CREATE DATABASE "{self.name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def _execute(self, sql: str) -> None:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def drop(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file, whatever its write-ahead log holds."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture(scope="session")
def client_server_database(tmp_path_factory):
    """("postgres", template database name) or ("sqlite", path): migrated once, with the client's users."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "LOAD_DEMO_DATA": "false",
           "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "false",
           "DATA_DIR": str(tmp_path_factory.mktemp("tbclient-template-data"))}
    template = None
    if is_postgres(env.get("DATABASE_URL", "")):
        template = PostgresDatabase(env["DATABASE_URL"], prefix="tbclient_template")
        env["DATABASE_URL"] = template.url
        prepared = ("postgres", template.name)
    else:
        env.pop("DATABASE_URL", None)
        path = tmp_path_factory.mktemp("tbclient-template") / "db.sqlite3"
        env["SQLITE_PATH"] = str(path)
        prepared = ("sqlite", path)
    try:
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c", _SETUP], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
        if done.returncode:
            raise RuntimeError(f"preparing the servers' database failed:\n{done.stderr[-3000:]}")
        yield prepared
    finally:
        if template is not None:
            template.drop()
