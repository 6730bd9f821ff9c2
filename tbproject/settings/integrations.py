"""Integrations: uplink limits, device claiming and provisioning, listeners, the remote runner, the
uplink pipeline, debug-event and retention limits, downlinks."""

from tbproject.env import env_bool, env_float, env_int, env_list, env_str

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
