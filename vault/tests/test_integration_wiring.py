"""``"password": "${secret:mqttPass;type:TEXT}"`` in an MQTT integration, run by the real listener host
against a real Mosquitto that requires that password: resolved at start, a missing secret is the
integration's clear error, a new value restarts the integration."""

import logging

import pytest

from converters.models import DebugEvent
from integrations.models import Integration
from integrations.runner import Runner, RunnerThread
from integrations.tests.brokers import password_file, unique_topic, wait_until
from integrations.tests.factories import make_integration
from vault import services
from vault.models import Secret

pytestmark = pytest.mark.django_db(transaction=True)  # the host works in its own threads and connections
PASSWORD = "br0ker-pa55"


@pytest.fixture
def host():
    threads = []

    def start() -> Runner:
        runner = Runner(lease_seconds=3, poll_seconds=0.3)
        threads.append(RunnerThread(runner).start())
        assert runner.started.wait(10), "the host did not look at the database"
        return runner

    yield start
    for thread in threads:
        thread.stop()


@pytest.fixture
def locked_broker(make_broker, tmp_path):
    passwords = password_file(tmp_path, "meter", PASSWORD)
    return make_broker(f"allow_anonymous false\npassword_file {passwords}").start()


def mqtt(tenant, broker, name: str, password: str) -> Integration:
    credentials = {"type": "basic", "username": "meter", "password": password}
    return make_integration(tenant, name, kind="MQTT",
                            configuration=broker.config(unique_topic("up") + "/+", credentials=credentials))


def connected(integration) -> bool:
    return Integration.objects.filter(pk=integration.pk, connected=True).exists()


def error_of(integration) -> str:
    return Integration.objects.get(pk=integration.pk).last_error


def everything_shown(integration) -> str:
    row = Integration.objects.get(pk=integration.pk)
    bodies = DebugEvent.objects.filter(entity_id=integration.pk).values_list("body", flat=True)
    return f"{row.last_error} {row.configuration} {list(bodies)}"


def test_the_placeholder_connects_and_a_new_value_restarts_the_integration(tenant, locked_broker, host, caplog):
    secret = services.save(tenant.pk, {"name": "mqttPass", "type": "TEXT", "value": "wrong-one"})
    integration = mqtt(tenant, locked_broker, "Locked broker", "${secret:mqttPass;type:TEXT}")
    with caplog.at_level(logging.DEBUG):
        host()
        wait_until(lambda: "not authori" in error_of(integration).lower(), 20, message="the broker to refuse")
        assert not connected(integration)
        services.set_value(Secret.objects.get(pk=secret.pk), PASSWORD)  # the host restarts it with the new value
        wait_until(lambda: connected(integration), 20, message="the integration to connect with the new value")
    stored = Integration.objects.get(pk=integration.pk)
    assert stored.configuration["clientConfiguration"]["credentials"]["password"] == "${secret:mqttPass;type:TEXT}"
    assert PASSWORD not in everything_shown(integration) and PASSWORD not in caplog.text


def test_a_missing_secret_is_the_integrations_error_and_nothing_else_breaks(tenant, locked_broker, broker, host):
    missing = mqtt(tenant, locked_broker, "Needs a secret", "${secret:notYet;type:TEXT}")
    healthy = make_integration(tenant, "Anonymous broker", kind="MQTT", configuration=broker.config(unique_topic()))
    host()
    wait_until(lambda: connected(healthy), 20, message="the other integration to connect")
    wait_until(lambda: "notYet" in error_of(missing), 20, message="the missing secret in the status")
    assert error_of(missing) == "Secret 'notYet' referenced by ${secret:notYet;type:TEXT} is not found"
    assert not connected(missing)
    lifecycle = DebugEvent.objects.filter(entity_id=missing.pk, event_type="LC_EVENT")
    assert any("notYet" in str(e.body) for e in lifecycle)
    services.save(tenant.pk, {"name": "notYet", "type": "TEXT", "value": PASSWORD})  # completes it: started now
    wait_until(lambda: connected(missing), 20, message="the integration to start once its secret exists")
    assert connected(healthy)


def test_the_check_endpoint_uses_the_secret(tenant, locked_broker, api):
    from integrations.tests.hosted import check

    decoder = make_integration(tenant, "x", kind="MQTT", configuration=locked_broker.config("a")).default_converter
    services.save(tenant.pk, {"name": "mqttPass", "type": "TEXT", "value": PASSWORD})
    config = locked_broker.config("a/#", credentials={"type": "basic", "username": "meter",
                                                      "password": "${secret:mqttPass;type:TEXT}"})
    status, message = check(api, "MQTT", decoder, config)
    assert status == 200, message
    config["clientConfiguration"]["credentials"]["password"] = "${secret:absent;type:TEXT}"
    status, message = check(api, "MQTT", decoder, config)
    assert status == 400 and "Secret 'absent'" in message
