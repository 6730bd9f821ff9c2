"""Operations: /readyz and /metrics (tbproject/ops/), demo data, logging."""

from tbproject.env import env_bool, env_int, env_secret, env_str

# Bearer token /metrics answers to (Prometheus's `authorization: credentials`); empty: /metrics is off.
METRICS_TOKEN = env_secret("METRICS_TOKEN", "")
# /readyz reports the worker down when no Celery worker wrote its heartbeat (every 5 s) for this long.
WORKER_HEARTBEAT_TIMEOUT_SECONDS = env_int("WORKER_HEARTBEAT_TIMEOUT_SECONDS", 30, minimum=6)
# A Celery beat runs beside this deployment: /readyz also wants its heartbeat (same timeout).
EXPECT_BEAT = env_bool("EXPECT_BEAT", False)

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
