"""ThingsBoard's downlink example chain, imported and made root: a shared-attribute change reaches the
integration downlink node and is handed to the integration (delivery itself is integrations.downlinks')."""

import copy
import json

import pytest

from integrations.tests.factories import make_downlink_converter, make_integration
from rulechains.models import RuleChain
from rulechains.tests.helpers import DOWNLINK_EXAMPLE, events_of
from tbproject.testing.factories import make_device


def test_a_shared_attribute_change_is_pushed_to_the_integration(api, tenant):
    pytest.importorskip("integrations.downlinks")  # the downlink path (issue 6, section 4)
    from integrations.models import OutgoingDownlink

    integration = make_integration(tenant, "MQTT out", downlink_converter=make_downlink_converter(tenant))
    data = copy.deepcopy(DOWNLINK_EXAMPLE)
    data["metadata"]["nodes"][5]["configuration"]["integrationId"] = str(integration.pk)
    imported = api.post("/api/ruleChain/import", data, format="json").json()
    chain_id = imported["ruleChain"]["id"]["id"]
    assert api.post(f"/api/ruleChain/{chain_id}/root").status_code == 200
    device = make_device(tenant, "sensor-1")
    res = api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/attributes/SHARED_SCOPE",
                   {"temperatureUploadFrequency": 30}, format="json")
    assert res.status_code == 200
    push = RuleChain.objects.get(pk=chain_id).nodes.get(name="Push to Integration")
    [arrived] = events_of(push, "IN")
    assert json.loads(arrived["metadata"])["deviceName"] == "sensor-1"
    assert [e["relationType"] for e in events_of(push, "OUT")] == ["Success"]
    queued = OutgoingDownlink.objects.get(integration=integration)
    assert queued.msg == {"temperatureUploadFrequency": 30} and queued.device_name == "sensor-1"
