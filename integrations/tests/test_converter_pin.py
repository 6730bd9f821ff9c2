"""Converter versions in the pipeline (issue 21, item 1): an integration can pin a version; every
converter debug event and dead letter names the version that produced it."""

import json

import pytest

from converters.choices import EventType
from converters.models import Converter, DebugEvent
from devices.models import Device
from integrations import config_cache, dead_letters, pipeline
from integrations.models import DeadLetter
from integrations.tests.uplinks import converter, debug_all, integration, json_uplink, values
from tbproject.testing.api import assert_error

ONE = r"""
var d = JSON.parse(String.fromCharCode.apply(String, payload));
if (d.boom) throw new Error('v1 says no');
return {deviceName: d.name, deviceType: 'probe', telemetry: {t: d.t}};
"""
TWO = ONE.replace("{t: d.t}", "{t: d.t * 10}").replace("v1 says no", "v2 says no")


@pytest.fixture
def conv(tenant):
    c = converter(tenant, ONE, name="versions")
    c.configuration = {**c.configuration, "decoder": TWO}
    c.save()
    assert c.version_number == 2
    return Converter.objects.get(pk=c.pk)


def pin(api, integ, number):
    return api.post(f"/api/integration/{integ.pk}/converterVersion", {"pinnedConverterVersion": number},
                    format="json")


def test_a_pinned_integration_runs_its_version_beside_the_newest(api, tenant, conv):
    pinned, newest = integration(tenant, conv, name="pinned"), integration(tenant, conv, name="newest")
    res = pin(api, pinned, 1)
    assert res.status_code == 200, res.content
    assert res.json() == {"pinnedConverterVersion": 1, "latestConverterVersion": 2,
                          "converterId": {"entityType": "CONVERTER", "id": str(conv.pk)}}
    outcomes = pipeline.process([json_uplink(pinned, {"name": "p", "t": 2}),
                                 json_uplink(newest, {"name": "n", "t": 2})])
    assert [(o.status, o.converter_version) for o in outcomes] == [("ok", 1), ("ok", 2)]
    assert values(Device.objects.get(name="p")) == {"t": 2} and values(Device.objects.get(name="n")) == {"t": 20}
    assert api.get(f"/api/integration/{pinned.pk}/converterVersion").json()["pinnedConverterVersion"] == 1
    assert pin(api, pinned, None).json()["pinnedConverterVersion"] is None
    pipeline.process([json_uplink(pinned, {"name": "p", "t": 3})])
    assert values(Device.objects.get(name="p")) == {"t": 30}


def test_a_pin_survives_new_versions_of_the_converter(api, tenant, conv):
    integ = integration(tenant, conv)
    pin(api, integ, 2)
    conv.configuration = {**conv.configuration, "decoder": ONE.replace("{t: d.t}", "{t: -1}")}
    conv.save()
    pipeline.process([json_uplink(integ, {"name": "x", "t": 4})])
    assert values(Device.objects.get(name="x")) == {"t": 40}


def test_debug_events_and_dead_letters_name_the_converter_version(api, tenant, conv):
    debug_all(conv)
    pinned, newest = integration(tenant, conv, name="pinned"), integration(tenant, conv, name="newest")
    pin(api, pinned, 1)
    pipeline.process([json_uplink(pinned, {"name": "p", "boom": 1}), json_uplink(newest, {"name": "n", "boom": 1}),
                      json_uplink(newest, {"name": "n", "t": 1})])
    events = DebugEvent.objects.filter(entity_id=conv.pk, event_type=EventType.DEBUG_CONVERTER)
    seen = sorted((e.body["converterVersionNumber"], e.body.get("error", "")) for e in events)
    assert seen == [(1, "Error: v1 says no (line 3)"), (2, ""), (2, "Error: v2 says no (line 3)")]
    letters = {letter.integration_id: letter for letter in DeadLetter.objects.all()}
    assert letters[pinned.pk].converter_version == 1 and letters[newest.pk].converter_version == 2
    listed = api.get(f"/api/integration/{newest.pk}/deadLetters?pageSize=10&page=0").json()
    assert listed["data"][0]["converterVersionNumber"] == 2


def test_a_replay_records_the_version_that_failed_again(api, tenant, conv):
    integ = integration(tenant, conv)
    pin(api, integ, 1)
    pipeline.process([json_uplink(integ, {"name": "p", "boom": 1})])
    pin(api, integ, None)
    config_cache.CACHE.forget_now_and_on_commit()
    assert dead_letters.replay(integ) == {"replayed": 0, "failed": 1, "remaining": 0}
    letter = DeadLetter.objects.get()
    assert (letter.converter_version, letter.error, letter.attempts) == (2, "Error: v2 says no (line 3)", 2)


@pytest.mark.parametrize(("body", "message"), [
    ({"pinnedConverterVersion": 7}, "Converter version 7 doesn't exist!"),
    ({"pinnedConverterVersion": "x"}, "'x' is not a number"),
    ({"pinnedConverterVersion": True}, "must be a version number or null"),
    ({"pinnedConverterVersion": [1]}, "must be a version number or null"),
    ({}, "Request body must be a JSON object"),
    ([], "Request body must be a JSON object"),
])
def test_a_bad_pin_is_refused_and_changes_nothing(api, tenant, conv, body, message):
    integ = integration(tenant, conv)
    pin(api, integ, 1)
    res = api.post(f"/api/integration/{integ.pk}/converterVersion", body, format="json")
    assert_error(res, 400, message)
    integ.refresh_from_db()
    assert integ.pinned_converter_version == 1


def test_another_tenants_integration_cannot_be_pinned(api, mallory_api, customer_api, tenant, conv):
    integ = integration(tenant, conv)
    assert_error(pin(mallory_api, integ, 1), 404)
    assert_error(mallory_api.get(f"/api/integration/{integ.pk}/converterVersion"), 404)
    assert pin(customer_api, integ, 1).status_code == 403
    integ.refresh_from_db()
    assert integ.pinned_converter_version is None


def test_the_integration_page_shows_converter_health_and_the_pin(client, tenant_admin, tenant, conv):
    from converters import health

    integ = integration(tenant, conv, pinned_converter_version=1)
    meter = health.Meter()
    meter.add_counts(conv.pk, 40, 2, 0.004)  # 0.1 ms each
    meter.flush()
    client.force_login(tenant_admin)
    url = f"/admin/integrations/integration/{integ.pk}/change/"
    html = client.get(url).content.decode()
    assert 'data-role="converter-health"' in html and "pinned to 1 (newest 2)" in html
    assert '<td data-role="executions">40</td>' in html and '<td data-role="error-rate">5.0 %</td>' in html
    assert '<td data-role="p50">≤ 0.1 ms</td>' in html


def test_the_admin_refuses_a_pin_to_a_missing_version(client, tenant_admin, tenant, conv):
    integ = integration(tenant, conv)
    client.force_login(tenant_admin)
    url = f"/admin/integrations/integration/{integ.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("id",)}
    data.update(default_converter=str(conv.pk), pinned_converter_version="9", type="HTTP", name=integ.name,
                config_text=json.dumps(integ.configuration), additional_info="{}")
    res = client.post(url, data)
    assert res.status_code == 200
    assert res.context["adminform"].form.errors == {"pinned_converter_version": ["Converter version 9 doesn't exist!"]}
    integ.refresh_from_db()
    assert integ.pinned_converter_version is None
