"""JSON and text payloads, and network-server envelopes whose `data` is base64 or hex."""

import base64
import json
import struct
from datetime import UTC, datetime

from converters.tests.cases import Case

T0_ISO = "2024-05-01T10:00:00.123Z"
T0_MS = int(datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC).timestamp() * 1000)

HELPERS = r"""
function decodeToString(payload) { return String.fromCharCode.apply(String, payload); }
function decodeToJson(payload) { return JSON.parse(decodeToString(payload)); }
function base64ToBytes(text) {
  var s = atob(text), out = [];
  for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}
function hexToBytes(hex) {
  var out = [];
  for (var i = 0; i < hex.length; i += 2) out.push(parseInt(hex.substr(i, 2), 16));
  return out;
}
"""

TTN_V3 = r"""
var data = decodeToJson(payload);
var up = data.uplink_message;
var bytes = base64ToBytes(up.frm_payload);
var rx = (up.rx_metadata && up.rx_metadata[0]) || {};
return {
  deviceName: data.end_device_ids.dev_eui,
  deviceType: data.end_device_ids.application_ids.application_id,
  attributes: { devId: data.end_device_ids.device_id, fPort: up.f_port },
  telemetry: {
    ts: Date.parse(data.received_at),
    values: {
      soilMoisture: ((bytes[0] << 8) | bytes[1]) / 100,
      soilTemperature: ((((bytes[2] << 8) | bytes[3]) << 16) >> 16) / 100,
      rssi: rx.rssi, snr: rx.snr, fCnt: up.f_cnt
    }
  }
};
""" + HELPERS

CHIRPSTACK = r"""
var up = decodeToJson(payload);
var b = base64ToBytes(up.data);
var result = {
  deviceName: up.deviceInfo.deviceName,
  deviceType: up.deviceInfo.deviceProfileName,
  attributes: { devEui: up.deviceInfo.devEui, site: up.deviceInfo.tags.site },
  telemetry: { rssi: up.rxInfo[0].rssi, snr: up.rxInfo[0].snr }
};
switch (up.fPort) {
  case 10:
    result.telemetry.running = (b[0] & 0x80) !== 0;
    result.telemetry.pressure = ((b[1] << 8) | b[2]) / 100;
    result.telemetry.flow = (b[3] << 8) | b[4];
    break;
  case 20:
    result.attributes.reportInterval = (b[0] << 8) | b[1];
    break;
  default:
    throw new Error('unsupported fPort ' + up.fPort);
}
return result;
""" + HELPERS

LORIOT = r"""
var msg = decodeToJson(payload);
if (msg.cmd !== 'rx') return null;
var b = hexToBytes(msg.data);
return {
  deviceName: msg.EUI, deviceType: 'loriot-sensor',
  telemetry: { ts: msg.ts, values: { temperature: (((b[0] << 8) | b[1]) << 16 >> 16) / 100,
                                      battery: ((b[2] << 8) | b[3]) / 100, port: msg.port } }
};
""" + HELPERS

SIGFOX = r"""
var m = decodeToJson(payload);
var b = hexToBytes(m.data);
return {
  deviceName: 'sigfox-' + m.device, deviceType: 'sigfox-tracker',
  attributes: { lqi: m.lqi },
  telemetry: { ts: m.time * 1000, values: { mode: b[0] >> 6, level: b[1], temperature: b[2] << 24 >> 24,
                                            version: b[3], seq: m.seqNumber } }
};
""" + HELPERS

GATEWAY = r"""
// One POST carries readings of many sensors: one result per sensor.
var body = decodeToJson(payload);
return body.readings.map(function (r) {
  var values = { temperature: r.t, humidity: r.h };
  return {
    deviceName: r.id, deviceType: 'th-sensor',
    attributes: { gateway: body.gateway },
    telemetry: r.ts ? { ts: r.ts, values: values } : values
  };
});
""" + HELPERS

ASSET = r"""
var m = decodeToJson(payload);
return {
  assetName: m.building + ' floor ' + m.floor, assetType: 'floor',
  customerName: m.owner, groupName: 'Buildings', assetLabel: m.building + '/' + m.floor,
  attributes: { building: m.building, floor: m.floor },
  telemetry: { energy: m.kWh, power: m.kW }
};
""" + HELPERS

