"""What the writers' hook, rolling arguments and deletes cost, and the bad input the API and admin refuse."""

import json
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from calculated import arguments, config, index, limits, receivers
from calculated.models import CalculatedField
from calculated.tests.helpers import save, simple, ts_arg
from devices import data_events
from devices.telemetry import Point, write_points
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(monkeypatch):
    sent = []
    monkeypatch.setattr(receivers, "_dispatch", lambda *args: sent.append(args))
    return sent


def test_writes_of_a_tenant_without_fields_queue_nothing(api, tenant, other_tenant, dispatched,
                                                         django_capture_on_commit_callbacks):
    save(api, simple(make_device(tenant, "with-fields"), "a", {"a": ts_arg("a")}))
    theirs = make_device(other_tenant, "no-fields")
    index.tenants_with_fields()
    index.all_fields()
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            for i in range(5):
                write_points([Point(theirs.pk, "a", 1000 + i, i)], tenant_id=other_tenant.pk)  # the key of A's field
                write_points([Point(theirs.pk, "x", 1000 + i, i)])  # no tenant said: the fallback filters by key
    assert dispatched == []
    assert not [q for q in queries.captured_queries if "calculated" in q["sql"] or "devices_device" in q["sql"]]


def test_the_rule_engine_and_device_api_writers_say_the_tenant(tenant):
    from rulechains.nodes.actions import SaveAttributesNode, SaveTimeseriesNode

    seen = []

    def spy(tenant_id, kind, rows):
        seen.append(tenant_id)

    data_events.subscribe(spy)
    try:
        device = make_device(tenant, "d")
        SaveTimeseriesNode.write(None, [Point(device.pk, "t", 1, 1)], tenant.pk)
        SaveAttributesNode.write(None, [(device.pk, "SERVER_SCOPE", "k", 1, 1)], tenant.pk)
    finally:
        data_events.unsubscribe(spy)
    assert seen == [tenant.pk, tenant.pk]


def test_writes_of_keys_no_field_uses_queue_nothing(api, tenant, dispatched, django_capture_on_commit_callbacks):
    device, other, referenced = (make_device(tenant, n) for n in ("with-fields", "plain", "referenced"))
    ref = {"refEntityKey": {"key": "r", "type": "TS_LATEST"},
           "refEntityId": {"entityType": "DEVICE", "id": str(referenced.pk)}}
    save(api, simple(device, "a + r", {"a": ts_arg("a"), "r": ref}))
    assert receivers.listener(tenant.pk, data_events.TELEMETRY, [(other.pk, "unrelated", 1, 1)]) is None
    assert receivers.listener(tenant.pk, data_events.TELEMETRY, [(other.pk, "r", 1, 1)]) is None  # not the named one
    assert receivers.listener(tenant.pk, data_events.ATTRIBUTES, [(device.pk, "SERVER_SCOPE", "a")]) is None
    work = receivers.listener(tenant.pk, data_events.TELEMETRY,
                              [(referenced.pk, "r", 1, 1), (other.pk, "a", 1, 1), (other.pk, "zzz", 1, 1)])
    assert work.args[1] == sorted([(str(referenced.pk), "TS", "r", None), (str(other.pk), "TS", "a", None)])
    assert receivers.listener(None, data_events.TELEMETRY, [(other.pk, "zzz", 1, 1)]) is None
    assert receivers.listener(None, data_events.TELEMETRY, [(other.pk, "a", 1, 1)]) is not None


def _rolling_field(tenant, profile_id, key="t", window=60_000, limit=10):
    spec = config.check_configuration("SCRIPT", {
        "arguments": {"r": {"refEntityKey": {"key": key, "type": "TS_ROLLING"}, "limit": limit, "timeWindow": window}},
        "expression": "return {};", "output": {"type": "TIME_SERIES"}})
    return index.Field(uuid.uuid4(), tenant.pk, "f", "DEVICE_PROFILE", profile_id, 1, spec, False, 0)


def test_rolling_arguments_are_read_in_one_query_for_many_entities(tenant, django_assert_max_num_queries):
    devices = [make_device(tenant, f"d{i}") for i in range(30)]
    write_points([Point(d.pk, "t", ts, i * 100 + ts) for i, d in enumerate(devices) for ts in (1, 2, 3, 50_000)])
    field = _rolling_field(tenant, devices[0].profile_id, window=10_000, limit=2)
    with django_assert_max_num_queries(2):  # the key's id (cached after) and the values
        values = arguments.load(field, [d.pk for d in devices], 55_000)
    assert [p for p in values[devices[3].pk]["r"].points] == [(50_000, 50_300)]
    older = _rolling_field(tenant, devices[0].profile_id, window=60_000, limit=2)
    assert arguments.load(older, [devices[3].pk], 55_000)[devices[3].pk]["r"].points == ((3, 303), (50_000, 50_300))


