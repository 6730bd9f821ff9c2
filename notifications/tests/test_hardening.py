"""Review fixes: chat errors never carry a secret, edge ids are UUIDs, the host readings and RESOURCES_SHORTAGE
crossings (a mocked Slack Web API from test_chats; no real cloud)."""

import builtins
import io
import json
import logging
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from notifications import chats, resources, tasks, triggers
from notifications.models import NotificationRequest, NotificationSettings
from notifications.tests.helpers import send, template
from notifications.tests.test_chats import CHATS, chat_target, slack  # noqa: F401 (the mocked Slack fixture)
from notifications.tests.test_more_triggers import SYSADMINS
from notifications.tests.test_triggers import inbox, make_rule
from tbproject.periodic import beat_schedule
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db

SECRET = "xoxb-secret-42"


@pytest.mark.parametrize("token", [SECRET + "\n", f" {SECRET}", "xoxb secret", "xoxb-\x7fx", "xoxb-\tx",
                                   "xoxb-\u2028x"])
def test_a_bot_token_with_whitespace_or_control_characters_is_a_400(api, token):
    res = api.post("/api/notification/settings", {"deliveryMethodsConfigs": {
        "SLACK": {"method": "SLACK", "botToken": token}}}, format="json")
    assert res.status_code == 400 and "botToken" in res.json()["message"], res.content
    assert "xoxb" not in res.content.decode() and not NotificationSettings.objects.exists()


def test_a_token_in_an_exception_never_reaches_stats_logs_or_answers(api, tenant, slack, caplog,  # noqa: F811
                                                                     django_capture_on_commit_callbacks):
    # stored before the check (or by another path): the HTTP library refuses the header and quotes it
    NotificationSettings.objects.create(tenant=tenant, delivery_methods_configs={
        "SLACK": {"method": "SLACK", "botToken": SECRET + "\n"}})
    target = chat_target(api, "ops", {"type": "SLACK", "conversation": {"id": "C1"}})
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=True):
        res = send(api, [target], template(api, "chats", configuration=CHATS)["id"]["id"])
    stats = NotificationRequest.objects.get(pk=res.json()["id"]["id"]).stats
    assert stats["errors"]["SLACK"]["ops"] == "Slack error: Slack API is unreachable: ValueError"
    url = "/api/notification/slack/conversations?type=PUBLIC_CHANNEL"
    answers = [api.get(url), api.get(url + "&token=xoxb-secret-42%0A"), api.get(url + "&token=xoxb-secret-42%20x")]
    assert [a.status_code for a in answers] == [400, 400, 400]
    seen = json.dumps(stats) + caplog.text + "".join(a.content.decode() for a in answers)
    assert "secret-42" not in seen and slack.requests == []


def test_twilio_errors_name_the_exception_type_only(monkeypatch):
    def refused(*args, **kwargs):
        raise ValueError("Invalid header value b'Basic QUMxOnRvaw==\\n'")

    monkeypatch.setattr(chats, "_post", refused)
    twilio = chats._Twilio({"accountSid": "AC1", "accountToken": "tok", "numberFrom": "+1555"})
    assert twilio.send("+10001", "hi") == "Twilio is unreachable: ValueError"


@pytest.mark.parametrize("trigger, config", [
    ("EDGE_CONNECTION", {"edges": ["edge-1"], "notifyOn": ["CONNECTED"]}),
    ("EDGE_COMMUNICATION_FAILURE", {"edges": ["not-a-uuid"]}),
    ("DEVICE_ACTIVITY", {"devices": ["dev"], "notifyOn": ["ACTIVE"]}),
    ("INTEGRATION_LIFECYCLE_EVENT", {"integrations": ["x"]}),
    ("RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", {"ruleChains": ["x"]}),
])
def test_id_lists_of_a_trigger_config_must_be_uuids(api, trigger, config):
    tpl = template(api, "t", trigger, {"deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": "s",
                                                                          "body": "b"}}})
    target = chat_target(api, "to", {"type": "PLATFORM_USERS", "usersFilter": {"type": "TENANT_ADMINISTRATORS"}})
    res = api.post("/api/notification/rule", {"name": "bad", "templateId": tpl["id"], "triggerType": trigger,
                                              "triggerConfig": config, "recipientsConfig": {"targets": [target]}},
                   format="json")
    assert res.status_code == 400 and "invalid UUID" in res.json()["message"], res.content


def test_edge_ids_are_stored_as_uuids_the_client_reads(api):
    edge = uuid.uuid4()
    rule = make_rule(api, "EDGE_CONNECTION", {"edges": [str(edge).upper()], "notifyOn": ["CONNECTED"]},
                     {"type": "TENANT_ADMINISTRATORS"}, "Edge", "${eventType}")  # make_rule reads it with the client
    assert rule["triggerConfig"]["edges"] == [str(edge)]


def _fake_proc_stat(monkeypatch, line: str):
    real = builtins.open
    monkeypatch.setattr(builtins, "open", lambda path, *a, **k: io.StringIO(line + "\n") if path == "/proc/stat"
                        else real(path, *a, **k))


