"""The KAFKA integration through the API and the listener host, against Tansu (kafka_peer.py):
the check endpoint, refused credentials in status and lifecycle events, and the whole path from
``POST /api/integration`` to stored telemetry."""

import json

import pytest

from integrations.tests.brokers import free_port, wait_until
from integrations.tests.kafka_peer import (
    FAST,
    HOST,
    WRONG_SCRAM,
    config,
    create,
    name,
    produce,
    run,
)


@pytest.mark.django_db
def test_the_check_endpoint_answers_the_unreachable_server(api, tenant, tansu):
    from integrations.tests.factories import make_uplink_converter

    converter = make_uplink_converter(tenant)
    port = free_port()
    body = {"name": "Kafka", "type": "KAFKA", "defaultConverterId": {"entityType": "CONVERTER",
                                                                     "id": str(converter.pk)},
            "configuration": config(f"{HOST}:{port}", "t")}
    res = api.post("/api/integration/check", body, format="json")
    assert res.status_code == 400 and f"Failed to connect to Kafka at {HOST}:{port}" in json.dumps(res.json())
    body["configuration"] = config(tansu, "t")
    assert api.post("/api/integration/check", body, format="json").status_code == 200

@pytest.mark.django_db(transaction=True)
def test_a_hosted_integration_with_refused_credentials_shows_it_in_status_and_lifecycle_events(
        api, tenant, tansu_with_authentication):
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.hosted import failure_of
    from integrations.tests.uplinks import converter

    res = api.post("/api/integration", {
        "name": "Kafka refused", "type": "KAFKA", "enabled": True, "debugSettings": {"failuresEnabled": True},
        "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter(tenant).pk)},
        "configuration": {"clientConfiguration": {
            "groupId": name("g"), "clientId": "client_id_1", "topics": "t",
            "bootstrapServers": tansu_with_authentication, "pollInterval": 500, "autoCreateTopics": False,
            "otherProperties": {**FAST, **WRONG_SCRAM}},
            "metadata": {}}}, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"]["clientConfiguration"]["otherProperties"]["sasl.jaas.config"] == "******"
    integration_id = res.json()["id"]["id"]
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        row, error, _ = failure_of(integration_id)
        lifecycle = wait_until(lambda: [e for e in failure_of(integration_id)[2] if e.body["event"] == "FAILED"],
                               message="the FAILED lifecycle event")
    finally:
        host.stop()
    assert "SASL authentication failed" in row.last_error and not row.connected
    assert error.body["error"] == row.last_error
    assert lifecycle[0].body["status"] == "Failure" and "SASL authentication failed" in lifecycle[0].body["error"]
    assert "guessed" not in json.dumps([e.body for e in lifecycle]) + row.last_error


# --- through the API, the listener host and the pipeline -------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_an_integration_posted_as_thingsboard_json_stores_telemetry_and_reports_a_dead_broker(api, tenant, tansu):
    from converters.models import DebugEvent
    from devices.models import Device
    from devices.telemetry import latest
    from integrations.models import Integration
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.test_rabbitmq import _delete_telemetry
    from integrations.tests.uplinks import converter
    from tbproject.celery import app as celery_app

    topic = name()
    run(create(tansu, topic, partitions=1))
    decoder = converter(tenant)
    dead_port = free_port()
    ids = {}
    for label, servers in (("live", tansu), ("dead", f"{HOST}:{dead_port}")):
        res = api.post("/api/integration", {
            "name": f"Kafka {label}", "type": "KAFKA", "enabled": True, "debugSettings": {"failuresEnabled": True},
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
            "configuration": {"clientConfiguration": {
                "groupId": name("g"), "clientId": "client_id_1", "topics": topic, "bootstrapServers": servers,
                "pollInterval": 500, "autoCreateTopics": False, "otherProperties": dict(FAST)},
                "metadata": {}}}, format="json")
        assert res.status_code == 200, res.content
        ids[label] = res.json()["id"]["id"]
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        wait_until(lambda: Integration.objects.filter(pk=ids["live"], connected=True).exists(), 20,
                   message="the integration to connect")
        body = {"name": "kafka-meter", "telemetry": {"t": 7.5}}
        run(produce(tansu, topic, [(b"kafka-meter", json.dumps(body).encode())]))
        device = wait_until(lambda: Device.objects.filter(tenant=tenant, name="kafka-meter").first(), 20,
                            message="the device")
        stored = wait_until(lambda: latest(device.pk, ["t"]), message="the telemetry")
        assert {key: value for key, (_, value) in stored.items()} == {"t": 7.5}
        dead = wait_until(lambda: Integration.objects.filter(pk=ids["dead"]).exclude(last_error="").first(), 20,
                          message="the dead broker's error")
        assert dead.last_error.startswith(f"Failed to connect to Kafka at {HOST}:{dead_port}") and not dead.connected
        error = wait_until(lambda: DebugEvent.objects.filter(entity_id=ids["dead"], event_type="ERROR").first(),
                           message="the ERROR event")
        assert error.body["method"] == "connect" and error.body["error"] == dead.last_error
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)
