"""LORIOT uplink messages (`rx`, and `gw` with gateway details) unwrapped."""

import pytest

from converters.tests.envelopes import FRAME, raw
from converters.unwrap import NotAnUplink, UnwrapError, unwrap


def test_it_unwraps_an_rx_message():
    result = unwrap("LORIOT", raw("loriot_rx"))
    assert result.payload == FRAME
    m = result.metadata
    assert (m["eui"], m["ts"], m["fCnt"], m["fPort"], m["frequency"], m["dr"]) == (
        "A81758FFFE0523DB", 1714557600123, 1542, 5, 867500000, "SF7 BW125 4/5")
    assert (m["rssi"], m["snr"], m["toa"], m["bat"], m["ack"], m["offline"]) == (-71, 9.2, 61, 254, False, False)


def test_it_takes_the_best_gateway_of_a_gw_message():
    m = unwrap("LORIOT", raw("loriot_gw")).metadata
    assert (m["rssi"], m["snr"], m["gatewayId"], m["gatewayCount"]) == (-68, 10.5, "7276FF002E062C05", 2)
    assert (m["latitude"], m["longitude"], m["fCnt"]) == (46.21, 6.15, 1543)


def test_it_says_a_downlink_report_carries_no_uplink():
    with pytest.raises(NotAnUplink, match="'tx' message"):
        unwrap("LORIOT", raw("loriot_tx"))


def test_it_unwraps_an_encrypted_frame_to_an_empty_payload():
    result = unwrap("LORIOT", b'{"cmd": "rx", "EUI": "A81758FFFE0523DB", "port": 5, "encdata": "9f1c"}')
    assert result.payload == b"" and result.metadata["encrypted"] is True


@pytest.mark.parametrize(("body", "message"), [
    (b'{"EUI": "01"}', "'cmd' is missing"),
    (b'{"cmd": "rx", "data": "01"}', "'EUI' is missing"),
    (b'{"cmd": "rx", "EUI": "01", "data": "0g"}', "data: is not valid hex"),
])
def test_it_refuses_what_it_cannot_read(body, message):
    with pytest.raises(UnwrapError, match=message):
        unwrap("LORIOT", body)
