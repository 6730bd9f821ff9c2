"""DELETE /api/plugins/telemetry/{type}/{id}/timeseries/delete: ranges, whole keys, the latest value."""

import pytest

from devices.telemetry import Point, history, latest, timeseries_keys, write_points
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

T0 = 1_700_000_000_000


@pytest.fixture
def device(tenant):
    device = make_device(tenant, "thermo-del")
    write_points([Point(device.pk, key, T0 + i * 1000, float(i)) for key in ("t", "h") for i in range(5)])
    return device


def delete(client, device, query: str):
    return client.delete(f"/api/plugins/telemetry/DEVICE/{device.pk}/timeseries/delete?{query}")


def points(device, key):
    return [ts for ts, _ in history(device.pk, [key], T0 - 1, T0 + 10_000, limit=100, order="ASC").get(key, [])]


def test_it_deletes_a_range_and_keeps_the_latest_outside_it(api, device):
    res = delete(api, device, f"keys=t&startTs={T0 + 1000}&endTs={T0 + 3000}")
    assert res.status_code == 200 and res.content == b""
    assert points(device, "t") == [T0, T0 + 3000, T0 + 4000]  # endTs itself is kept
    assert len(points(device, "h")) == 5
    assert latest(device.pk, ["t"]) == {"t": (T0 + 4000, 4.0)}


def test_deleting_the_latest_point_drops_or_rewrites_the_latest_value(api, device):
    assert delete(api, device, f"keys=t&startTs={T0 + 4000}&endTs={T0 + 5000}").status_code == 200
    assert latest(device.pk, ["t"]) == {}
    res = delete(api, device, f"keys=h&startTs={T0 + 4000}&endTs={T0 + 5000}&rewriteLatestIfDeleted=true")
    assert res.status_code == 200
    assert latest(device.pk, ["h"]) == {"h": (T0 + 3000, 3.0)}


def test_it_deletes_every_point_of_the_keys(api, device):
    assert delete(api, device, "keys=t,h&deleteAllDataForKeys=true").status_code == 200
    assert points(device, "t") == [] and timeseries_keys(device.pk) == []


def test_it_refuses_bad_parameters_and_foreign_entities(api, device, other_tenant):
    assert_error(delete(api, device, "startTs=0&endTs=1"), 400, "keys")
    assert_error(delete(api, device, "keys=t"), 400, "startTs")
    assert_error(delete(api, device, f"keys=t&startTs={T0}&endTs=x"), 400, "endTs")
    assert_error(delete(api, device, "keys=t&deleteAllDataForKeys=maybe"), 400, "deleteAllDataForKeys")
    foreign = make_device(other_tenant, "theirs")
    assert_error(delete(api, foreign, "keys=t&deleteAllDataForKeys=true"), 404)
    assert len(points(device, "t")) == 5
