"""The rule engine (rulechains/): hop and copy limits, waiting requests, RPC size, the service id."""

from tbproject.env import env_int, env_str

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
