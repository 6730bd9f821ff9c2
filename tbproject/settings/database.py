"""The database: PostgreSQL from DATABASE_URL (optionally pooled), else an SQLite file in DATA_DIR."""

import os
import tempfile
from pathlib import Path

import dj_database_url

from tbproject.env import env_int, env_str

from .base import DATA_DIR

DATABASE_URL = env_str("DATABASE_URL", "")
# Optional psycopg pool per process (Django's OPTIONS["pool"]). Off by default: long-lived threads
# (listener host, sender threads) hold their connection for good, and more of them than the pool
# holds would wait on it forever; the web process instead closes connections after each request
# (tbproject/asgi.py sets DB_CONN_MAX_AGE=0 for it).
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 0, minimum=0)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    if DB_POOL_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django refuses both
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DB_POOL_SIZE,
                                                                  "timeout": 30}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(DATA_DIR / "db.sqlite3")),
            # WAL + a busy timeout let the web thread and in-process workers share the file.
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"},
            # Tests use a file as well (one per test process): the in-memory shared-cache database
            # Django would use fails every concurrent access at once with "database table is
            # locked", which no deployment has, so threaded tests could not run on SQLite.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"tbproject-test-{os.getpid()}.sqlite3")},
        }
    }