CSV = r"""
// Text payload "id,temperature,humidity,battery" from a serial-to-HTTP bridge.
var fields = decodeToString(payload).trim().split(',');
return {
  deviceName: fields[0], deviceType: 'csv-sensor',
  telemetry: { temperature: parseFloat(fields[1]), humidity: parseInt(fields[2], 10), battery: +fields[3] }
};
""" + HELPERS

TOPIC = r"""
// MQTT integration: the device and the key come from the topic, the payload is a bare number.
var parts = metadata.topic.split('/');
var telemetry = {};
telemetry[parts[parts.length - 1]] = Number(decodeToString(payload));
return { deviceName: parts[3], deviceType: parts[1] + '-sensor', telemetry: telemetry };
""" + HELPERS

TTN_V2 = r"""
var up = decodeToJson(payload);
var b = base64ToBytes(up.payload_raw);
if (up.port !== 3) throw new Error('port ' + up.port + ' is not a measurement port');
var readings = b.slice(1).map(function (x) { return x > 127 ? x - 256 : x; });
return {
  deviceName: up.hardware_serial, deviceType: 'ttn-v2',
  attributes: { devId: up.dev_id },
  telemetry: { battery: b[0], min: Math.min.apply(null, readings), max: Math.max.apply(null, readings),
               rssi: up.metadata.gateways[0].rssi, counter: up.counter }
};
""" + HELPERS

FLAT_MAP = r"""
// ThingsBoard's template shape: helpers after the return (hoisted), nested JSON flattened.
var data = decodeToJson(payload);
var result = {
  deviceName: data.serial, deviceType: data.model,
  contentAwareAttributeKeys: ['firmware'],
  attributes: { integrationName: metadata['integrationName'], firmware: data.fw },
  telemetry: toFlatMap(data.state, {}, ['debug'], '')
};
return result;

function toFlatMap(obj, out, exclude, prefix) {
  for (var key in obj) {
    if (exclude.indexOf(key) >= 0) continue;
    var name = prefix ? prefix + '_' + key : key;
    if (obj[key] !== null && typeof obj[key] === 'object') toFlatMap(obj[key], out, exclude, name);
    else out[name] = obj[key];
  }
  return out;
}
""" + HELPERS

HEARTBEAT = r"""
// Heartbeat frames (first byte 0x00) carry nothing to store.
if (payload[0] === 0x00) return null;
return { deviceName: metadata.deviceName, deviceType: 'beacon', telemetry: { count: payload[1] } };
"""


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


TTN_V3_BODY = _json({
    "end_device_ids": {"device_id": "eui-70b3d57ed0051234", "dev_eui": "70B3D57ED0051234",
                       "application_ids": {"application_id": "farm"}},
    "received_at": T0_ISO,
    "uplink_message": {"f_port": 2, "f_cnt": 77, "frm_payload": _b64(struct.pack(">Hh", 3456, -150)),
                       "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-1"}, "rssi": -97, "snr": 7.5}]},
})


def _chirpstack(port: int, raw: bytes) -> bytes:
    return _json({"time": T0_ISO, "fPort": port, "data": _b64(raw), "rxInfo": [{"rssi": -110, "snr": -3.2}],
                  "deviceInfo": {"deviceName": "pump-7", "devEui": "0004a30b001c0530",
                                 "deviceProfileName": "pump-controller", "tags": {"site": "north"}}})


