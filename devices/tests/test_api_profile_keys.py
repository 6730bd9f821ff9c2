"""`GET /api/deviceProfile/devices/keys/attributes|timeseries`: the keys a tenant's devices use."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices import profile_keys
from devices.attributes import save_attributes
from devices.models import DeviceProfile
from devices.telemetry import Point, write_points
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

ATTRS, SERIES = "/api/deviceProfile/devices/keys/attributes", "/api/deviceProfile/devices/keys/timeseries"
T0 = 1_700_000_000_000


@pytest.fixture
def world(tenant, other_tenant):
    meter = DeviceProfile.objects.create(tenant=tenant, name="meter")
    gateway = DeviceProfile.objects.create(tenant=tenant, name="gateway")
    m1, m2 = make_device(tenant, "m1", profile=meter), make_device(tenant, "m2", profile=meter)
    gw = make_device(tenant, "gw", profile=gateway)
    theirs = make_device(other_tenant, "x1")
    write_points([Point(m1.pk, "temp", T0, 21.5), Point(m2.pk, "humidity", T0, 40), Point(m2.pk, "temp", T0, 1),
                  Point(gw.pk, "rssi", T0, -70), Point(theirs.pk, "secret_series", T0, 1)])
    save_attributes(m1.pk, "SERVER_SCOPE", {"model": "T1000"}, ts=T0)
    save_attributes(m2.pk, "CLIENT_SCOPE", {"firmware": "1.2"}, ts=T0)
    save_attributes(m2.pk, "SHARED_SCOPE", {"interval": 60}, ts=T0)
    save_attributes(gw.pk, "SERVER_SCOPE", {"uplink": "lte"}, ts=T0)
    save_attributes(theirs.pk, "SERVER_SCOPE", {"secret_attr": 1}, ts=T0)
    return {"meter": meter, "gateway": gateway, "theirs": DeviceProfile.objects.get(tenant=other_tenant)}


def test_it_lists_the_attribute_keys_of_every_scope_sorted(api, world):
    res = api.get(ATTRS, {"deviceProfileId": str(world["meter"].pk)})
    assert res.status_code == 200 and res.json() == ["firmware", "interval", "model"]
    assert api.get(ATTRS).json() == ["firmware", "interval", "model", "uplink"]


def test_it_lists_the_time_series_keys_of_a_profile_or_of_all(api, world):
    assert api.get(SERIES, {"deviceProfileId": str(world["meter"].pk)}).json() == ["humidity", "temp"]
    assert api.get(SERIES, {"deviceProfileId": str(world["gateway"].pk)}).json() == ["rssi"]
    assert api.get(SERIES).json() == ["humidity", "rssi", "temp"]


def test_a_profile_without_devices_has_no_keys(api, tenant, world):
    empty = DeviceProfile.objects.create(tenant=tenant, name="empty")
    assert api.get(SERIES, {"deviceProfileId": str(empty.pk)}).json() == []
    assert api.get(ATTRS, {"deviceProfileId": str(empty.pk)}).json() == []


def test_it_reads_the_keys_in_one_query_each(api, world):
    with CaptureQueriesContext(connection) as ctx:
        profile_keys.attribute_keys(world["meter"].tenant_id)
    assert len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        profile_keys.timeseries_keys(world["meter"].tenant_id, world["meter"].pk)
    assert len([q for q in ctx.captured_queries if "ts_kv_latest" in q["sql"]]) == 1


def test_it_samples_at_most_a_fixed_number_of_devices(api, world):
    with mock.patch.object(profile_keys, "SAMPLE_DEVICES", 1):
        assert len(api.get(ATTRS, {"deviceProfileId": str(world["meter"].pk)}).json()) < 3


def test_another_tenants_profile_is_a_404_and_their_keys_never_show(api, mallory_api, world):
    for url in (ATTRS, SERIES):
        assert_error(api.get(url, {"deviceProfileId": str(world["theirs"].pk)}), 404)
        assert "secret" not in str(api.get(url).json())
        assert mallory_api.get(url).json() in (["secret_attr"], ["secret_series"])


def test_a_malformed_profile_id_is_a_400(api, world):
    assert_error(api.get(ATTRS, {"deviceProfileId": "nope"}), 400, "Invalid UUID")
    assert_error(api.get(SERIES, {"deviceProfileId": "nope"}), 400, "Invalid UUID")


def test_customer_users_may_not_list_profile_keys(customer_api, world):
    assert_error(customer_api.get(ATTRS), 403)
    assert_error(customer_api.get(SERIES), 403)
