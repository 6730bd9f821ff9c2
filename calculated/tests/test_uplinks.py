"""A SIMPLE field computed from telemetry that arrives through the real HTTP integration uplink path
(ingress -> queue -> converter -> batched store), on both transports of that endpoint."""

import json

import pytest

from calculated.tests.helpers import latest, save, simple, ts_arg
from devices.models import DeviceProfile
from integrations.tests.factories import make_integration
from integrations.tests.test_http_ingress import post
from integrations.tests.uplinks import converter

DECODER = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
return {deviceName: data.id, deviceType: 'thermometer', telemetry: {temperature: data.f}};
"""


@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
@pytest.mark.parametrize("transport", ["django", "asgi"])
def test_an_uplink_through_the_http_integration_computes_the_field(transport, tenant, api, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    profile = DeviceProfile.objects.create(tenant=tenant, name="thermometer")
    save(api, simple(profile, "(f - 32) / 1.8", {"f": ts_arg("temperature")}, "celsius", decimals=1))
    make_integration(tenant, "HTTP thermo", converter=converter(tenant, DECODER), routing_key=f"cf-{transport}")
    answer = post(transport, f"cf-{transport}", body=json.dumps({"id": f"th-{transport}", "f": 98.6}).encode())
    assert answer.status == 204, answer.body
    device = profile.devices.get(name=f"th-{transport}")
    assert latest(device, "temperature", "celsius") == {"temperature": 98.6, "celsius": 37.0}
