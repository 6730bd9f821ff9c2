"""The serve command (`make run`): migrate, demo data, banner, periodic thread, then daphne."""

import io

import pytest
from django.core.management import call_command

from tbproject.management.commands import serve
from tenants.models import User


@pytest.fixture
def no_daphne(monkeypatch):
    started: dict = {}
    monkeypatch.setattr(serve, "run_daphne", lambda host, port: started.update(host=host, port=port))
    return started


@pytest.fixture
def runners(monkeypatch):
    made = []

    class FakeRunner:
        def __init__(self):
            self.started = self.stopped = False
            made.append(self)

        def start(self):
            self.started = True

        def stop(self):
            self.stopped = True

    monkeypatch.setattr(serve, "PeriodicRunner", FakeRunner)
    return made


@pytest.fixture(autouse=True)
def listener_hosts(monkeypatch):
    """The integration host thread, faked: its real behaviour is tested in integrations/tests."""
    made = []

    class FakeHost:
        stopped = False

        def stop(self):
            self.stopped = True

    def start():
        made.append(FakeHost())
        return made[-1]

    monkeypatch.setattr(serve, "start_integration_host", start)
    return made


@pytest.fixture(autouse=True)
def device_mqtt_hosts(monkeypatch):
    """The device MQTT transport's thread, faked (port 1883 is not the tests'): transports/tests test it."""
    made = []

    class FakeTransport:
        stopped, error, port = False, None, 1883

        def __init__(self, host):
            self.host = host

        def stop(self):
            self.stopped = True

    monkeypatch.setattr(serve, "start_device_mqtt", lambda host: made.append(FakeTransport(host)) or made[-1])
    return made


@pytest.fixture(autouse=True)
def device_coap_hosts(monkeypatch):
    """The device CoAP transport's thread, faked (port 5683 is not the tests'): transports/tests test it."""
    made = []

    class FakeTransport:
        stopped, error, port = False, None, 5683

        def __init__(self, host):
            self.host = host

        def stop(self):
            self.stopped = True

    monkeypatch.setattr(serve, "start_device_coap", lambda host: made.append(FakeTransport(host)) or made[-1])
    return made


@pytest.mark.django_db(transaction=True)
def test_it_prepares_the_database_prints_the_logins_and_serves(no_daphne, runners, settings, monkeypatch):
    settings.LOAD_DEMO_DATA, settings.REDIS_URL = True, ""
    monkeypatch.setenv("PORT", "18123")
    out = io.StringIO()
    call_command("serve", "--host", "0.0.0.0", stdout=out, verbosity=0)
    text = out.getvalue()
    assert no_daphne == {"host": "0.0.0.0", "port": 18123}
    assert "http://127.0.0.1:18123/admin/" in text and "http://127.0.0.1:18123/swagger-ui/" in text
    for email, password in (("sysadmin@thingsboard.org", "sysadmin"), ("tenant@thingsboard.org", "tenant"),
                            ("customer@thingsboard.org", "customer")):
        assert f"{email} / {password}" in text
        assert User.objects.filter(email=email).exists()
    assert len(runners) == 1 and runners[0].started and runners[0].stopped