def test_a_run_reads_each_source_and_key_once(tenant):
    devices = [make_device(tenant, f"d{i}") for i in range(5)]
    write_points([Point(d.pk, "t", ts, ts) for d in devices for ts in (1, 2, 3)])
    fields = [_rolling_field(tenant, devices[0].profile_id, window=w, limit=n) for w, n in ((10, 1), (100, 3), (50, 2))]
    cache = arguments.RollingCache(10)
    with CaptureQueriesContext(connection) as queries:
        cache.prefetch([(f, [d.pk for d in devices]) for f in fields])
        loaded = [arguments.load(f, [d.pk for d in devices], 10, cache) for f in fields]
    assert len([q for q in queries.captured_queries if "ts_kv" in q["sql"]]) == 1
    assert [v[devices[0].pk]["r"].points for v in loaded] == [((3, 3),), ((1, 1), (2, 2), (3, 3)), ((2, 2), (3, 3))]


BAD_BODIES = [
    lambda body: body.update(entityId={**body["entityId"], "entityType": ["DEVICE"]}),
    lambda body: body.update(entityId={**body["entityId"], "entityType": {"a": 1}}),
    lambda body: body.update(additionalInfo={"description": "x\x00y"}),
    lambda body: body["configuration"].update(unknownKey={"kept": "x\x00"}),
    lambda body: body["configuration"]["arguments"]["a"].update(defaultValue=10**400),
    lambda body: body["configuration"]["arguments"]["a"].update(defaultValue=True),
    lambda body: body["configuration"]["arguments"]["a"].update(defaultValue={"x": 1}),
    lambda body: body["configuration"]["arguments"]["a"].update(defaultValue="x\x00"),
]


@pytest.mark.parametrize("spoil", range(len(BAD_BODIES)))
def test_the_api_refuses_bad_bodies_with_a_400(api, tenant, spoil):
    body = simple(make_device(tenant, "d"), "a", {"a": ts_arg("a")})
    BAD_BODIES[spoil](body)
    res = api.post("/api/calculatedField", json.dumps(body), content_type="application/json")
    assert res.status_code == 400, res.content
    assert not CalculatedField.objects.exists()


def test_finite_default_values_are_taken(api, tenant):
    body = simple(make_device(tenant, "d"), "a", {"a": ts_arg("a", defaultValue=1.5)})
    save(api, body)


@pytest.mark.parametrize("query", ["entityType=%00", "entityType=NOPE", "name=%00", "name=a,%00"])
def test_the_list_refuses_bad_parameters_with_a_400(api, tenant, query):
    res = api.get(f"/api/calculatedFields?pageSize=10&page=0&{query}")
    assert res.status_code == 400, res.content


def test_limits_are_read_through_the_tenants_profile_helper(tenant):
    from tenants.models import TenantProfile

    tenant.tenant_profile = TenantProfile.objects.create(name="limits", profile_data={"configuration": {
        "maxCalculatedFieldsPerEntity": 0, "maxArgumentsPerCF": "7", "maxDataPointsPerRollingArg": -3}})
    tenant.save()
    found = limits.limits_of(tenant.pk)
    assert (found.fields_per_entity, found.arguments_per_field, found.points_per_rolling_argument) == (0, 7, 1000)


def test_deleting_a_device_of_a_tenant_without_fields_costs_no_delete(api, tenant, other_tenant):
    save(api, simple(make_device(tenant, "with-fields"), "a", {"a": ts_arg("a")}))
    index.tenants_with_fields()
    theirs = make_device(other_tenant, "no-fields")
    with CaptureQueriesContext(connection) as queries:
        theirs.delete()
    assert not [q for q in queries.captured_queries if "calculated_calculatedfield" in q["sql"]]
    ours = CalculatedField.objects.get(tenant=tenant)
    ours_device = ours.entity_id
    from devices.models import Device

    Device.objects.get(pk=ours_device).delete()
    assert not CalculatedField.objects.exists()


def test_a_sysadmin_adds_a_field_only_as_checked(sysadmin, tenant):
    device = make_device(tenant, "d")
    client = Client()
    client.force_login(sysadmin)
    form = {"name": "x", "kind": "SIMPLE", "entity_type": "DEVICE", "entity_id": str(device.pk),
            "configuration": '{"arguments": {}}', "configuration_version": "0",
            "debug_all_enabled_until": "0", "additional_info": "{}"}
    res = client.post("/admin/calculated/calculatedfield/add/", form)  # no tenant chosen
    assert res.status_code == 200 and not CalculatedField.objects.exists()
    res = client.post("/admin/calculated/calculatedfield/add/", {**form, "tenant": str(tenant.pk)})
    assert res.status_code == 200 and not CalculatedField.objects.exists()  # no arguments: refused as the API does
    good = '{"arguments": {"a": {"refEntityKey": {"key": "a", "type": "TS_LATEST"}}}, "expression": "a", ' \
           '"output": {"type": "TIME_SERIES", "name": "o"}}'
    res = client.post("/admin/calculated/calculatedfield/add/",
                      {**form, "tenant": str(tenant.pk), "configuration": good})
    assert res.status_code == 302, res.content.decode()[-1500:]
    assert CalculatedField.objects.get().tenant_id == tenant.pk
