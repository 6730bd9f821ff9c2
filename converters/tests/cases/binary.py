"""Binary-frame decoders: bit fields, signed ints, both endians, TLV, BCD, checksums, per-point ts."""

import struct

from converters.tests.cases import Case

LHT65 = r"""
// Temperature/humidity sensor. BAT: bits 15-14 battery status, 13-0 millivolts; then
// int16 BE temperature (0.01 C), uint16 BE humidity (0.1 %), ext sensor type, int16 BE ext value.
function int16(hi, lo) {
  var v = (hi << 8) | lo;
  return v > 0x7FFF ? v - 0x10000 : v;
}
var bat = (payload[0] << 8) | payload[1];
var result = {
  deviceName: 'LHT65-' + metadata.devEui,
  deviceType: 'LHT65',
  attributes: { batteryStatus: ['ultra low', 'low', 'ok', 'good'][bat >> 14] },
  telemetry: {
    battery: (bat & 0x3FFF) / 1000,
    temperature: int16(payload[2], payload[3]) / 100,
    humidity: ((payload[4] << 8) | payload[5]) / 10
  }
};
if (payload[6] === 1) result.telemetry.extTemperature = int16(payload[7], payload[8]) / 100;
return result;
"""

TLV = r"""
// Type-length-value frame as many indoor sensors send it (type byte, fixed size per type).
var i = 0, values = {};
function u16(at) { return (payload[at] << 8) | payload[at + 1]; }
function s16(at) { var v = u16(at); return v & 0x8000 ? v - 0x10000 : v; }
while (i < payload.length) {
  var type = payload[i++];
  switch (type) {
    case 0x01: values.temperature = s16(i) / 10; i += 2; break;
    case 0x02: values.humidity = payload[i]; i += 1; break;
    case 0x04: values.light = u16(i); i += 2; break;
    case 0x05: values.motion = payload[i]; i += 1; break;
    case 0x07: values.vdd = u16(i); i += 2; break;
    default: throw new Error('unknown TLV type 0x' + type.toString(16) + ' at byte ' + (i - 1));
  }
}
return { deviceName: metadata.deviceName, deviceType: 'ERS', telemetry: values };
"""

LITTLE_ENDIAN = r"""
// Little-endian frame read with DataView: uint32 counter, int16 temperature (0.1 C), float32 level.
var view = new DataView(new Uint8Array(payload).buffer);
return {
  deviceName: 'tank-' + metadata.serial,
  deviceType: 'tank-level',
  telemetry: {
    counter: view.getUint32(0, true),
    temperature: view.getInt16(4, true) / 10,
    level: Math.round(view.getFloat32(6, true) * 1000) / 1000
  }
};
"""

BIT_FIELDS = r"""
// Door contact: status byte bit0 open, bit1 tamper, bit2 battery low, bits 4-6 mode; then
// a 12-bit open counter and a 4-bit firmware minor version packed in two bytes.
var s = payload[0];
var modes = ['off', 'contact', 'counter', 'alarm', 'service'];
return {
  deviceName: metadata.deviceName,
  deviceType: 'door-sensor',
  attributes: { mode: modes[(s >> 4) & 0x07] || 'unknown', firmwareMinor: payload[2] & 0x0F },
  telemetry: {
    open: (s & 0x01) === 1,
    tamper: Boolean(s & 0x02),
    batteryLow: !!(s & 0x04),
    openCount: (payload[1] << 4) | (payload[2] >> 4)
  }
};
"""

GPS = r"""
// GPS tracker: int32 BE latitude/longitude (1e-6 degrees), int16 altitude (m), uint8 HDOP/10.
function int32(at) {
  return (payload[at] << 24) | (payload[at + 1] << 16) | (payload[at + 2] << 8) | payload[at + 3];
}
var alt = (payload[8] << 8) | payload[9];
return {
  deviceName: metadata.deviceName,
  deviceType: 'tracker',
  telemetry: {
    latitude: int32(0) / 1e6,
    longitude: int32(4) / 1e6,
    altitude: alt > 32767 ? alt - 65536 : alt,
    hdop: payload[10] / 10
  }
};
"""

REGISTERS = r"""
// Modbus register dump (uint16 BE each): 0-1 energy int32 (Wh), 2 voltage/10, 3 current/100,
// 4-5 power float32 BE. Registers are read through a helper that slices the payload.
function registers(bytes) {
  var out = [];
  for (var i = 0; i + 1 < bytes.length; i += 2) out.push((bytes[i] << 8) | bytes[i + 1]);
  return out;
}
var r = registers(payload);
var buf = new ArrayBuffer(4), dv = new DataView(buf);
dv.setUint16(0, r[4]); dv.setUint16(2, r[5]);
return {
  deviceName: 'meter-' + metadata.slaveId,
  deviceType: 'energy-meter',
  telemetry: {
    energy: ((r[0] << 16) >>> 0) + r[1],
    voltage: r[2] / 10,
    current: r[3] / 100,
    power: Math.round(dv.getFloat32(0) * 10) / 10
  }
};
"""