@pytest.mark.django_db(transaction=True)
def test_it_leaves_periodic_jobs_to_beat_with_redis_and_skips_demo_data_when_told(no_daphne, runners, settings):
    settings.LOAD_DEMO_DATA, settings.REDIS_URL = False, "redis://127.0.0.1:6379/0"
    out = io.StringIO()
    call_command("serve", "--port", "18124", stdout=out, verbosity=0)
    assert no_daphne == {"host": "127.0.0.1", "port": 18124}
    assert runners == []
    assert not User.objects.exists()
    assert "Demo logins" not in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_hosts_listener_integrations_unless_told_not_to(no_daphne, runners, listener_hosts, settings):
    settings.LOAD_DEMO_DATA, settings.RUN_INTEGRATIONS_IN_WEB = False, True
    out = io.StringIO()
    call_command("serve", "--port", "18125", stdout=out, verbosity=0)
    assert len(listener_hosts) == 1 and listener_hosts[0].stopped
    assert "MQTT integrations in this process" in out.getvalue()

    settings.RUN_INTEGRATIONS_IN_WEB = False
    out = io.StringIO()
    call_command("serve", "--port", "18126", stdout=out, verbosity=0)
    assert len(listener_hosts) == 1
    assert "MQTT integrations by runintegrations" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_device_mqtt_transport_unless_told_not_to(no_daphne, runners, device_mqtt_hosts, settings,
                                                              monkeypatch):
    settings.LOAD_DEMO_DATA, settings.RUN_DEVICE_MQTT_IN_WEB, settings.DEVICE_MQTT_PORT = False, True, 11883
    monkeypatch.delenv("DEVICE_MQTT_BIND_ADDRESS", raising=False)
    out, err = io.StringIO(), io.StringIO()
    call_command("serve", "--port", "18127", stdout=out, stderr=err, verbosity=0)
    assert len(device_mqtt_hosts) == 1 and device_mqtt_hosts[0].stopped
    # on the web server's host (127.0.0.1 by default), not on every interface as rundevicemqtt
    assert device_mqtt_hosts[0].host == "127.0.0.1"
    assert "Device MQTT 127.0.0.1:11883" in out.getvalue() and err.getvalue() == ""

    call_command("serve", "--host", "10.1.2.3", "--port", "18127", stdout=io.StringIO(), verbosity=0)
    assert device_mqtt_hosts[-1].host == "10.1.2.3"
    settings.DEVICE_MQTT_BIND_ADDRESS = "0.0.0.0"  # set explicitly: it wins
    out = io.StringIO()
    call_command("serve", "--port", "18127", stdout=out, verbosity=0)
    assert device_mqtt_hosts[-1].host == "0.0.0.0" and "Device MQTT 0.0.0.0:11883" in out.getvalue()

    settings.RUN_DEVICE_MQTT_IN_WEB = False
    out = io.StringIO()
    call_command("serve", "--port", "18128", stdout=out, verbosity=0)
    assert len(device_mqtt_hosts) == 3 and "Device MQTT" not in out.getvalue()


def test_every_test_that_starts_a_real_serve_leaves_ports_1883_and_5683_alone():
    """CI runs suites side by side: a `manage.py serve` started by a test must not take the device MQTT port nor
    the device CoAP one."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    starters = [path for folder in ("tests", "bench", *(p.parent.name for p in root.glob("*/tests")))
                for path in (root / folder).rglob("*.py")
                if '"manage.py", "serve"' in path.read_text(errors="replace")]
    assert starters, "no test starts serve: the search is wrong"
    for setting in ("RUN_DEVICE_MQTT_IN_WEB", "RUN_DEVICE_COAP_IN_WEB"):
        assert [str(p.relative_to(root)) for p in starters if setting not in p.read_text()] == [], setting


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_device_coap_transport_unless_told_not_to(no_daphne, runners, device_coap_hosts, settings,
                                                              monkeypatch):
    settings.LOAD_DEMO_DATA, settings.RUN_DEVICE_COAP_IN_WEB, settings.DEVICE_COAP_PORT = False, True, 15683
    monkeypatch.delenv("DEVICE_COAP_BIND_ADDRESS", raising=False)
    out = io.StringIO()
    call_command("serve", "--host", "10.1.2.3", "--port", "18129", stdout=out, verbosity=0)
    assert len(device_coap_hosts) == 1 and device_coap_hosts[0].stopped
    assert device_coap_hosts[0].host == "10.1.2.3" and "Device CoAP coap://10.1.2.3:15683" in out.getvalue()

    settings.RUN_DEVICE_COAP_IN_WEB = False
    out = io.StringIO()
    call_command("serve", "--port", "18130", stdout=out, verbosity=0)
    assert len(device_coap_hosts) == 1 and "Device CoAP" not in out.getvalue()
