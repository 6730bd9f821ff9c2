"""Redis, Celery, Channels and the cache: Redis-backed with REDIS_URL, in-process without it."""

from tbproject.env import env_bool, env_int, env_str

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
