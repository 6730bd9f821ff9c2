"""Helpers of tests that run the project's own commands as separate processes."""

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ROOT", "manage", "shell", "postgres_database"]

ROOT = Path(__file__).resolve().parents[2]


def manage(env, *args, timeout=120) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def shell(env, code: str) -> dict:
    out = manage(env, "shell", "-c", f"import json\n{code}\nprint('RESULT=' + json.dumps(result, default=str))")
    return json.loads(out.split("RESULT=", 1)[1])


@contextmanager
def postgres_database(settings_dict: dict, prefix: str) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database ``<prefix>_<random>`` on the server of ``settings_dict`` (a
    Django connection's): yields (its DATABASE_URL, its name) and drops it afterwards, with
    whatever sessions are still open in it."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server = {"host": settings_dict["HOST"] or "127.0.0.1", "port": settings_dict["PORT"] or 5432,
              "user": settings_dict["USER"], "password": settings_dict["PASSWORD"] or None, "dbname": "postgres",
              "autocommit": True}
    with psycopg.connect(**server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = f"{server['user']}:{server['password']}@" if server["password"] else f"{server['user']}@"
    try:
        yield f"postgres://{auth}{server['host']}:{server['port']}/{name}", name
    finally:
        with psycopg.connect(**server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
