"""TBEL decode throughput beside the same decoder written in JavaScript, in the same run.

Two decoders, each written both ways: a binary frame decoder (masked bytes, shifts, Doubles), and
a library-style one as ThingsBoard's own TBEL converters are written (decodeToJson of a network
server's JSON, base64ToBytes of its `data`, a channel loop with a switch filling a map, a date),
beside the JavaScript a ThingsBoard user writes for the same job (decodeToJson/base64 helpers in
the script, JSON.parse, atob).

Both sides go through the public engine API exactly as the uplink pipeline calls it (batches of
100 messages, one worker process, every limit on); the TBEL side is transpiled once per context
(converters/tbel) and then runs as JavaScript with the TBEL runtime's Java semantics (signed
bytes, Integer/Double boxes, map and list methods). The decoder is bench/converters.py's
LoRaWAN-style frame, written as ThingsBoard's TBEL converters write it (bytes masked with 0xFF,
``/ 100.0`` for a Double). Target (issue 15): a TBEL decode costs within 1.5x of the JS decode,
i.e. a rate of at least 0.67 of the JS side.
"""

import base64
import json
import statistics
import time

from bench.converters import DECODER as JS_DECODER
from bench.converters import _messages

__all__ = ["TBEL_DECODER", "run"]

TBEL_DECODER = r"""
// frame: flags(1) temp(int16 BE, 0.01 C) hum(1, 0.5 %) pressure(uint16 BE, 0.1 hPa + 500)
//        battery(1, 20 mV + 2 V) counter(uint32 BE) ... padding to 20 bytes
var flags = payload[0] & 0xFF;
return {
    deviceName: 'node-' + metadata.devEui,
    deviceType: 'env-sensor',
    telemetry: {
        temperature: s16(1) / 100.0,
        humidity: (payload[3] & 0xFF) / 2.0,
        pressure: u16(4) / 10.0 + 500,
        battery: ((payload[6] & 0xFF) * 20 + 2000) / 1000.0,
        alarm: (flags & 0x01) == 1
    }
};

function u16(i) { return ((payload[i] & 0xFF) << 8) | (payload[i + 1] & 0xFF); }
function s16(i) { var v = u16(i); return (v & 0x8000) != 0 ? v - 0x10000 : v; }
"""

LIBRARY_TBEL = r"""
var data = decodeToJson(payload);
var bytes = base64ToBytes(data.data);
timestamp = new Date(data.time).getTime();
var values = decodePayload(bytes);
var result = {
    deviceName: data.deviceInfo.deviceName,
    deviceType: data.deviceInfo.deviceProfileName,
    attributes: {fPort: data.fPort, devEui: data.deviceInfo.devEui},
    telemetry: {ts: timestamp, values: values}
};
if (data.rxInfo != null && data.rxInfo.size() > 0) {
    result.telemetry.values.rssi = data.rxInfo[0].rssi;
}
return result;

function decodePayload(input) {
    var decoded = {};
    for (var i = 0; i < input.length; ) {
        var channelId = input[i++] & 0xFF;
        var channelType = input[i++] & 0xFF;
        switch (channelId) {
            case 0x01:
                decoded.battery = input[i] & 0xFF;
                i += 1;
            case 0x03:
                decoded.temperature = parseBytesToInt(input, i, 2, false) / 10;
                i += 2;
            case 0x04:
                decoded.humidity = (input[i] & 0xFF) / 2;
                i += 1;
            case 0x05:
                decoded.pir = (input[i] & 0xFF) == 1 ? "trigger" : "idle";
                decoded.seenAt = timestamp;
                i += 1;
            default:
                decoded.unknown = String.format("%02x%02x", channelId, channelType);
                i = input.length;
        }
    }
    return decoded;
}
"""

