"""The Things Stack v3 uplink messages (TTN and TTI share the format) unwrapped."""

import json

import pytest

from converters.tests.envelopes import FRAME, doc, raw
from converters.unwrap import NotAnUplink, UnwrapError, get_unwrapper, unwrap


@pytest.mark.parametrize("kind", ["TTN", "TTI"])
def test_it_unwraps_an_uplink_message(kind):
    result = unwrap(kind, raw("ttn_up"))
    assert result.payload == FRAME
    m = result.metadata
    assert (m["eui"], m["deviceId"], m["applicationId"], m["joinEui"], m["devAddr"]) == (
        "A81758FFFE0523DB", "eui-a81758fffe0523db", "greenhouse", "0000000000000000", "260B1F6A")
    assert (m["fPort"], m["fCnt"], m["frequency"], m["bandwidth"], m["spreadingFactor"]) == (
        5, 1542, "868500000", 125000, 7)
    assert "codeRate" not in m  # as in ThingsBoard's library results: lora.coding_rate is not taken
    assert (m["netId"], m["tenantId"], m["clusterId"], m["clusterAddress"]) == (
        "000013", "ttn", "eu1", "eu1.cloud.thethings.network")
    assert (m["consumedAirtime"], m["ts"]) == ("0.061696s", 1714557600400)
    assert json.loads(m["decoded"]) == {"temperature": 22.6, "humidity": 41}


def test_it_takes_radio_values_and_location_from_the_best_gateway():
    m = unwrap("TTN", raw("ttn_up")).metadata
    assert (m["rssi"], m["snr"], m["channel"], m["gatewayId"], m["gatewayEui"], m["gatewayCount"]) == (
        -58, 11.25, 2, "roof-gw", "B827EBFFFE6F1A2B", 2)
    assert (m["latitude"], m["longitude"], m["altitude"]) == (51.9225, 4.4792, 30)


def test_it_reads_an_event_stream_wrapper_too():
    wrapped = {"name": "as.up.data.forward", "time": "2024-05-01T10:00:00Z", "data": doc("ttn_up")}
    assert unwrap("TTI", json.dumps(wrapped).encode()).payload == FRAME


def test_it_says_a_join_accept_carries_no_uplink():
    with pytest.raises(NotAnUplink, match="'join_accept' message"):
        unwrap("TTN", raw("ttn_join"))


@pytest.mark.parametrize(("body", "message"), [
    ({"uplink_message": {}}, "end_device_ids is missing"),
    ({"end_device_ids": {}, "uplink_message": {"f_port": 1}}, "neither dev_eui nor device_id"),
    ({"end_device_ids": {"dev_eui": "01"}, "uplink_message": {"frm_payload": 5}}, "must be base64 text"),
])
def test_it_refuses_what_it_cannot_read(body, message):
    with pytest.raises(UnwrapError, match=message):
        get_unwrapper("TTN")(json.dumps(body).encode(), {})