@pytest.mark.parametrize("previous, line, share", [
    ([0, 0], "cpu  100 0 100 700 100 0 0 0 50 50", 20),  # guest, guest_nice are already in user, nice
    ([1000, 900], "cpu  0 0 50 1000 50 0 0 0 0 0", 0),  # iowait went back: not below 0
])
def test_the_cpu_share_counts_the_first_eight_fields_and_stays_in_0_to_100(monkeypatch, previous, line, share):
    _fake_proc_stat(monkeypatch, line)
    usage, _ = resources.read(previous)
    assert usage["CPU"] == share


def _checks(monkeypatch, readings, clock=None):
    """Run one check per reading (a mocked host), ``clock`` the seconds each check runs at."""
    calls, clock = [], clock or [60 * i for i in range(len(readings))]
    for at, reading in zip(clock, readings, strict=True):
        monkeypatch.setattr(resources, "read", lambda previous, reading=reading: (calls.append(previous) or reading,
                                                                                  [100, 50]))
        monkeypatch.setattr(resources, "time", SimpleNamespace(time=lambda at=at: 1_000_000.0 + at), raising=False)
        tasks.check_resources()
    return calls


def test_a_failed_reading_keeps_the_previous_one(sysadmin, monkeypatch, django_capture_on_commit_callbacks):
    cache.clear()
    make_rule(api_as(sysadmin), "RESOURCES_SHORTAGE", {"ramThreshold": 0.8}, SYSADMINS, "s", "${resource} ${usage}")
    with django_capture_on_commit_callbacks(execute=True):
        _checks(monkeypatch, [{"CPU": 10, "RAM": 85, "STORAGE": 10}, {"CPU": 10, "RAM": None, "STORAGE": 10},
                              {"CPU": 10, "RAM": 86, "STORAGE": 10}])
    assert [text for _, text in inbox(sysadmin)] == ["RAM 85"]
    cache.clear()


def test_a_rise_that_crosses_no_threshold_notifies_nothing(sysadmin, monkeypatch):
    cache.clear()
    make_rule(api_as(sysadmin), "RESOURCES_SHORTAGE", {"cpuThreshold": 0.9}, SYSADMINS, "s", "${resource}")
    told = []
    monkeypatch.setattr(resources, "notify", told.append)
    _checks(monkeypatch, [{"CPU": 40, "RAM": 10, "STORAGE": 10}, {"CPU": 50, "RAM": 20, "STORAGE": 10},
                          {"CPU": 95, "RAM": 30, "STORAGE": 10}])
    assert [e.facts["resource"] for e in told] == ["CPU"]
    cache.clear()


def test_the_cpu_is_sampled_at_most_every_ten_seconds_and_one_check_runs_per_host(sysadmin, monkeypatch):
    cache.clear()
    make_rule(api_as(sysadmin), "RESOURCES_SHORTAGE", {"cpuThreshold": 0.9}, SYSADMINS, "s", "${resource}")
    reading = {"CPU": 10, "RAM": 10, "STORAGE": 10}
    calls = _checks(monkeypatch, [reading] * 3, clock=[0, 5, 12])
    assert calls == [None, None, [100, 50]]  # at 5 s no CPU share is read; at 12 s the sample of 0 s is used
    key = f"notifications:resources:{resources.socket.gethostname()}"
    cache.add(f"{key}:lock", 1, 60)  # another run on this host is going on
    monkeypatch.setattr(resources, "read", lambda previous: pytest.fail("a second run read the host"))
    assert tasks.check_resources() == 0
    cache.clear()


def test_the_resources_check_expires_in_the_beat_queue():
    from django_celery_beat.schedulers import ModelEntry

    from tbproject.celery import app

    name = "notifications.tasks.check_resources"
    entry = ModelEntry.from_entry(name, app=app, **beat_schedule()[name])  # as the DatabaseScheduler copies it
    assert 0 < entry.options["expires"] <= 60


def test_a_threshold_of_55_percent_fires_at_55():
    assert triggers.MATCHERS["RESOURCES_SHORTAGE"]({"cpuThreshold": 0.55}, {"resource": "CPU", "before": 50,
                                                                            "usage": 55})


def test_a_new_target_has_no_stored_configuration_to_keep(api, monkeypatch):
    from notifications.api import config

    stored = []
    real = config.kept_target
    monkeypatch.setattr(config, "kept_target", lambda posted, before: stored.append(before) or real(posted, before))
    target = chat_target(api, "ops", {"type": "SLACK", "conversation": {"id": "C1"}})
    api.post("/api/notification/target", {"id": {"entityType": "NOTIFICATION_TARGET", "id": target}, "name": "ops",
                                          "configuration": {"type": "SLACK", "conversation": {"id": "C2"}}},
             format="json")
    assert stored[0] is None and stored[1]["conversation"] == {"id": "C1"}
