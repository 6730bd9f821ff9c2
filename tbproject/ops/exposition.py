"""``/metrics``: Prometheus's text format, written by ``prometheus_client`` from the totals of
tbproject/metrics.py (every process's counts, summed in Redis) and gauges read at scrape time
(the Celery queue in Redis, live workers).

Labels hold integration ids only (never names or tenant data); the endpoint answers only to
``Authorization: Bearer <METRICS_TOKEN>`` (tbproject/ops/endpoints.py).
"""

import base64
import json
import uuid

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from tbproject import metrics
from tbproject.broker import INFLIGHT_INDEX
from tbproject.clock import now_ms
from tbproject.ops import heartbeat
from tbproject.ops.checks import redis_client

__all__ = ["COUNTERS", "HISTOGRAMS", "CONTENT_TYPE_LATEST", "render", "queue_gauges"]

#: counter field name (as counted) -> (labels, help)
COUNTERS = {
    "tb_uplinks_accepted_total": (("integration",), "Uplinks an integration accepted and queued (HTTP 2xx, MQTT ack)."),
    "tb_uplinks_stored_total": (("integration",), "Uplinks converted and stored by a worker."),
    "tb_uplinks_failed_total": (("integration",), "Uplinks whose conversion or storage failed (kept as dead letters)."),
    "tb_uplinks_dropped_total": (("integration",), "Uplinks dropped on purpose (device creation not allowed)."),
    "tb_uplinks_duplicate_total": (("integration",), "Uplinks not stored: duplicates within the integration's "
                                   "deduplication window."),
    "tb_downlinks_total": (("integration", "outcome"),
                           "Downlink send attempts by outcome: delivered, retry (failed, will be tried again), "
                           "failed (given up)."),
}
#: histogram name -> (labels, help)
HISTOGRAMS = {
    "tb_converter_latency_seconds": (("kind",), "Converter script run time per message (its batch's run time "
                                                "divided by the batch's messages), by kind (decoder, encoder)."),
}
#: Celery's queue (a Redis list) and what its workers took but did not acknowledge yet
QUEUE, UNACKED = "celery", "unacked"
#: waiting tasks (the oldest) read for the lag: a batch may be large, and periodic tasks are few
LAG_SCAN = 20
_PRIORITY_SEP = "\x06\x16"  # kombu's Redis transport: <queue><sep><priority> for priorities 3, 6, 9


def queue_gauges(client) -> dict:
    """Depth (tasks waiting), reserved (taken, unacknowledged) and lag (age in seconds of the
    oldest uplink of the oldest waiting batch) of the Celery queue; zeros when tasks are eager."""
    if client is None:
        return {"depth": 0, "reserved": 0, "lag": 0.0}
    names = [QUEUE] + [f"{QUEUE}{_PRIORITY_SEP}{p}" for p in (3, 6, 9)]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
    pipe.hlen(UNACKED)
    pipe.lrange(QUEUE, -LAG_SCAN, -1)  # LPUSH in, BRPOP out: the oldest waiting are at the end
    pipe.zrange(INFLIGHT_INDEX, 0, -1)
    *lengths, reserved, oldest, inflight = pipe.execute()
    if inflight:  # taken by a consumer (tbproject/broker.py) and not yet recorded as unacknowledged
        pipe = client.pipeline(transaction=False)
        for name in inflight:
            pipe.llen(name)
        reserved += sum(pipe.execute())
    return {"depth": sum(lengths), "reserved": reserved, "lag": _lag(oldest)}


def _lag(raw_messages) -> float:
    """Seconds since the oldest received_ts among the oldest waiting uplink batches."""
    oldest = None
    for raw in raw_messages:
        try:
            envelope = json.loads(raw)
            if envelope.get("headers", {}).get("task") != "integrations.tasks.process_uplinks":
                continue
            args = json.loads(base64.b64decode(envelope["body"]))[0]
            rows = args[0]["u"]  # version 2 (integrations/queue.py): the rows as one JSON text
            ts = min(u[3] for u in (json.loads(rows) if isinstance(rows, str) else rows))
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # not a batch of ours (another task, another protocol): no lag from it
        oldest = ts if oldest is None else min(oldest, ts)
    return 0.0 if oldest is None else max(0.0, (now_ms() - oldest) / 1000)


