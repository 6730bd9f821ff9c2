"""Task messages into the broker with one Redis command: kombu's envelope, without kombu's producer.

    publish(task, [payload, ...])   # LPUSH of one Celery task message per payload; returns once stored

Used for uplink batches (integrations/queue.py) and the rule engine's batches of API-made
messages (rulechains/outbox.py): tasks that take one argument.

Publishing through Celery (``apply_async``) builds the same message through several layers
(signature, routing, kombu's producer and channel, a repr of the arguments for the logs) and
cost the web process about a tenth of its CPU at HTTP one-message-per-POST rates, and
runintegrations 8% of its CPU (docs/performance.md, issue 18). The worker cannot tell the
difference: the message is exactly what Celery's protocol 2 puts on the Redis list of the
default queue ("celery"): a JSON envelope with the body ``[args, kwargs, embed]`` in base64,
the task's headers and kombu's delivery properties. ``argsrepr`` (for the worker's log lines)
says how many uplinks the batch holds instead of a repr of up to a kilobyte of it.

Durable means what it means for kombu's Redis transport: the LPUSH returned. Redis down or
unreachable raises (redis.ConnectionError, TimeoutError): nothing was queued.

``usable(task)`` says when this path applies: a ``redis://``/``rediss://`` broker, the task not
run eagerly, no routes or broker options that would change where or how kombu puts it (a
priority, a key prefix); otherwise the caller publishes through Celery as before.
"""

import base64
import functools
import json
import os
import socket
import threading
import uuid

__all__ = ["publish", "usable", "envelope"]

_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_SCHEMES = ("redis://", "rediss://", "unix://")
_clients: dict[str, object] = {}
_lock = threading.Lock()
_origin = f"gen{os.getpid()}@{socket.gethostname()}"


def usable(task) -> bool:
    conf = task.app.conf  # each read goes through Celery's layered settings: the fixed ones once
    return not conf.task_always_eager and str(conf.broker_url or "").startswith(_SCHEMES) and _plain(task)


@functools.cache
def _plain(task) -> bool:
    """No routes, queues, priorities or key prefix that would make kombu put the message elsewhere."""
    conf = task.app.conf
    options = conf.broker_transport_options or {}
    return (not conf.task_routes and not conf.task_queues and not conf.task_default_priority
            and not options.get("global_keyprefix") and not options.get("queue_order_strategy") == "priority"
            and getattr(task, "priority", None) is None and getattr(task, "queue", None) is None)


def _uplinks_repr(payload) -> str:
    return f"[<uplink batch, {len(payload.get('u', '')) if isinstance(payload, dict) else 0} characters>]"


def envelope(task, payload, *, retries: int = 0, argsrepr=_uplinks_repr) -> bytes:
    """The task message Celery 5 (protocol 2) and kombu's Redis transport put on the list;
    ``argsrepr(payload)``: what the worker's log lines show of the argument."""
    task_id = str(uuid.uuid4())
    body = json.dumps([[payload], {}, _EMBED]).encode()
    message = {
        "body": base64.b64encode(body).decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py", "task": task.name, "id": task_id, "shadow": None, "eta": None, "expires": None,
            "group": None, "group_index": None, "retries": retries, "timelimit": [None, None],
            "root_id": task_id, "parent_id": None, "argsrepr": argsrepr(payload),
            "kwargsrepr": "{}", "origin": _origin, "ignore_result": bool(task.ignore_result),
            "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {},
        },
        "properties": {
            "correlation_id": task_id, "reply_to": task.app.thread_oid, "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": _queue_name(task)},
            "priority": 0, "body_encoding": "base64", "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(message, separators=(",", ":")).encode()


def publish(task, payloads: list, argsrepr=_uplinks_repr) -> None:
    """One LPUSH of a task message per payload (in order: the worker pops from the other end)."""
    if payloads:
        _client(task.app.conf.broker_url).lpush(_queue_name(task), *(envelope(task, p, argsrepr=argsrepr)
                                                                     for p in payloads))


@functools.cache
def _queue_name(task) -> str:
    return task.app.conf.task_default_queue or "celery"


def _client(url: str):
    client = _clients.get(url)
    if client is None:
        import redis

        with _lock:
            client = _clients.get(url)
            if client is None:
                # Timeouts so that a Redis that stops answering fails the batch (503, no PUBACK)
                # instead of holding the sender thread; a refused connection fails at once.
                client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10,
                                                              health_check_interval=30)
    return client
