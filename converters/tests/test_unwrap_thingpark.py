"""Actility ThingPark / ThingPark Enterprise `DevEUI_uplink` documents unwrapped."""

import pytest

from converters.tests.envelopes import FRAME, raw
from converters.unwrap import UNWRAPPERS, NotAnUplink, UnwrapError, get_unwrapper, unwrap


@pytest.mark.parametrize("kind", ["THINGPARK", "TPE"])
def test_it_unwraps_a_devEUI_uplink(kind):
    result = unwrap(kind, raw("thingpark_uplink"))
    assert result.payload == FRAME
    m = result.metadata
    assert (m["eui"], m["fPort"], m["fCnt"], m["devAddr"], m["ts"]) == (
        "A81758FFFE0523DB", 5, 1542, "0405F519", 1714557600250)
    assert (m["rssi"], m["snr"], m["spreadingFactor"], m["frequency"], m["gatewayId"], m["gatewayCount"]) == (
        -74.0, 8.75, 7, 868.1, "100019D4", 2)
    assert (m["latitude"], m["longitude"], m["subBand"], m["channel"], m["adr"]) == (
        48.874638, 2.333026, "G1", "LC2", 1)


def test_it_says_a_notification_carries_no_uplink():
    with pytest.raises(NotAnUplink, match="'DevEUI_notification'"):
        unwrap("THINGPARK", raw("thingpark_notification"))


@pytest.mark.parametrize(("body", "message"), [
    (b'{"foo": 1}', "DevEUI_uplink is missing"),
    (b'{"DevEUI_uplink": {"FPort": 1}}', "DevEUI is missing"),
    (b'{"DevEUI_uplink": {"DevEUI": "01", "payload_hex": "xyz"}}', "not valid hex"),
])
def test_it_refuses_what_it_cannot_read(body, message):
    with pytest.raises(UnwrapError, match=message):
        unwrap("TPE", body)


def test_the_table_covers_the_six_typed_integration_types_and_nothing_else():
    assert sorted(UNWRAPPERS.kinds()) == ["CHIRPSTACK", "LORIOT", "THINGPARK", "TPE", "TTI", "TTN"]
    assert get_unwrapper("HTTP") is None and get_unwrapper(None) is None
    assert unwrap("MQTT", b'{"a": 1}').payload == b'{"a": 1}'