BCD = r"""
// Water meter: 4-byte BCD volume in litres (little-endian byte order), alarm flags byte.
function bcd(b) { return (b >> 4) * 10 + (b & 0x0F); }
var litres = 0;
for (var i = 3; i >= 0; i--) litres = litres * 100 + bcd(payload[i]);
return {
  deviceName: metadata.deviceName, deviceType: 'water-meter',
  telemetry: { volume: litres / 1000, leak: (payload[4] & 0x01) === 1, backflow: (payload[4] & 0x02) === 2 }
};
"""

CHECKSUM = r"""
// Frames end with an XOR checksum of every byte before it; a bad one is an error, not data.
var x = 0;
for (var i = 0; i < payload.length - 1; i++) x ^= payload[i];
if (x !== payload[payload.length - 1]) {
  throw new Error('checksum mismatch: computed 0x' + x.toString(16) + ', frame says 0x' +
                  payload[payload.length - 1].toString(16));
}
return { deviceName: metadata.deviceName, deviceType: 'probe', telemetry: { value: payload[0] } };
"""

HISTORY = r"""
// A frame of stored readings: uint32 BE time of the newest (seconds), uint16 interval (s), then
// int16 BE temperatures, newest first. Every reading gets its own timestamp.
var newest = ((payload[0] << 24) >>> 0) + (payload[1] << 16) + (payload[2] << 8) + payload[3];
var interval = (payload[4] << 8) | payload[5];
var points = [];
for (var i = 6, n = 0; i + 1 < payload.length; i += 2, n++) {
  var raw = (payload[i] << 8) | payload[i + 1];
  points.push({ ts: (newest - n * interval) * 1000, values: { temperature: (raw << 16 >> 16) / 10 } });
}
return { deviceName: metadata.deviceName, deviceType: 'logger', telemetry: points };
"""

INT24 = r"""
// Accelerometer: three signed 24-bit BE axes in micro-g, sign-extended with shifts.
const axis = (at) => ((payload[at] << 24) | (payload[at + 1] << 16) | (payload[at + 2] << 8)) >> 8;
const [x, y, z] = [0, 3, 6].map((at) => axis(at) / 1e6);
return { deviceName: metadata.deviceName, deviceType: 'accelerometer', telemetry: { x, y, z } };
"""

VIBRATION = r"""
// Vibration samples as int16 LE: copied into an Int16Array, summarised as RMS and peak.
const bytes = Uint8Array.from(payload);
const samples = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
let sum = 0, peak = 0;
for (const s of samples) { sum += s * s; peak = Math.max(peak, Math.abs(s)); }
const rms = Math.sqrt(sum / samples.length);
return {
  deviceName: metadata.deviceName, deviceType: 'vibration',
  telemetry: { rms: Number(rms.toFixed(2)), peak, samples: samples.length }
};
"""

HEX_TEXT = r"""
// NB-IoT module posting its frame as ASCII hex text ("0A1B..."): text -> bytes -> fields.
var text = String.fromCharCode.apply(String, payload).trim();
var bytes = [];
for (var i = 0; i < text.length; i += 2) bytes.push(parseInt(text.substr(i, 2), 16));
return {
  deviceName: metadata.imei, deviceType: 'nb-iot',
  attributes: { fw: bytes[0] + '.' + bytes[1] },
  telemetry: { signal: bytes[2] - 256, battery: bytes[3] }
};
"""

MODERN = r"""
// Modern syntax throughout: a class, a Map registry, optional chaining, ??, spread, template
// literals, destructuring with defaults.
class Reader {
  #at = 0;
  constructor(bytes) { this.bytes = bytes; }
  u8() { return this.bytes[this.#at++]; }
  u16() { return (this.u8() << 8) | this.u8(); }
  get remaining() { return this.bytes.length - this.#at; }
}
const channels = new Map([
  [1, ['co2', (r) => r.u16()]], [2, ['voc', (r) => r.u16()]], [3, ['occupied', (r) => r.u8() === 1]],
]);
const r = new Reader(payload);
const telemetry = {};
while (r.remaining > 0) {
  const [key, read] = channels.get(r.u8()) ?? [];
  if (!read) break;
  telemetry[key] = read(r);
}
const { room = 'unknown', floor } = JSON.parse(metadata.location ?? '{}');
return {
  deviceName: `${metadata?.site ?? 'site'}-${room}`,
  deviceType: 'air-quality',
  deviceLabel: `Room ${room}, floor ${floor ?? '?'}`,
  telemetry: { ...telemetry, levels: undefined }
};
"""


def _lht65():
    return struct.pack(">HhHBh", 0xC000 | 3050, -525, 634, 1, 2210)


