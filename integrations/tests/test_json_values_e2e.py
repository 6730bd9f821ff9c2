"""Issue 14 end to end: a real POST to the HTTP integration whose converter returns an object value,
an array value and an ISO-8601 timestamp; the stored JSON values and the millisecond timestamp come
back from ThingsBoard's telemetry and attribute read APIs in ThingsBoard's shape."""

import json

import pytest

from devices.models import Device
from integrations.tests.factories import make_integration
from integrations.tests.test_http_ingress import post
from integrations.tests.uplinks import converter

TS = 1_731_243_110_250  # 2024-11-10T12:51:50.250Z

DECODER = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
return {
  deviceName: data.id, deviceType: 'tracker',
  attributes: {config: {interval: data.every, bands: ['eu868', 'as923']}},
  telemetry: {ts: data.time, values: {position: {lat: data.lat, lon: data.lon}, sats: data.sats, speed: data.speed}}
};
"""


@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
@pytest.mark.parametrize("transport", ["django", "asgi"])
def test_an_uplink_stores_json_values_at_an_iso_time_and_reads_them_back(transport, tenant, api, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    make_integration(tenant, "HTTP json", converter=converter(tenant, DECODER), routing_key=f"json-{transport}")
    body = {"id": f"tracker-{transport}", "every": 60, "time": "2024-11-10T12:51:50.250Z", "lat": 52.37,
            "lon": 4.89, "sats": [3, 7, 12], "speed": 12.5}
    answer = post(transport, f"json-{transport}", body=json.dumps(body).encode())
    assert answer.status == 204, answer.body
    device = Device.objects.get(tenant=tenant, name=f"tracker-{transport}")
    base = f"/api/plugins/telemetry/DEVICE/{device.pk}"

    # ThingsBoard's default: every value as a string, a JSON value as its JSON text.
    latest = api.get(f"{base}/values/timeseries", {"keys": "position,sats,speed"}).json()
    assert latest == {"position": [{"ts": TS, "value": '{"lat":52.37,"lon":4.89}'}],
                      "sats": [{"ts": TS, "value": "[3,7,12]"}], "speed": [{"ts": TS, "value": "12.5"}]}
    # useStrictDataTypes=true: JSON values as JSON, numbers as numbers.
    strict = api.get(f"{base}/values/timeseries", {"keys": "position,sats", "useStrictDataTypes": "true"}).json()
    assert strict == {"position": [{"ts": TS, "value": {"lat": 52.37, "lon": 4.89}}],
                      "sats": [{"ts": TS, "value": [3, 7, 12]}]}
    history = api.get(f"{base}/values/timeseries", {"keys": "position", "startTs": TS - 1, "endTs": TS + 1,
                                                     "useStrictDataTypes": "true"}).json()
    assert history == {"position": [{"ts": TS, "value": {"lat": 52.37, "lon": 4.89}}]}
    # Attributes come back with their JSON value, as ThingsBoard returns them.
    attributes = api.get(f"{base}/values/attributes/SERVER_SCOPE", {"keys": "config"}).json()
    assert [(a["key"], a["value"]) for a in attributes] == [("config", {"interval": 60, "bands": ["eu868", "as923"]})]
    assert sorted(api.get(f"{base}/keys/timeseries").json()) == ["position", "sats", "speed"]
