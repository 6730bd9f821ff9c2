"""The project's settings (DJANGO_SETTINGS_MODULE=tbproject.settings), one module per concern. Every value
comes from the environment (see README, "Settings").

Embedded mode (no DATABASE_URL / REDIS_URL): SQLite, in-memory channel layer, Celery eager.
Production mode: PostgreSQL (TimescaleDB where installed), Redis for Celery and Channels.

Django reads the UPPERCASE names of this package, so each module below is star-imported; a module defines
each of its settings once, never one another module defines (tbproject/tests/test_settings_package.py).
A new setting goes in the module of its concern, with its README row (tbproject/tests/test_readme.py).
"""

# The order below is the load order (UNFOLD's navigation last, as before the split): not sorted.
# isort: skip_file
from .base import *  # noqa: F403  core: debug, keys, hosts, DATA_DIR, apps, middleware, templates
from .database import *  # noqa: F403  DATABASES
from .redis_celery import *  # noqa: F403  Redis, Celery, Channels, cache
from .web import *  # noqa: F403  i18n, static files, REST API, request body limits
from .security import *  # noqa: F403  JWT, secrets key, one-time links, login and sign-up limits
from .mail import *  # noqa: F403  outgoing mail
from .telemetry import *  # noqa: F403  telemetry storage
from .converters import *  # noqa: F403  converter engine, debug events, converters library
from .transfer import *  # noqa: F403  version control repositories
from .integrations import *  # noqa: F403  integrations, uplink pipeline, downlinks
from .rule_engine import *  # noqa: F403  rule engine, waiting requests
from .thingsboard_ui import *  # noqa: F403  what ThingsBoard's UI and clients are told
from .reports import *  # noqa: F403  reporting (headless Chromium)
from .operations import *  # noqa: F403  /readyz, /metrics, demo data, logging
from .admin_ui import *  # noqa: F403  UNFOLD (last: the navigation's lazy links)