CASES = [
    Case("ttn v3 envelope, base64 via atob", TTN_V3, ((TTN_V3_BODY, {"integrationName": "TTN"}),),
         {"deviceName": "70B3D57ED0051234", "deviceType": "farm",
          "attributes": {"devId": "eui-70b3d57ed0051234", "fPort": 2},
          "telemetry": {"ts": T0_MS, "values": {"soilMoisture": 34.56, "soilTemperature": -1.5, "rssi": -97,
                                                "snr": 7.5, "fCnt": 77}}}),
    Case("chirpstack v4 status frame", CHIRPSTACK, ((_chirpstack(10, bytes([0x80, 0x01, 0x2C, 0x00, 0x2A])), {}),),
         {"deviceName": "pump-7", "deviceType": "pump-controller",
          "attributes": {"devEui": "0004a30b001c0530", "site": "north"},
          "telemetry": {"rssi": -110, "snr": -3.2, "running": True, "pressure": 3, "flow": 42}}),
    Case("chirpstack v4 unknown port", CHIRPSTACK, ((_chirpstack(99, b"\x00"), {}),),
         "Error: unsupported fPort 99 (line 20)", error=True),
    Case("loriot hex data", LORIOT,
         ((_json({"cmd": "rx", "EUI": "BE7A000000000E2A", "ts": 1714557600123, "port": 1, "data": "0a1f00c8"}), {}),),
         {"deviceName": "BE7A000000000E2A", "deviceType": "loriot-sensor",
          "telemetry": {"ts": 1714557600123, "values": {"temperature": 25.91, "battery": 2, "port": 1}}}),
    Case("loriot non-rx message gives nothing", LORIOT, ((_json({"cmd": "gw", "EUI": "x"}), {}),), None),
    Case("sigfox callback", SIGFOX,
         ((_json({"device": "1A2B3C", "time": 1714557600, "data": "c0ffee01", "seqNumber": 123, "lqi": "Good"}), {}),),
         {"deviceName": "sigfox-1A2B3C", "deviceType": "sigfox-tracker", "attributes": {"lqi": "Good"},
          "telemetry": {"ts": 1714557600000, "values": {"mode": 3, "level": 255, "temperature": -18, "version": 1,
                                                        "seq": 123}}}),
    Case("gateway payload, array of results", GATEWAY,
         ((_json({"gateway": "gw-07", "readings": [{"id": "th-1", "t": 21.4, "h": 40},
                                                   {"id": "th-2", "t": 19.9, "h": 52, "ts": 1714557600000}]}), {}),),
         [{"deviceName": "th-1", "deviceType": "th-sensor", "attributes": {"gateway": "gw-07"},
           "telemetry": {"temperature": 21.4, "humidity": 40}},
          {"deviceName": "th-2", "deviceType": "th-sensor", "attributes": {"gateway": "gw-07"},
           "telemetry": {"ts": 1714557600000, "values": {"temperature": 19.9, "humidity": 52}}}]),
    Case("asset with customer and group", ASSET,
         ((_json({"building": "HQ", "floor": 2, "kWh": 1234.5, "kW": 12.3, "owner": "Acme"}), {}),),
         {"assetName": "HQ floor 2", "assetType": "floor", "customerName": "Acme", "groupName": "Buildings",
          "assetLabel": "HQ/2", "attributes": {"building": "HQ", "floor": 2},
          "telemetry": {"energy": 1234.5, "power": 12.3}}),
    Case("csv text payload", CSV, ((b"th-42,21.5,55,3.61\n", {}),),
         {"deviceName": "th-42", "deviceType": "csv-sensor",
          "telemetry": {"temperature": 21.5, "humidity": 55, "battery": 3.61}}),
    Case("mqtt topic routing", TOPIC, ((b"23.75", {"topic": "site/north/sensors/th-9/temperature"}),),
         {"deviceName": "th-9", "deviceType": "north-sensor", "telemetry": {"temperature": 23.75}}),
    Case("ttn v2 payload_raw", TTN_V2,
         ((_json({"dev_id": "node-2", "hardware_serial": "0004A30B001C0531", "port": 3, "counter": 5,
                  "payload_raw": _b64(bytes([87, 10, 250, 3])), "metadata": {"gateways": [{"rssi": -80}]}}), {}),),
         {"deviceName": "0004A30B001C0531", "deviceType": "ttn-v2", "attributes": {"devId": "node-2"},
          "telemetry": {"battery": 87, "min": -6, "max": 10, "rssi": -80, "counter": 5}}),
    Case("template helpers hoisted, nested JSON flattened", FLAT_MAP,
         ((_json({"serial": "SN-1", "model": "thermostat", "fw": "2.1.0",
                  "state": {"temp": 21, "setpoint": {"day": 22, "night": 18}, "debug": {"x": 1}, "on": True}}),
           {"integrationName": "HTTP"}),),
         {"deviceName": "SN-1", "deviceType": "thermostat", "contentAwareAttributeKeys": ["firmware"],
          "attributes": {"integrationName": "HTTP", "firmware": "2.1.0"},
          "telemetry": {"temp": 21, "setpoint_day": 22, "setpoint_night": 18, "on": True}}),
    Case("heartbeat gives nothing", HEARTBEAT, ((b"\x00\x01", {"deviceName": "b"}),), None),
]
