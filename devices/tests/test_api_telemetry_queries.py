"""POST .../values/timeseries: ThingsBoard's batch of time-series read queries."""

from tb_pe_client.models import ReadTsKvQueryResult

from devices.telemetry import Point, write_points
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

T0 = 1_700_000_000_000


def test_it_answers_each_query_by_id(api, tenant, other_tenant):
    device = make_device(tenant, "queried")
    write_points([Point(device.pk, "t", T0 + i * 1000, float(i)) for i in range(4)])
    url = f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries"
    body = [{"id": 1, "key": "t", "startTs": T0, "endTs": T0 + 4000, "limit": 2, "order": "ASC"},
            {"id": 2, "key": "t", "startTs": T0, "endTs": T0 + 4000, "interval": 2000,
             "aggParameters": {"aggregation": "MAX"}},
            {"id": 3, "key": "nothing", "startTs": T0, "endTs": T0 + 4000}]
    res = api.post(url, body, format="json")
    assert res.status_code == 200, res.content
    first, second, third = (ReadTsKvQueryResult.from_dict(r) for r in res.json())
    assert first.query_id == 1 and [(v.ts, v.value) for v in first.data] == [(T0, "0.0"), (T0 + 1000, "1.0")]
    assert first.last_entry_ts == T0 + 1000
    assert [v.value for v in second.data] == ["3.0", "1.0"]
    assert third.data == [] and third.last_entry_ts is None
    assert api.get(url, {"keys": "t"}).json() == {"t": [{"ts": T0 + 3000, "value": "3.0"}]}  # GET: latest
    assert_error(api.post(url, [{"id": 1}], format="json"), 400, "'key'")
    assert_error(api.post(url, [{"key": "t", "startTs": T0}], format="json"), 400, "endTs")
    assert_error(api.post(url, {"key": "t"}, format="json"), 400, "array")
    foreign = make_device(other_tenant, "theirs")
    assert_error(api.post(f"/api/plugins/telemetry/DEVICE/{foreign.pk}/values/timeseries", [], format="json"), 404)
