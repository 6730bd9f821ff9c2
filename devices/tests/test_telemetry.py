"""The telemetry writer and reads, on whichever database the suite runs against."""

import uuid

import pytest
from django.db import connection

from devices.telemetry import Point, history, latest, timeseries_keys, write_points

T0 = 1_700_000_000_000


def stored_rows(entity_id) -> int:
    eid = entity_id if connection.vendor == "postgresql" else entity_id.hex
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ts_kv WHERE entity_id = %s", [eid])
        return cur.fetchone()[0]


@pytest.fixture
def eid(db):
    return uuid.uuid4()


def test_it_stores_each_type_and_reads_latest_back(eid):
    values = {"on": True, "count": 42, "temp": 21.5, "name": "pump", "cfg": {"a": [1, 2]}, "big": 2**70}
    written = write_points(Point(eid, k, T0, v) for k, v in values.items())
    assert written == len(values)
    got = latest(eid)
    assert {k: v for k, (ts, v) in got.items()} == {**values, "big": float(2**70)}
    assert all(ts == T0 for ts, _ in got.values())
    assert type(got["count"][1]) is int and type(got["on"][1]) is bool


def test_it_is_idempotent_on_entity_key_and_ts_with_the_last_write_winning(eid):
    write_points([Point(eid, "temp", T0, 1.0), Point(eid, "temp", T0 + 1, 2.0)])
    write_points([Point(eid, "temp", T0, 9.0)])  # a redelivery with a corrected value
    assert stored_rows(eid) == 2
    assert history(eid, ["temp"], T0, T0 + 10, order="ASC") == {"temp": [(T0, 9.0), (T0 + 1, 2.0)]}


def test_it_keeps_the_last_of_duplicates_within_one_batch(eid):
    write_points([Point(eid, "temp", T0, 1.0), Point(eid, "temp", T0, 3.0)])
    assert stored_rows(eid) == 1
    assert latest(eid, ["temp"]) == {"temp": (T0, 3.0)}


def test_it_never_moves_latest_backwards(eid):
    write_points([Point(eid, "temp", T0 + 100, 5.0)])
    write_points([Point(eid, "temp", T0, 1.0)])  # a late, older point
    assert latest(eid, ["temp"]) == {"temp": (T0 + 100, 5.0)}
    assert stored_rows(eid) == 2


def test_it_lists_keys_and_filters_latest_by_key(eid):
    write_points([Point(eid, "b", T0, 1), Point(eid, "a", T0, 2)])
    assert timeseries_keys(eid) == ["a", "b"]
    assert latest(eid, ["a", "unknown"]) == {"a": (T0, 2)}
    assert latest(eid, ["unknown"]) == {}


def test_it_reads_history_in_range_with_limit_and_order(eid):
    write_points(Point(eid, "t", T0 + i, i) for i in range(10))
    assert history(eid, ["t"], T0 + 2, T0 + 6, order="ASC")["t"] == [(T0 + i, i) for i in range(2, 6)]
    assert history(eid, ["t"], T0, T0 + 10, limit=3)["t"] == [(T0 + 9, 9), (T0 + 8, 8), (T0 + 7, 7)]
    assert history(eid, ["t", "nope"], T0 + 100, T0 + 200) == {}


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        ("AVG", [(T0 + 5, 2.0), (T0 + 15, 12.0)]),
        ("MIN", [(T0 + 5, 0), (T0 + 15, 10)]),
        ("MAX", [(T0 + 5, 4), (T0 + 15, 14)]),
        ("SUM", [(T0 + 5, 10), (T0 + 15, 60)]),
        ("COUNT", [(T0 + 5, 5), (T0 + 15, 5)]),
    ],
)
def test_it_aggregates_in_intervals_reported_at_their_middle(eid, agg, expected):
    write_points(Point(eid, "t", T0 + i, i) for i in [*range(5), *range(10, 15)])
    assert history(eid, ["t"], T0, T0 + 20, agg=agg, interval=10, order="ASC") == {"t": expected}


def test_it_averages_mixed_longs_and_doubles(eid):
    write_points([Point(eid, "t", T0, 1), Point(eid, "t", T0 + 1, 2.5)])
    assert history(eid, ["t"], T0, T0 + 10, agg="AVG", interval=10) == {"t": [(T0 + 5, 1.75)]}
    assert history(eid, ["t"], T0, T0 + 10, agg="MAX", interval=10) == {"t": [(T0 + 5, 2.5)]}


def test_it_keeps_entities_apart(db):
    a, b = uuid.uuid4(), uuid.uuid4()
    write_points([Point(a, "t", T0, 1), Point(b, "t", T0, 2)])
    assert latest(a) == {"t": (T0, 1)}
    assert latest(b) == {"t": (T0, 2)}


def test_it_refuses_points_no_layout_can_store_before_writing_any(eid):
    good = Point(eid, "ok", T0, 1)
    for bad in (Point(eid, "t", -1, 1), Point(eid, "t", 2**63, 1), Point(eid, "", T0, 1),
                Point(eid, "t", T0, "a\x00b"), Point(eid, "t", T0, {"x": float("inf")}),
                Point(eid, "t", T0, "\ud800")):
        with pytest.raises(ValueError):
            write_points([good, bad])
    assert stored_rows(eid) == 0


def test_it_refuses_an_aggregation_without_an_interval(eid):
    with pytest.raises(ValueError, match="interval"):
        history(eid, ["t"], T0, T0 + 10, agg="AVG", interval=0)


def test_deleting_a_device_removes_its_telemetry_and_attributes(tenant):
    from devices.attributes import get_attributes, save_attributes
    from devices.models import Device, DeviceProfile

    device = Device.objects.create(tenant=tenant, name="d1", profile=DeviceProfile.objects.get(tenant=tenant))
    write_points([Point(device.pk, "t", T0, 1)])
    save_attributes(device.pk, "SERVER_SCOPE", {"a": 1})
    device_id = device.pk
    device.delete()
    assert stored_rows(device_id) == 0
    assert latest(device_id) == {}
    assert get_attributes(device_id) == []
