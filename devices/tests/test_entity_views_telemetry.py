"""Time series read through an entity view: the viewed device's data, only the view's keys, only
inside [startTimeMs, endTimeMs]; a customer user reads its customer's views only."""

import pytest

from devices.models import EntityView
from devices.telemetry import Point, write_points
from tbproject.testing.factories import make_device

T0 = 1_700_000_000_000


@pytest.fixture
def device(tenant):
    device = make_device(tenant, "thermo")
    write_points([Point(device.pk, key, T0 + i * 1000, value) for i in range(10)
                  for key, value in (("temperature", 20 + i), ("humidity", 50 + i), ("secret", i))])
    return device


def make_view(tenant, device, keys=("temperature", "humidity"), start=T0 + 2000, end=T0 + 6000, **extra):
    return EntityView.objects.create(tenant=tenant, name=extra.pop("name", "v"), type="t", entity_type="DEVICE",
                                     entity_id=device.pk, start_time_ms=start, end_time_ms=end,
                                     keys={"timeseries": list(keys), "attributes": {"cs": [], "ss": [], "sh": []}},
                                     **extra)


def url(view, tail) -> str:
    return f"/api/plugins/telemetry/ENTITY_VIEW/{view.pk}/{tail}"


def test_keys_are_the_listed_ones_with_data_in_the_window(api, tenant, device):
    assert api.get(url(make_view(tenant, device, keys=("temperature", "nothing")), "keys/timeseries")).json() == [
        "temperature"]
    assert api.get(url(make_view(tenant, device, keys=(), name="none"), "keys/timeseries")).json() == []
    late = make_view(tenant, device, start=T0 + 60_000, end=0, name="late")
    assert api.get(url(late, "keys/timeseries")).json() == []


def test_latest_values_are_the_last_inside_the_window(api, tenant, device):
    view = make_view(tenant, device)
    found = api.get(url(view, "values/timeseries")).json()
    assert found == {"humidity": [{"ts": T0 + 5000, "value": "55"}], "temperature": [{"ts": T0 + 5000, "value": "25"}]}
    named = api.get(url(view, "values/timeseries?keys=temperature,secret&useStrictDataTypes=true")).json()
    assert named == {"temperature": [{"ts": T0 + 5000, "value": 25}]}
    open_ended = make_view(tenant, device, start=0, end=0, name="open")
    assert api.get(url(open_ended, "values/timeseries?keys=temperature")).json()["temperature"][0]["ts"] == T0 + 9000


def test_history_is_clipped_to_the_window_and_keys(api, tenant, device):
    view = make_view(tenant, device)
    res = api.get(url(view, f"values/timeseries?keys=temperature,secret&startTs={T0}&endTs={T0 + 100_000}"
                            "&orderBy=ASC&limit=100")).json()
    assert list(res) == ["temperature"]
    assert [p["ts"] for p in res["temperature"]] == [T0 + i * 1000 for i in range(2, 6)]
    inner = api.get(url(view, f"values/timeseries/history?keys=humidity&startTs={T0 + 3000}&endTs={T0 + 4500}"
                              "&orderBy=ASC")).json()
    assert [p["ts"] for p in inner["humidity"]] == [T0 + 3000, T0 + 4000]
    outside = api.get(url(view, f"values/timeseries/history?keys=humidity&startTs={T0 + 7000}&endTs={T0 + 9000}"))
    assert outside.json() == {}
    batch = api.post(url(view, "values/timeseries"), [{"id": 1, "key": "temperature", "startTs": T0,
                                                      "endTs": T0 + 100_000, "limit": 100}], format="json").json()
    assert [p["ts"] for p in batch[0]["data"]] == [T0 + i * 1000 for i in range(5, 1, -1)]
    unlisted = make_view(tenant, device, keys=(), name="all keys")
    res = api.get(url(unlisted, f"values/timeseries/history?keys=secret&startTs={T0}&endTs={T0 + 100_000}")).json()
    assert len(res["secret"]) == 4  # no keys listed: history of any key, still clipped


def test_a_customer_user_reads_only_its_customers_views(customer_api, tenant, device, customer):
    theirs = make_view(tenant, device, customer=customer, name="theirs")
    other = make_view(tenant, device, name="tenant's")
    assert customer_api.get(url(theirs, "keys/timeseries")).status_code == 200
    assert customer_api.get(url(other, "keys/timeseries")).status_code == 404
    assert customer_api.get(url(other, "values/timeseries")).status_code == 404
    # the device itself is not the customer's: the view is the only way to its data
    assert customer_api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries").status_code == 404


def test_bad_reads_through_a_view_are_400s_and_unknown_views_404s(api, tenant, device):
    view = make_view(tenant, device)
    assert api.get(url(view, "values/timeseries/history?keys=temperature&startTs=5&endTs=1")).status_code == 400
    assert api.get("/api/plugins/telemetry/ENTITY_VIEW/not-a-uuid/keys/timeseries").status_code == 400
    missing = "/api/plugins/telemetry/ENTITY_VIEW/4d1a3c2e-0000-4000-8000-000000000000/keys/timeseries"
    res = api.get(missing)
    assert res.status_code == 404 and "Entity view with id" in res.json()["message"]


def test_a_view_row_of_another_tenants_device_reads_nothing(api, tenant, other_tenant):
    """A row written around the API's and the admin's checks (a script, a shell): 404, no data."""
    from devices.entity_views import viewed_history, viewed_keys, viewed_latest

    theirs = make_device(other_tenant, "m-dev")
    write_points([Point(theirs.pk, "secret", T0 + i * 1000, i) for i in range(3)])
    view = make_view(tenant, theirs, keys=("secret",), start=0, end=0)
    for tail in ("keys/timeseries", "values/timeseries", "values/timeseries?keys=secret",
                 f"values/timeseries/history?keys=secret&startTs={T0}&endTs={T0 + 10_000}", "values/attributes"):
        res = api.get(url(view, tail))
        assert res.status_code == 404 and "Entity view with id" in res.json()["message"], tail
    batch = [{"id": 1, "key": "secret", "startTs": T0, "endTs": T0 + 10_000, "limit": 100}]
    assert api.post(url(view, "values/timeseries"), batch, format="json").status_code == 404
    # and the read helpers themselves, given the row
    row = EntityView.objects.get(pk=view.pk)
    assert viewed_keys(row) == [] and viewed_latest(row, ["secret"]) == {}
    assert viewed_history(EntityView.objects.get(pk=view.pk), ["secret"], start_ts=T0, end_ts=T0 + 10_000) == {}
