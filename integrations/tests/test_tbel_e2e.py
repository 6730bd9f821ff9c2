"""TBEL converters live (issue 15): an uplink POSTed to the HTTP integration is decoded by a TBEL
converter in ThingsBoard's library style and stored; a TBEL encoder turns an attribute update into
the pending downlink; a TBEL runtime error is a dead letter with its TBEL line."""

import base64
import json

import pytest

from converters.models import Converter
from devices.models import Device
from integrations import pipeline
from integrations.models import DeadLetter, DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import attributes_msg
from integrations.tests.factories import make_integration
from integrations.tests.test_http_ingress import post
from integrations.tests.uplinks import integration, uplink, values

# The shape of ThingsBoard's library TBEL decoders: decodeToJson of the network server's JSON,
# base64ToBytes of its data, a hoisted decodePayload reading a top-level variable, foreach, switch.
DECODER = """var data = decodeToJson(payload);
var deviceName = data.deviceInfo.devEui;
var bytes = base64ToBytes(data.data);
var result = {
    deviceName: deviceName,
    deviceType: data.deviceInfo.deviceProfileName,
    telemetry: {ts: data.time, values: decodePayload(bytes)}
};
return result;

function decodePayload(input) {
    var out = {};
    var i = 0;
    while (i < input.length) {
        var channel = input[i] & 0xFF;
        switch (channel) {
            case 0x01:
                out.temperature = parseBytesToInt(input, i + 1, 2, true) / 10.0;
                i += 3;
                break;
            case 0x02:
                out.humidity = input[i + 1] & 0xFF;
                i += 2;
                break;
            default:
                raiseError("unknown channel " + channel + " of " + deviceName);
        }
    }
    return out;
}"""

ENCODER = """var payload = {};
foreach (entry : msg.entrySet()) {
    payload.put(entry.key.toUpperCase(), entry.value);
}
return {contentType: "JSON", data: JSON.stringify(payload), metadata: {topic: "down/" + metadata.deviceName}};"""


def _tbel(tenant, kind: str, script: str) -> Converter:
    field = "tbelDecoder" if kind == "UPLINK" else "tbelEncoder"
    return Converter.objects.create(tenant=tenant, name=f"tbel-{kind.lower()}", type=kind,
                                    configuration={"scriptLang": "TBEL", field: script})


def _body(dev_eui: str, frame: bytes) -> bytes:
    return json.dumps({"deviceInfo": {"devEui": dev_eui, "deviceProfileName": "th-sensor"},
                       "time": "2024-11-10T12:51:50Z", "data": base64.b64encode(frame).decode()}).encode()


@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
def test_a_tbel_decoder_stores_an_http_uplink(tenant, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    make_integration(tenant, "HTTP tbel", converter=_tbel(tenant, "UPLINK", DECODER), routing_key="tbel-up")
    answer = post("asgi", "tbel-up", body=_body("a84041", b"\x01\x00\xd7\x02\x2d"))
    assert answer.status == 204, answer.body
    device = Device.objects.get(tenant=tenant, name="a84041")
    assert device.profile.name == "th-sensor"
    assert values(device) == {"temperature": 21.5, "humidity": 45}


def test_a_tbel_error_is_a_dead_letter_naming_its_line(tenant):
    integ = integration(tenant, _tbel(tenant, "UPLINK", DECODER))
    good, bad = _body("ok-1", b"\x02\x10"), _body("bad-1", b"\x07\x00")
    outcomes = pipeline.process([uplink(integ, good), uplink(integ, bad)])
    assert [o.status for o in outcomes] == [pipeline.OK, pipeline.FAILED]
    letter = DeadLetter.objects.get()
    assert letter.stage == "convert" and "unknown channel 7 of bad-1" in letter.error, letter.error
    assert "(line 26)" in letter.error, letter.error
    assert values(Device.objects.get(tenant=tenant, name="ok-1")) == {"humidity": 16}


def test_a_tbel_encoder_makes_the_pending_downlink(tenant, django_capture_on_commit_callbacks):
    from integrations.downlinks import submit

    integ = make_integration(tenant, "MQTT tbel", kind="MQTT", downlink_converter=_tbel(tenant, "DOWNLINK", ENCODER))
    with django_capture_on_commit_callbacks(execute=True):
        submit(tenant.pk, integ.pk, attributes_msg(tenant, "dev-9", {"firmware": "2.1", "interval": 60}))
    row = OutgoingDownlink.objects.get(integration=integ)
    assert row.status == DownlinkStatus.PENDING, row.error
    assert json.loads(bytes(row.payload)) == {"FIRMWARE": "2.1", "INTERVAL": 60}
    assert row.metadata == {"topic": "down/dev-9"}