class _Collector:
    def __init__(self, totals: dict, gauges: dict, workers: int | None):
        self.totals, self.gauges, self.workers = totals, gauges, workers

    def collect(self):
        by_name: dict[str, list] = {}
        for field, value in self.totals.items():
            name, labels = metrics.parse_field(field)
            by_name.setdefault(name, []).append((labels, value))
        for name, (labels, help_text) in COUNTERS.items():
            family = CounterMetricFamily(name.removesuffix("_total"), help_text, labels=list(labels))
            for values, total in sorted(by_name.get(name, ()), key=lambda row: sorted(row[0].items())):
                family.add_metric([values.get(label, "") for label in labels], total)
            yield family
        for name, (labels, help_text) in HISTOGRAMS.items():
            yield self._histogram(name, labels, help_text, by_name)
        yield GaugeMetricFamily("tb_queue_depth", "Tasks (uplink batches and others) waiting in the Celery queue.",
                                value=self.gauges["depth"])
        yield GaugeMetricFamily("tb_queue_reserved", "Tasks workers took from the queue and have not "
                                "acknowledged (in-flight lists included).",
                                value=self.gauges["reserved"])
        yield GaugeMetricFamily("tb_queue_lag_seconds", "Age of the oldest uplink in the oldest waiting "
                                "uplink batches (among the 20 oldest tasks).",
                                value=self.gauges["lag"])
        if self.workers is not None:
            yield GaugeMetricFamily("tb_workers", "Celery workers with a recent heartbeat.", value=self.workers)

    @staticmethod
    def _histogram(name, labels, help_text, by_name):
        family = HistogramMetricFamily(name, help_text, labels=list(labels))
        series: dict[tuple, dict] = {}
        for values, amount in by_name.get(f"{name}_bucket", ()):
            key = tuple(values.get(label, "") for label in labels)
            series.setdefault(key, {})[values.get("le", "+Inf")] = amount
        sums = {tuple(v.get(label, "") for label in labels): amount for v, amount in by_name.get(f"{name}_sum", ())}
        for key in sorted(series):
            cumulative, buckets = 0.0, []
            for bound in [*metrics.BUCKETS, "+Inf"]:
                cumulative += series[key].get(str(bound), 0)
                buckets.append((str(bound), cumulative))
            family.add_metric(list(key), buckets, sums.get(key, 0.0))
        return family


def without_deleted_integrations(totals: dict, client) -> dict:
    """``totals`` without the series of integrations that no longer exist, which are also removed
    from Redis (else every integration ever deleted would stay a series for good)."""
    from integrations.models import Integration

    labelled = {field: metrics.parse_field(field)[1].get("integration") for field in totals}
    ids = set()
    for value in filter(None, labelled.values()):
        try:
            ids.add(str(uuid.UUID(value)))
        except ValueError:
            pass
    existing = {str(pk) for pk in Integration.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    gone = [field for field, value in labelled.items() if value is not None and value not in existing]
    if gone:
        if client is not None:
            client.hdel(metrics.KEY, *gone)
        metrics.forget(gone)
    return {field: value for field, value in totals.items() if field not in set(gone)}


def render() -> bytes:
    """The exposition text; raises the Redis client's error when Redis is configured but down."""
    client = redis_client()
    totals = without_deleted_integrations(metrics.snapshot(), client)
    gauges = queue_gauges(None if settings.CELERY_TASK_ALWAYS_EAGER else client)
    workers = None
    if client is not None and not settings.CELERY_TASK_ALWAYS_EAGER:
        workers = len(heartbeat.alive(client, settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(totals, gauges, workers))
    return generate_latest(registry)
