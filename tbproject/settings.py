"""The only settings module. Every value comes from the environment (see README, "Settings").

Embedded mode (no DATABASE_URL / REDIS_URL): SQLite, in-memory channel layer, Celery eager.
Production mode: PostgreSQL (TimescaleDB where installed), Redis for Celery and Channels.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url

from tbproject.env import env_bool, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- core -----------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
# The embedded default key is fine for a laptop demo; production must set SECRET_KEY.
SECRET_KEY = env_secret("SECRET_KEY", "embedded-insecure-key-set-SECRET_KEY-in-production-" + "0123456789abcdef" * 2)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "daphne",
    "unfold",  # admin theme; before django.contrib.admin so its templates win (UNFOLD below)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "channels",
    "tenants",
    "devices",
    "dashboards",
    "roles",
    "branding", "oauth", "signup", "vault",  # white labeling; OAuth 2.0 and domains; sign-up; secrets
    "ai",  # AI models (LLM providers), the test chat and chats; the AI request rule node uses them
    "converters",
    "integrations",
    "rulechains",
    "scheduler",
    "reports",  # ThingsBoard PE reporting: report templates, reports, blob entities (headless Chromium)
    "notifications",
    "calculated",
    "audit",
    "transfer",
    "tbproject",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tbproject.static_files.StaticFilesMiddleware",  # WhiteNoise, app files listed once per process
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "branding.ui.AdminCspMiddleware",  # admin pages load images, fonts, styles only from this server
    "audit.context.AuditMiddleware",  # who is acting, for the audit log of configuration changes
    "notifications.context.ActorMiddleware",  # who is acting, for ENTITY_ACTION notifications
]

ROOT_URLCONF = "tbproject.urls"
WSGI_APPLICATION = "tbproject.wsgi.application"
ASGI_APPLICATION = "tbproject.asgi.application"
AUTH_USER_MODEL = "tenants.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
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

# --- redis, celery, channels ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Embedded mode runs tasks in-process; production sets REDIS_URL and runs `celery worker`.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
# Celery closes Django's database connections after every task unless this is set: a new
# PostgreSQL connection per uplink batch was a tenth of a worker's time (py-spy). Connections
# are still recycled after this many tasks, and by CONN_MAX_AGE.
CELERY_DB_REUSE_MAX = 1000
# A worker holds this many unacknowledged task messages per process: the uplink task runs all
# that wait as one batch (integrations/coalesce.py), which needs more than Celery's default 4.
CELERY_WORKER_PREFETCH_MULTIPLIER = 128
# Redis hands a task message out again when the worker it was delivered to has not acknowledged
# it within this many seconds: that is how the batches a killed worker (SIGKILL, OOM) held come
# back. Kombu's default is an hour, during which they would look lost; a batch takes seconds.
# Retries are never scheduled further ahead than half of it (tbproject/backoff.py), else a live
# worker's retry would run twice. Kombu looks for such messages every tenth of it (at most 10 s).
BROKER_VISIBILITY_TIMEOUT = env_int("BROKER_VISIBILITY_TIMEOUT", 300, minimum=4)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
                                   "unacked_restore_interval": max(1, min(10, BROKER_VISIBILITY_TIMEOUT // 10)),
                                   "unacked_restore_throttle": 1,
                                   # one Redis list per queue (no priorities): tbproject/broker.py
                                   # receives atomically from a single list
                                   "priority_steps": [0]}
# The worker takes a task message off the queue into a list of its own and records it as
# unacknowledged in one transaction (kombu's BRPOP then a second command lost the message when
# the worker or Redis died between the two): tbproject/broker.py, docs/reliability.md.
CELERY_BROKER_TRANSPORT = "tbproject.broker:Transport" if REDIS_URL else None
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- i18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic in embedded mode

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tbproject.api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # the tenant profile's tenantServerRestLimitsConfiguration / customerServerRestLimitsConfiguration
    "DEFAULT_THROTTLE_CLASSES": ["tbproject.api.throttles.TenantProfileThrottle"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "tbproject.api.parsers.PlainTextJSONParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tbproject.api.exceptions.tb_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Open Integration Center API",
    "DESCRIPTION": "ThingsBoard-compatible REST API for entities, telemetry and integrations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"X-Authorization": {"type": "apiKey", "in": "header", "name": "X-Authorization"}}
    },
    "SECURITY": [{"X-Authorization": []}],
}

# JWT, as ThingsBoard: access token 2.5 h, refresh token 7 days (both in seconds).
JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY", "") or SECRET_KEY
# Secrets storage (vault/): the values' encryption key; empty: one derived from SECRET_KEY (then changing
# SECRET_KEY makes the stored secrets unreadable, so production sets this one)
SECRETS_ENCRYPTION_KEY = env_secret("SECRETS_ENCRYPTION_KEY", "")
JWT_ISSUER = env_str("JWT_ISSUER", "thingsboard.io")
JWT_TOKEN_EXPIRATION_TIME = env_int("JWT_TOKEN_EXPIRATION_TIME", 9000, minimum=60)
JWT_REFRESH_TOKEN_EXPIRATION_TIME = env_int("JWT_REFRESH_TOKEN_EXPIRATION_TIME", 604800, minimum=60)
# Users' one-time links, as ThingsBoard: an activation link and a password-reset link each last 24 h.
USER_ACTIVATION_TOKEN_TTL_HOURS = env_int("USER_ACTIVATION_TOKEN_TTL_HOURS", 24, minimum=1)
USER_PASSWORD_RESET_TOKEN_TTL_HOURS = env_int("USER_PASSWORD_RESET_TOKEN_TTL_HOURS", 24, minimum=1)
# Outgoing mail (activation and password-reset mails): SMTP when EMAIL_HOST is set, else written to
# the process's output (the embedded default: the link is in `make run`'s log).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")
# The address users reach this server at (https://iot.example.com): the start of the links in
# activation and reset mails. Unset: the request's host, which is refused for mailed links while
# ALLOWED_HOSTS is "*" and EMAIL_HOST is set (a forged Host header would point the link elsewhere).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
# Account mails anyone can ask for (password reset; activation mails again), in ThingsBoard's rate-limit
# format ("3:3600" = 3 an hour): per target address, known or not, and per client address (an IPv6 client by
# its /64) for the anonymous reset request. Counted across processes through REDIS_URL. Empty: no limit.
ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT = env_str("ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT", "3:3600")
ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = env_str("ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT", "10:60")
# ThingsBoard's maxFailedLoginAttempts (security settings): the wrong password after this many in a row
# disables the user's login until an administrator enables it again (`manage.py enable_user EMAIL`). 0 (the
# default, as ThingsBoard leaves it unset): never.
USER_MAX_FAILED_LOGIN_ATTEMPTS = env_int("USER_MAX_FAILED_LOGIN_ATTEMPTS", 0, minimum=0)
# Failed logins (wrong name or password; REST and admin sign-in) one client address may make, in ThingsBoard's
# rate-limit format; past it the client's logins answer 429 unchecked. Successful logins are not counted.
LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = env_str("LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT", "10:60")
# Self-registration (signup/): sign-ups one client address may post, in ThingsBoard's rate-limit format; Google's
# reCAPTCHA verification URL (a test points it at a local fake) and how long to wait for it (seconds).
SIGNUP_PER_CLIENT_RATE_LIMIT = env_str("SIGNUP_PER_CLIENT_RATE_LIMIT", "5:3600")
RECAPTCHA_VERIFY_URL = env_str("RECAPTCHA_VERIFY_URL", "https://www.google.com/recaptcha/api/siteverify")
RECAPTCHA_TIMEOUT = env_int("RECAPTCHA_TIMEOUT", 10, minimum=1)
AUTHENTICATION_BACKENDS = ["tenants.lockout.LockoutBackend"]
# The security settings' password policy (tenants/system/security.py) in the admin's user forms and changepassword
AUTH_PASSWORD_VALIDATORS = [{"NAME": "tenants.system.security.PolicyValidator"}]
# Largest JSON body the API accepts (bytes); larger bodies answer 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024)
# Largest OTA package file and largest resource (JS module, key store, LwM2M model, image...) an upload may
# store (bytes, kept in the database; larger: 413). The tenant profile's maxOtaPackagesInBytes caps OTA totals.
OTA_PACKAGE_MAX_BYTES = env_int("OTA_PACKAGE_MAX_BYTES", 32 * 1024 * 1024, minimum=1024)
RESOURCE_MAX_BYTES = env_int("RESOURCE_MAX_BYTES", 4 * 1024 * 1024, minimum=1024)

# --- telemetry storage ----------------------------------------------------------------------------
# Days to keep telemetry; 0 keeps it forever.
TELEMETRY_TTL_DAYS = env_int("TELEMETRY_TTL_DAYS", 365, minimum=0)
# Width of one PostgreSQL partition / TimescaleDB chunk, in days.
TELEMETRY_PARTITION_DAYS = env_int("TELEMETRY_PARTITION_DAYS", 7, minimum=1)
# How many partitions ahead of "now" the beat job keeps created.
TELEMETRY_PARTITIONS_AHEAD = env_int("TELEMETRY_PARTITIONS_AHEAD", 2, minimum=0)
# Storage kind: "auto" picks timescale > partitioned > plain at migrate time.
TELEMETRY_STORAGE = env_str("TELEMETRY_STORAGE", "auto")
# Rows per DELETE statement when SQLite enforces the TTL.
TELEMETRY_DELETE_BATCH = env_int("TELEMETRY_DELETE_BATCH", 5000, minimum=1)
# PostgreSQL: store history and advance latest values on two connections at once (writer.py).
TELEMETRY_LATEST_IN_PARALLEL = env_bool("TELEMETRY_LATEST_IN_PARALLEL", True)

# --- converters and debug events -----------------------------------------------------------------
# Worker processes running converter scripts (per web or worker process); default 2, 1 on one core.
CONVERTER_WORKERS = env_int("CONVERTER_WORKERS", max(1, min(2, os.cpu_count() or 1)), minimum=1)
# Wall-clock limit of one script run, in milliseconds.
CONVERTER_TIMEOUT_MS = env_int("CONVERTER_TIMEOUT_MS", 500, minimum=1)
# Memory limit of one converter's script context, in MiB.
CONVERTER_MEMORY_LIMIT_MB = env_int("CONVERTER_MEMORY_LIMIT_MB", 32, minimum=1)
# Largest result one script run may return (its JSON text, in bytes).
CONVERTER_MAX_OUTPUT_BYTES = env_int("CONVERTER_MAX_OUTPUT_BYTES", 4 * 1024 * 1024, minimum=1024)
# Longest error message kept from a failed run (characters).
CONVERTER_MAX_ERROR_CHARS = env_int("CONVERTER_MAX_ERROR_CHARS", 1024, minimum=64)
# Compiled converter contexts each worker process keeps.
CONVERTER_CONTEXT_CACHE = env_int("CONVERTER_CONTEXT_CACHE", 256, minimum=1)
# Timeouts after which a batch stops running the same converter (the rest fail as "timeout").
CONVERTER_MAX_TIMEOUTS_PER_BATCH = env_int("CONVERTER_MAX_TIMEOUTS_PER_BATCH", 3, minimum=1)
# How long "debug all" stays on after it is switched on (ThingsBoard: 15 minutes).
DEBUG_ALL_DURATION_MINUTES = env_int("DEBUG_ALL_DURATION_MINUTES", 15, minimum=1)
# Days debug events are kept; 0 keeps them forever.
DEBUG_EVENTS_TTL_DAYS = env_int("DEBUG_EVENTS_TTL_DAYS", 7, minimum=0)
# Converters library (converters/library/): a git repository in ThingsBoard's data-converters layout
# (ThingsBoard's TB_INTEGRATIONS_CONVERTERS_LIBRARY_REPO_URL / _BRANCH); an empty URL disables it.
CONVERTERS_LIBRARY_REPO_URL = env_str("CONVERTERS_LIBRARY_REPO_URL", "https://github.com/thingsboard/data-converters.git")
CONVERTERS_LIBRARY_REPO_BRANCH = env_str("CONVERTERS_LIBRARY_REPO_BRANCH", "main")
# Hours between checks of the library's branch for new commits (0: load once, never refresh).
CONVERTERS_LIBRARY_REFRESH_HOURS = env_int("CONVERTERS_LIBRARY_REFRESH_HOURS", 24, minimum=0)
# Where the library's checkouts are kept.
CONVERTERS_LIBRARY_DIR = env_str("CONVERTERS_LIBRARY_DIR", str(DATA_DIR / "converters-library"))
# Version control (transfer/vc/): each tenant's bare cache of its repository; seconds of network silence before an
# operation fails; most pack data one fetch takes (bytes); local paths, file:// and private hosts as remotes (tests).
VC_REPOSITORIES_DIR = env_str("VC_REPOSITORIES_DIR", str(DATA_DIR / "vc-repositories"))
VC_NETWORK_TIMEOUT = env_int("VC_NETWORK_TIMEOUT", 20, minimum=1)
VC_MAX_FETCH_BYTES = env_int("VC_MAX_FETCH_BYTES", 200 * 1024 * 1024, minimum=1024)
VC_ALLOW_LOCAL_REPOSITORIES = False

# --- integrations ---------------------------------------------------------------------------------
# Largest uplink body the HTTP integration endpoint accepts (bytes); larger ones answer 413.
HTTP_INTEGRATION_MAX_BODY_BYTES = env_int("HTTP_INTEGRATION_MAX_BODY_BYTES", 1024 * 1024, minimum=1)
# Device claiming (devices/claiming.py), ThingsBoard's security.claim.*: how long a device's claim
# request lasts when it names no durationMs (ms), and whether any unowned device may be claimed
# (false: only those with the SERVER_SCOPE attribute claimingAllowed = true).
SECURITY_CLAIM_DURATION = env_int("SECURITY_CLAIM_DURATION", 86_400_000, minimum=1)
SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT = env_bool("SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT", True)
# Failed device claims (wrong secret key, a device claimed already or not found) one user may make, and
# provisioning requests (POST /api/v1/provision) per client address and per provision key, in ThingsBoard's
# rate-limit format (tenants/limits/device_attempts.py); past them 429. Empty: no limit.
DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT = env_str("DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT", "10:3600")
DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = env_str("DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT", "10:60")
DEVICE_PROVISION_PER_KEY_RATE_LIMIT = env_str("DEVICE_PROVISION_PER_KEY_RATE_LIMIT", "100:60")

# --- listener integrations (runintegrations) ---------------------------------------------------------
# Seconds a listener host's lease on an integration lasts; renewed every third of it. A dead
# host's integrations are taken over by another host within about this time.
INTEGRATION_LEASE_SECONDS = env_int("INTEGRATION_LEASE_SECONDS", 6, minimum=2)
# Whether `serve` (`make run`) also hosts listener integrations (MQTT) in a thread of its process.
RUN_INTEGRATIONS_IN_WEB = env_bool("RUN_INTEGRATIONS_IN_WEB", True)
# Dotted-path prefixes of the CUSTOM integration classes this host may load (integrations/custom.py):
# a tenant administrator names the class, so only code the operator allowed is ever imported.
CUSTOM_INTEGRATION_CLASSES = env_list("CUSTOM_INTEGRATION_CLASSES", ["integrations.custom_examples."])

# --- remote integrations (integrations/remote/, the `remote` runner) ----------------------------------
# Seconds between the checks a remote's connection makes for a changed configuration and due
# downlinks made in other processes (saves and downlinks in this process are pushed at once).
REMOTE_POLL_SECONDS = env_float("REMOTE_POLL_SECONDS", 2.0)

# --- uplink pipeline -------------------------------------------------------------------------------
# An uplink batch is handed to the queue at this many messages, or after UPLINK_BATCH_MS, whichever first.
UPLINK_BATCH_SIZE = env_int("UPLINK_BATCH_SIZE", 500, minimum=1)
UPLINK_BATCH_MS = env_int("UPLINK_BATCH_MS", 5, minimum=0)
# The listener integrations' (MQTT, TCP, Kafka...) longest linger under load, while uplinks keep
# arriving: larger tasks cost every process less per uplink (integrations/listeners/batching.py).
LISTENER_BATCH_MS = env_int("LISTENER_BATCH_MS", 20, minimum=0)
# Most uplinks the worker runs through the pipeline as one batch, of the queued batches waiting
# for it (integrations/coalesce.py): the pipeline's fixed cost per batch is paid this rarely.
PIPELINE_BATCH_SIZE = env_int("PIPELINE_BATCH_SIZE", 2000, minimum=1)
# A worker draining several pipeline batches converts the next while it stores one (a helper
# thread: integrations/overlap.py), so that the converter engine and PostgreSQL work at once.
# "auto": only in a worker with fewer pool processes (--concurrency) than CPUs; true; false.
PIPELINE_OVERLAP = "auto" if env_str("PIPELINE_OVERLAP", "auto").strip().lower() == "auto" \
    else env_bool("PIPELINE_OVERLAP", True)
# Seconds a worker keeps an integration (with its converter) and a known device or asset name
# between batches; a change made in another process reaches the pipeline within this time. 0: no cache.
PIPELINE_CACHE_SECONDS = env_float("PIPELINE_CACHE_SECONDS", 2.0)
# Allocations between young-generation garbage collections in web, worker and integrations
# processes (tbproject/gc_tuning.py); Python's default is 700. 0 keeps Python's defaults.
GC_GEN0_THRESHOLD = env_int("GC_GEN0_THRESHOLD", 50_000, minimum=0)
# Debug events (converter + integration) one integration may record per hour; the rest are dropped.
INTEGRATION_DEBUG_EVENTS_PER_HOUR = env_int("INTEGRATION_DEBUG_EVENTS_PER_HOUR", 5000, minimum=0)
# Debug events one rule node may record per hour; the rest are dropped (failures kept first).
RULE_NODE_DEBUG_EVENTS_PER_HOUR = env_int("RULE_NODE_DEBUG_EVENTS_PER_HOUR", 5000, minimum=0)
# Debug events one tenant may record, in ThingsBoard's rate-limit format (its DEBUG_MODE_RATE_LIMITS_PER_TENANT
# default); a tenant profile's debugEventsPerTenantRateLimit replaces it. Empty: no tenant-wide limit.
DEBUG_EVENTS_TENANT_RATE_LIMIT = env_str("DEBUG_EVENTS_TENANT_RATE_LIMIT", "50000:3600")
# Days dead letters (uplinks that failed conversion or storage) are kept; 0 keeps them forever.
DEAD_LETTERS_TTL_DAYS = env_int("DEAD_LETTERS_TTL_DAYS", 30, minimum=0)
# Days audit log rows are kept (audit/); 0 keeps them forever, as ThingsBoard's default audit-log TTL.
AUDIT_LOG_TTL_DAYS = env_int("AUDIT_LOG_TTL_DAYS", 0, minimum=0)
# Most dead letters one replay request re-runs.
REPLAY_MAX_MESSAGES = env_int("REPLAY_MAX_MESSAGES", 10000, minimum=1)

# --- downlinks (integrations/downlinks/) -----------------------------------------------------------------
# Attempts to send one downlink before it is FAILED; the wait doubles from DOWNLINK_RETRY_SECONDS (max 5 min).
DOWNLINK_MAX_ATTEMPTS = env_int("DOWNLINK_MAX_ATTEMPTS", 5, minimum=1)
DOWNLINK_RETRY_SECONDS = env_int("DOWNLINK_RETRY_SECONDS", 5, minimum=0)
# Days delivered, failed and superseded downlinks are kept; 0 keeps them forever.
DOWNLINKS_TTL_DAYS = env_int("DOWNLINKS_TTL_DAYS", 7, minimum=0)

# --- rule engine (rulechains/) -------------------------------------------------------------------------
# Rule nodes one incoming message, with every copy made of it, may pass through; past it the
# message is dropped with a warning (a loop or runaway fan-out in a rule chain).
RULE_ENGINE_MAX_HOPS = env_int("RULE_ENGINE_MAX_HOPS", 100, minimum=1)
# Copies a duplicate node makes of one message (more entities: Failure), and copies one incoming
# message may give rise to in all; each copy has its own RULE_ENGINE_MAX_HOPS budget.
RULE_ENGINE_MAX_DUPLICATES = env_int("RULE_ENGINE_MAX_DUPLICATES", 10_000, minimum=1)
# The device state node's per-device limit on connectivity events, ThingsBoard's "events:seconds,..."
# ("" for none); a device over it leaves the node by "Rate limited" (rulechains/nodes/device_state.py).
DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION = env_str("DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION", "1:1,30:60,60:3600")
# Requests waiting at a time in one web process (rule-engine REST calls, two-way RPC, device RPC and
# attribute long polls; none holds a thread: tbproject/waits.py), in all, of one tenant (a fifth: three
# busy tenants cannot fill a process) and, per kind of poll, of one device; one more is a 429.
MAX_WAITING_REQUESTS = env_int("MAX_WAITING_REQUESTS", 10000, minimum=1)
MAX_WAITING_REQUESTS_PER_TENANT = env_int("MAX_WAITING_REQUESTS_PER_TENANT", 2000, minimum=1)
MAX_WAITING_REQUESTS_PER_DEVICE = env_int("MAX_WAITING_REQUESTS_PER_DEVICE", 2, minimum=1)
# Largest RPC "params" (as JSON text) the REST API accepts: ThingsBoard's MQTT transport's max payload.
RPC_MAX_PARAMS_BYTES = env_int("RPC_MAX_PARAMS_BYTES", 65536, minimum=1024)
# This process's service id in GET /api/queueStats (ThingsBoard's TB_SERVICE_ID): default the host name.
TB_SERVICE_ID = env_str("TB_SERVICE_ID", "")

# --- what ThingsBoard's UI and clients are told of this platform --------------------------------------
# Where the UI fetches its help pages (GET /api/uiSettings/helpBaseUrl; ThingsBoard's UI_HELP_BASE_URL).
UI_HELP_BASE_URL = env_str("UI_HELP_BASE_URL", "https://thingsboard.io")
# Trendz Analytics' address when no administrator saved one (GET /api/trendz/config; "" for none).
TRENDZ_URL = env_str("TRENDZ_URL", "")
# The device "Check connectivity" commands (GET /api/device-connectivity/{deviceId}): the host devices reach
# this server's HTTP API at ("" for PUBLIC_BASE_URL's, else the request's) and, for HTTPS, the PEM file of
# the server certificate GET /api/device-connectivity/https/certificate/download serves ("" for none).
DEVICE_CONNECTIVITY_HOST = env_str("DEVICE_CONNECTIVITY_HOST", "")
DEVICE_CONNECTIVITY_HTTPS_PEM_FILE = env_str("DEVICE_CONNECTIVITY_HTTPS_PEM_FILE", "")
# The IoT gateway image version of the generated docker-compose file (ThingsBoard's TB_GATEWAY_IMAGE_VERSION).
GATEWAY_IMAGE_VERSION = env_str("GATEWAY_IMAGE_VERSION", "latest")
# POST /api/tenant/{tenantId}/device/{deviceId}: a tenant administrator may hand a device to ANY other tenant
# (ThingsBoard's behaviour, the default); False answers it 403 on servers whose tenants should not get pushed devices.
DEVICE_ASSIGN_TO_OTHER_TENANTS = env_bool("DEVICE_ASSIGN_TO_OTHER_TENANTS", True)
# The LwM2M server and bootstrap server device profiles are told of (GET /api/lwm2m/deviceProfile/bootstrap/
# {isBootstrapServer}); no LwM2M transport runs here: ThingsBoard's defaults, "" host for PUBLIC_BASE_URL's.
LWM2M_SERVER_HOST = env_str("LWM2M_SERVER_HOST", "")
LWM2M_SERVER_PORT = env_int("LWM2M_SERVER_PORT", 5685, minimum=1)
LWM2M_SERVER_SECURITY_PORT = env_int("LWM2M_SERVER_SECURITY_PORT", 5686, minimum=1)
LWM2M_BOOTSTRAP_PORT = env_int("LWM2M_BOOTSTRAP_PORT", 5687, minimum=1)
LWM2M_BOOTSTRAP_SECURITY_PORT = env_int("LWM2M_BOOTSTRAP_SECURITY_PORT", 5688, minimum=1)

# --- reporting (reports/): dashboards and report templates rendered in headless Chromium -----------------
# The Chromium binary Playwright drives ("" or a missing file: generating a PDF/PNG/JPEG answers 503, the rest works).
REPORTS_CHROMIUM_PATH = env_str("REPORTS_CHROMIUM_PATH", "/usr/bin/chromium")
# This server's own address as the renderer opens it (never a host from a request or a configuration).
REPORTS_SERVER_URL = env_str("REPORTS_SERVER_URL", "http://127.0.0.1:8080")
# How long the renderer waits for a page, and how long its login token lives (seconds).
REPORTS_RENDER_TIMEOUT_MS = env_int("REPORTS_RENDER_TIMEOUT_MS", 30_000, minimum=1000)
REPORTS_TOKEN_LIFETIME = env_int("REPORTS_TOKEN_LIFETIME", 120, minimum=10)
# Renders (Chromium) at once per process; a render waits this long for a slot, then answers 503 "busy".
REPORTS_MAX_CONCURRENT = env_int("REPORTS_MAX_CONCURRENT", 2, minimum=1)
REPORTS_SLOT_WAIT_SECONDS = env_int("REPORTS_SLOT_WAIT_SECONDS", 5, minimum=0)
# Report jobs queued or running per tenant (more: 429), and the largest report file an upload may hold.
REPORTS_MAX_JOBS_PER_TENANT = env_int("REPORTS_MAX_JOBS_PER_TENANT", 10, minimum=1)
REPORTS_MAX_UPLOAD_BYTES = env_int("REPORTS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1024)

# --- operations (tbproject/ops/): /readyz, /metrics -----------------------------------------------
# Bearer token /metrics answers to (Prometheus's `authorization: credentials`); empty: /metrics is off.
METRICS_TOKEN = env_secret("METRICS_TOKEN", "")
# /readyz reports the worker down when no Celery worker wrote its heartbeat (every 5 s) for this long.
WORKER_HEARTBEAT_TIMEOUT_SECONDS = env_int("WORKER_HEARTBEAT_TIMEOUT_SECONDS", 30, minimum=6)
# A Celery beat runs beside this deployment: /readyz also wants its heartbeat (same timeout).
EXPECT_BEAT = env_bool("EXPECT_BEAT", False)

# --- admin look (django-unfold): sidebar sections, each item shown to who may open its model ---
from tbproject.ui.navigation import UNFOLD  # noqa: E402,F401  (plain data and lazy links)

# --- demo / run ---------------------------------------------------------------------------------
LOAD_DEMO_DATA = env_bool("LOAD_DEMO_DATA", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # gmqtt logs every connection and subscription at INFO; the listener host logs what matters.
    "loggers": {"django.db.backends": {"level": "INFO"}, "gmqtt": {"level": "WARNING"}},
}
