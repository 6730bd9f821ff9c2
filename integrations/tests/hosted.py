"""End-to-end helpers: an integration posted as ThingsBoard JSON, run by the listener host.

    ids = post_integrations(api, "KIND", decoder, encoder, live=config_a, dead=config_b)
    with hosting(tenant):
        wait_connected(ids["live"])
        ... the peer sends ...
        assert stored(tenant, "device", "t") == 7.5
"""

import contextlib

from integrations.tests.brokers import wait_until

__all__ = ["post_integrations", "hosting", "wait_connected", "stored", "failure_of", "statistics", "guided_form",
           "check"]


def post_integrations(api, kind: str, decoder, encoder=None, **configurations) -> dict[str, str]:
    """``POST /api/integration`` once per named configuration; returns ``{name: integration id}``."""
    ids = {}
    for label, configuration in configurations.items():
        body = {"name": f"{kind} {label}", "type": kind, "enabled": True, "debugSettings": {"failuresEnabled": True},
                "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
                "configuration": configuration}
        if encoder is not None:
            body["downlinkConverterId"] = {"entityType": "CONVERTER", "id": str(encoder.pk)}
        res = api.post("/api/integration", body, format="json")
        assert res.status_code == 200, res.content
        ids[label] = res.json()["id"]["id"]
    return ids


@contextlib.contextmanager
def hosting(tenant):
    """The listener host in a thread, Celery eager; the tenant's telemetry is deleted afterwards."""
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.test_rabbitmq import _delete_telemetry
    from tbproject.celery import app as celery_app

    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    runner = Runner(lease_seconds=3, poll_seconds=0.3)
    runner.outbox.poll = 0.3
    host = RunnerThread(runner).start()
    try:
        yield runner
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)


def wait_connected(integration_id: str, timeout: float = 20.0):
    from integrations.models import Integration

    return wait_until(lambda: Integration.objects.filter(pk=integration_id, connected=True).first(), timeout,
                      message="the integration to connect")


def stored(tenant, device_name: str, key: str, timeout: float = 20.0):
    """The latest value of ``key`` of the tenant's device, once it is there."""
    from devices.models import Device
    from devices.telemetry import latest

    device = wait_until(lambda: Device.objects.filter(tenant=tenant, name=device_name).first(), timeout,
                        message=f"the device {device_name}")
    return wait_until(lambda: latest(device.pk, [key]), timeout, message="the telemetry")[key][1]


def failure_of(integration_id: str, timeout: float = 20.0):
    """``(integration row with its last_error, its ERROR event, its LC_EVENT rows)`` once it failed."""
    from converters.models import DebugEvent
    from integrations.models import Integration

    row = wait_until(lambda: Integration.objects.filter(pk=integration_id).exclude(last_error="").first(), timeout,
                     message="the error in the integration's status")
    error = wait_until(lambda: DebugEvent.objects.filter(entity_id=integration_id, event_type="ERROR").first(),
                       timeout, message="the ERROR event")
    lifecycle = DebugEvent.objects.filter(entity_id=integration_id, event_type="LC_EVENT").order_by("created_time")
    return row, error, list(lifecycle)


def statistics(integration_id: str, timeout: float = 20.0) -> dict:
    """The STATS event of the integration's current hour, as the hourly job writes it once the hour is over.

    The pipeline stores a batch's telemetry before it counts the batch (integrations/pipeline.py),
    so a test that saw the telemetry waits for the count too before the hour is written."""
    from converters.models import DebugEvent
    from integrations import stats
    from integrations.models import IntegrationStats
    from tbproject.clock import now_ms

    counted = IntegrationStats.objects.filter(integration_id=integration_id, messages_processed__gt=0)
    wait_until(counted.exists, timeout, message="the batch's counts")
    stats.persist(now=now_ms() + stats.HOUR_MS)
    return DebugEvent.objects.get(entity_id=integration_id, event_type="STATS").body


def guided_form(client, kind: str) -> tuple[list[str], set[str]]:
    """``(secret paths, clientConfiguration fields)`` the integration page's guided form offers for ``kind``."""
    import json

    html = client.get("/admin/integrations/integration/add/").content.decode()
    schemas = json.loads(html.split('id="ui-type-schemas"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    schema = schemas[kind]["schema"]
    ref = schema["properties"]["clientConfiguration"]
    fields = schema["$defs"][ref["$ref"].split("/")[-1]] if "$ref" in ref else ref
    return schemas[kind]["secrets"], set(fields["properties"])


def check(api, kind: str, decoder, configuration: dict) -> tuple[int, str]:
    """``POST /api/integration/check``: the status and the answer's message."""
    body = {"name": kind, "type": kind, "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
            "configuration": configuration}
    res = api.post("/api/integration/check", body, format="json")
    return res.status_code, (res.json() or {}).get("message", "") if res.content else ""
