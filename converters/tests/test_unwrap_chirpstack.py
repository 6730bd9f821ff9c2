"""ChirpStack v4 `up` events unwrapped into the device frame and the network fields."""

import json

import pytest

from converters.tests.envelopes import FRAME, doc, raw
from converters.unwrap import NotAnUplink, UnwrapError, get_unwrapper, unwrap


def test_it_unwraps_an_up_event_into_the_frame_and_the_network_fields():
    result = unwrap("CHIRPSTACK", raw("chirpstack_up"), {"integrationName": "cs"})
    assert result.payload == FRAME and result.content_type == "BINARY"
    m = result.metadata
    assert (m["eui"], m["deviceName"], m["deviceProfileName"], m["applicationName"], m["tenantName"]) == (
        "a81758fffe0523db", "ers-greenhouse-3", "ERS", "Greenhouse", "ChirpStack")
    assert (m["fPort"], m["fCnt"], m["devAddr"], m["adr"], m["dr"], m["confirmed"]) == (5, 1542, "01e5a3f7", True, 5,
                                                                                        False)
    assert (m["frequency"], m["bandwidth"], m["spreadingFactor"], m["codeRate"]) == (867500000, 125000, 7, "CR_4_5")
    assert m["ts"] == 1714557600123


def test_it_takes_radio_values_from_the_gateway_that_heard_the_device_best():
    m = unwrap("CHIRPSTACK", raw("chirpstack_up")).metadata
    assert (m["rssi"], m["snr"], m["gatewayId"], m["gatewayCount"]) == (-71, 9.25, "0016c001f1500812", 2)
    assert (m["latitude"], m["longitude"]) == (52.3702, 4.8952) and "altitude" not in m


def test_it_keeps_the_codec_result_and_tags_as_json_text():
    m = unwrap("CHIRPSTACK", raw("chirpstack_up")).metadata
    assert json.loads(m["decoded"]) == {"temperature": 22.6, "humidity": 41}
    assert json.loads(m["tags"]) == {"site": "north"}
    assert all(not isinstance(v, dict | list) for v in m.values())


def test_it_says_a_join_event_carries_no_uplink():
    with pytest.raises(NotAnUplink, match="'join' event") as join:
        unwrap("CHIRPSTACK", raw("chirpstack_join"))
    assert join.value.unwrapped.payload == b"" and join.value.unwrapped.metadata["eui"] == "a81758fffe0523db"
    with pytest.raises(NotAnUplink, match="'status' event"):
        unwrap("CHIRPSTACK", raw("chirpstack_up"), {"event": "status"})


def test_a_log_event_with_the_devices_fields_at_the_top_level_carries_no_uplink_but_names_its_device():
    event = {"devEui": "a81758fffe0523db", "deviceName": "panic-1", "applicationName": "app",
             "level": "WARNING", "code": "UPLINK_F_CNT_RETRANSMISSION", "context": {"deduplication_id": "d-1"}}
    with pytest.raises(NotAnUplink, match="'log' event") as skipped:
        unwrap("CHIRPSTACK", json.dumps(event).encode())
    assert skipped.value.unwrapped.metadata == {"eui": "a81758fffe0523db", "deviceName": "panic-1",
                                                "applicationName": "app"}
    with pytest.raises(NotAnUplink, match="'log' event") as by_metadata:
        unwrap("CHIRPSTACK", json.dumps(event).encode(), {"event": "log"})
    assert by_metadata.value.unwrapped.metadata["eui"] == "a81758fffe0523db"
    with pytest.raises(NotAnUplink, match="'integration' event") as nameless:
        unwrap("CHIRPSTACK", b'{"eventType": "x"}', {"event": "integration"})
    assert nameless.value.unwrapped is None


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "must be a JSON object"),
    (b"[1, 2]", "must be a JSON object, not list"),
    (json.dumps({"fPort": 1, "data": "AQ=="}).encode(), "deviceInfo.devEui is missing"),
    (json.dumps({**doc("chirpstack_up"), "data": "%%%"}).encode(), "data: is not valid base64"),
])
def test_it_refuses_what_it_cannot_read(body, message):
    with pytest.raises(UnwrapError, match=message):
        get_unwrapper("CHIRPSTACK")(body, {})


def test_it_unwraps_an_uplink_without_data_to_an_empty_frame():
    up = {**doc("chirpstack_up")}
    del up["data"]
    assert unwrap("CHIRPSTACK", json.dumps(up).encode()).payload == b""