CASES = [
    Case("lht65 signed BE, bit field battery", LHT65, ((_lht65(), {"devEui": "a84041000181c061"}),),
         {"deviceName": "LHT65-a84041000181c061", "deviceType": "LHT65", "attributes": {"batteryStatus": "good"},
          "telemetry": {"battery": 3.05, "temperature": -5.25, "humidity": 63.4, "extTemperature": 22.1}}),
    Case("tlv indoor sensor", TLV, ((bytes([1, 0xFF, 0x9C, 2, 45, 4, 0x01, 0x2C, 5, 3, 7, 0x0E, 0x10]),
                                     {"deviceName": "ers-17"}),),
         {"deviceName": "ers-17", "deviceType": "ERS",
          "telemetry": {"temperature": -10, "humidity": 45, "light": 300, "motion": 3, "vdd": 3600}}),
    Case("tlv unknown type is an error with line", TLV, ((bytes([1, 0, 10, 9, 1]), {"deviceName": "x"}),),
         "Error: unknown TLV type 0x9 at byte 3 (line 14)", error=True),
    Case("little endian via DataView", LITTLE_ENDIAN,
         ((struct.pack("<Ihf", 123456, -35, 1.5), {"serial": "T-9"}),),
         {"deviceName": "tank-T-9", "deviceType": "tank-level",
          "telemetry": {"counter": 123456, "temperature": -3.5, "level": 1.5}}),
    Case("bit fields", BIT_FIELDS, ((bytes([0b0011_0101, 0x12, 0x37]), {"deviceName": "door-1"}),),
         {"deviceName": "door-1", "deviceType": "door-sensor", "attributes": {"mode": "alarm", "firmwareMinor": 7},
          "telemetry": {"open": True, "tamper": False, "batteryLow": True, "openCount": 0x123}}),
    Case("gps signed int32", GPS, ((struct.pack(">iihB", 51507351, -127758, -12, 17), {"deviceName": "trk"}),),
         {"deviceName": "trk", "deviceType": "tracker",
          "telemetry": {"latitude": 51.507351, "longitude": -0.127758, "altitude": -12, "hdop": 1.7}}),
    Case("modbus registers and float32", REGISTERS,
         ((struct.pack(">IHHf", 3_000_000_000, 2301, 1250, 2875.5), {"slaveId": "7"}),),
         {"deviceName": "meter-7", "deviceType": "energy-meter",
          "telemetry": {"energy": 3_000_000_000, "voltage": 230.1, "current": 12.5, "power": 2875.5}}),
    Case("bcd water meter", BCD, ((bytes([0x78, 0x56, 0x34, 0x12, 0x01]), {"deviceName": "wm-3"}),),
         {"deviceName": "wm-3", "deviceType": "water-meter",
          "telemetry": {"volume": 12345.678, "leak": True, "backflow": False}}),
    Case("checksum ok", CHECKSUM, ((bytes([5, 6, 3]), {"deviceName": "p"}),),
         {"deviceName": "p", "deviceType": "probe", "telemetry": {"value": 5}}),
    Case("checksum bad", CHECKSUM, ((bytes([5, 6, 4]), {"deviceName": "p"}),),
         "Error: checksum mismatch: computed 0x3, frame says 0x4 (line 7)", error=True),
    Case("history with per-point ts", HISTORY,
         ((struct.pack(">IHhhh", 1_700_000_000, 600, 215, -12, 200), {"deviceName": "log-1"}),),
         {"deviceName": "log-1", "deviceType": "logger", "telemetry": [
             {"ts": 1_700_000_000_000, "values": {"temperature": 21.5}},
             {"ts": 1_699_999_400_000, "values": {"temperature": -1.2}},
             {"ts": 1_699_998_800_000, "values": {"temperature": 20}}]}),
    Case("signed 24-bit axes", INT24,
         ((bytes([0xFF, 0xFF, 0x38, 0x00, 0x03, 0xE8, 0x0F, 0x42, 0x40]), {"deviceName": "acc"}),),
         {"deviceName": "acc", "deviceType": "accelerometer", "telemetry": {"x": -0.0002, "y": 0.001, "z": 1}}),
    Case("typed arrays int16 LE", VIBRATION, ((struct.pack("<4h", 3, -4, 12, -5), {"deviceName": "vib"}),),
         {"deviceName": "vib", "deviceType": "vibration", "telemetry": {"rms": 6.96, "peak": 12, "samples": 4}}),
    Case("ascii hex text", HEX_TEXT, ((b"0102B85F\r\n", {"imei": "860000000000001"}),),
         {"deviceName": "860000000000001", "deviceType": "nb-iot", "attributes": {"fw": "1.2"},
          "telemetry": {"signal": -72, "battery": 95}}),
    Case("modern syntax", MODERN,
         ((bytes([1, 0x01, 0xF4, 3, 1, 2, 0x00, 0x2A]), {"site": "hq", "location": '{"room": "B12", "floor": 3}'}),),
         {"deviceName": "hq-B12", "deviceType": "air-quality", "deviceLabel": "Room B12, floor 3",
          "telemetry": {"co2": 500, "occupied": True, "voc": 42}}),
]