LIBRARY_JS = r"""
var data = decodeToJson(payload);
var bytes = base64ToBytes(data.data);
var timestamp = new Date(data.time.replace(/\+0000$/, 'Z')).getTime();
var values = decodePayload(bytes);
var result = {
    deviceName: data.deviceInfo.deviceName,
    deviceType: data.deviceInfo.deviceProfileName,
    attributes: {fPort: data.fPort, devEui: data.deviceInfo.devEui},
    telemetry: {ts: timestamp, values: values}
};
if (data.rxInfo != null && data.rxInfo.length > 0) {
    result.telemetry.values.rssi = data.rxInfo[0].rssi;
}
return result;

function decodeToString(payload) { return String.fromCharCode.apply(String, payload); }
function decodeToJson(payload) { return JSON.parse(decodeToString(payload)); }
function base64ToBytes(text) {
    var s = atob(text), out = [];
    for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
    return out;
}
function hex2(v) { return ('0' + v.toString(16)).slice(-2); }
function decodePayload(input) {
    var decoded = {};
    for (var i = 0; i < input.length; ) {
        var channelId = input[i++];
        var channelType = input[i++];
        switch (channelId) {
            case 0x01: decoded.battery = input[i]; i += 1; break;
            case 0x03: decoded.temperature = (input[i] | (input[i + 1] << 8)) / 10; i += 2; break;
            case 0x04: decoded.humidity = input[i] / 2; i += 1; break;
            case 0x05: decoded.pir = input[i] == 1 ? "trigger" : "idle"; decoded.seenAt = timestamp; i += 1; break;
            default: decoded.unknown = hex2(channelId) + hex2(channelType); i = input.length;
        }
    }
    return decoded;
}
"""

BATCH = 100


def _side(lang: str, source: str, messages) -> float:
    from converters import engine

    started = time.perf_counter()
    for i in range(0, len(messages), BATCH):
        results = engine.decode(f"bench-{lang}-{len(source)}", 1, source, messages[i : i + BATCH], lang=lang)
        assert results[0].ok, results[0].error
    return time.perf_counter() - started


def _library_messages(n: int) -> list[tuple[bytes, dict]]:
    """ChirpStack v4 uplinks of a Milesight-style frame: battery, temperature, humidity, PIR."""
    out = []
    for i in range(n):
        frame = bytes([0x01, 0x75, i % 101, 0x03, 0x67, i % 256, (i // 256) % 4, 0x04, 0x68, i % 200, 0x05, 0x00,
                       i % 2])
        out.append((json.dumps({
            "deviceInfo": {"deviceName": f"AM307-{i % 1000}", "deviceProfileName": "AM307",
                           "devEui": f"24e124{i % 1000:010x}"},
            "fPort": 85, "time": "2024-03-01T10:00:00.000+0000", "data": base64.b64encode(frame).decode(),
            "rxInfo": [{"rssi": -71 - i % 30}]}).encode(), {"integrationName": "ChirpStack"}))
    return out


def _same_answers(messages, js_source=JS_DECODER, tbel_source=TBEL_DECODER) -> None:
    """Both decoders give the same telemetry for the same frames (else the figure means nothing)."""
    from converters import engine

    js = engine.decode(f"bench-JS-{len(js_source)}", 1, js_source, messages, lang="JS")
    tbel = engine.decode(f"bench-TBEL-{len(tbel_source)}", 1, tbel_source, messages, lang="TBEL")
    for a, b in zip(js, tbel, strict=True):
        assert a.ok and b.ok, (a.error, b.error)
        assert json.loads(a.output_json) == json.loads(b.output_json), (a.output_json, b.output_json)


def _pair(metric: str, js_source: str, tbel_source: str, messages, rounds: int) -> dict:
    """Rounds interleave the two sides, so that a noisy neighbour slows both; medians of rounds."""
    _same_answers(messages[:200], js_source, tbel_source)  # also warms both contexts
    rates: dict[str, list[float]] = {"JS": [], "TBEL": []}
    for _ in range(rounds):
        rates["JS"].append(len(messages) / _side("JS", js_source, messages))
        rates["TBEL"].append(len(messages) / _side("TBEL", tbel_source, messages))
    js, tbel = statistics.median(rates["JS"]), statistics.median(rates["TBEL"])
    return {
        "metric": metric, "value": round(tbel), "unit": "decodes/s",
        "baseline": "the same decoder in JavaScript, same engine, same run", "baseline_value": round(js),
        "ratio": round(tbel / js, 3), "target": ">= 0.67 of the JS decoder (a TBEL decode within 1.5x)",
        "batch": BATCH, "workers": 1, "messages": len(messages) * rounds,
    }


def run(quick: bool = False) -> list[dict]:
    from converters import engine

    rounds, per_round = (3, 5_000) if quick else (7, 20_000)
    rows = [
        _pair("tbel_decodes_per_s_batch100", JS_DECODER, TBEL_DECODER, _messages(per_round), rounds),
        _pair("tbel_library_decodes_per_s_batch100", LIBRARY_JS, LIBRARY_TBEL, _library_messages(per_round // 2),
              rounds),
    ]
    engine.shutdown()
    return rows


if __name__ == "__main__":  # python -m bench.tbel: this benchmark alone
    for row in run(quick=True):
        print(row)
