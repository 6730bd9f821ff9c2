"""Conformance cases, written here from ThingsBoard's converter contract (reference 3.3, 4.1, 4.3).

Each case is one script and one sample, with what ThingsBoard's ``testUpLink`` answers
(``output``: the script's result as JSON text, whatever it is; ``error``: set only when the
script failed), what we add beside it (``warnings``, ``outputMsg``), and what the live pipeline
stores from the same sample: ``stored`` maps an entity name to its latest telemetry
``{key: (ts, value)}`` and server attributes ``{key: value}``; None means the pipeline refuses
the message (a dead letter at ``stage``).
"""

from dataclasses import dataclass, field

__all__ = ["Case", "CASES", "T0"]

#: the uplink's receive time: telemetry without ts is stored at it
T0 = 1_731_200_000_000
ISO_TS = 1_731_243_110_250  # 2024-11-10T12:51:50.250Z

REFUSED = "the live pipeline would refuse this output: "


@dataclass(frozen=True)
class Case:
    name: str
    script: str
    payload: bytes = b""
    metadata: dict = field(default_factory=dict)
    #: the script's result (compared as exact compact JSON text), or None when ``error`` is set
    output: object = None
    #: "" or the start of the error text
    error: str = ""
    warnings: tuple[str, ...] = ()
    output_msg: dict | None = None
    converter: dict | None = None  # the ``converter`` of the request (typed v2)
    stored: dict | None = None
    stage: str | None = None  # where the pipeline refuses it, when stored is None


TTN_CODEC = """
function decodeUplink(input) {
  var t = (input.bytes[0] << 8 | input.bytes[1]);
  if (t & 0x8000) t -= 0x10000;
  return {data: {temperature: t / 100, port: input.fPort}, errors: [], warnings: []};
}
"""

PROTOTYPE_HELPERS = """
// A device-repository style codec: helpers on the built-in prototypes.
Object.prototype.readInt16BE = function (offset) {
  var v = (this[offset] << 8) | this[offset + 1];
  return v & 0x8000 ? v - 0x10000 : v;
};
Array.prototype.toHex = function () {
  return this.map(function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
};
Number.prototype.round = function (digits) { return Number(this.toFixed(digits)); };
// TypeScript's down-levelled class inheritance patches prototypes too.
var __extends = function (d, b) {
  Object.setPrototypeOf(d, b);
  function __() { this.constructor = d; }
  d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
};
var Reading = (function () { function Reading(raw) { this.raw = raw; } return Reading; })();
var Temperature = (function (_super) {
  __extends(Temperature, _super);
  function Temperature(raw) { return _super.call(this, raw) || this; }
  Temperature.prototype.celsius = function () { return (this.raw.readInt16BE(0) / 10).round(1); };
  return Temperature;
})(Reading);
var reading = new Temperature(payload);
return {deviceName: 'TH-' + payload.toHex(), deviceType: 'th',
        telemetry: {temperature: reading.celsius(), ok: reading instanceof Reading}};
"""

CASES = [
    Case("ts013 result returned by the body",
         TTN_CODEC + "return decodeUplink({bytes: payload, fPort: 2});", b"\x08\x34",
         output={"data": {"temperature": 21, "port": 2}, "errors": [], "warnings": []},
         warnings=(REFUSED + "output: deviceName or assetName is required",), stage="validate"),
    Case("ts013 codec run through its entry point", TTN_CODEC, b"\xff\x38", {"fPort": "3", "deviceName": "ttn-1"},
         output={"data": {"temperature": -2, "port": 3}, "errors": [], "warnings": []},
         output_msg={"entityType": "DEVICE", "name": "ttn-1", "profile": "default",
                     "telemetry": {"temperature": -2, "port": 3}, "attributes": {}},
         stored={"ttn-1": {"telemetry": {"temperature": (T0, -2), "port": (T0, 3)}, "attributes": {}}}),
    Case("nested object and array values",
         "return {deviceName: 'gps-1', deviceType: 'tracker', attributes: {cfg: {mode: 'eco', limits: [1, 2]}},"
         " telemetry: {position: {lat: 52.1, lon: 4.3}, sats: [3, 7], speed: 12.5}};",
         output={"deviceName": "gps-1", "deviceType": "tracker",
                 "attributes": {"cfg": {"mode": "eco", "limits": [1, 2]}},
                 "telemetry": {"position": {"lat": 52.1, "lon": 4.3}, "sats": [3, 7], "speed": 12.5}},
         stored={"gps-1": {"telemetry": {"position": (T0, {"lat": 52.1, "lon": 4.3}), "sats": (T0, [3, 7]),
                                         "speed": (T0, 12.5)},
                           "attributes": {"cfg": {"mode": "eco", "limits": [1, 2]}}}}),
    Case("iso timestamp with fractional seconds",
         "return {deviceName: 'iso-1', deviceType: 't', telemetry: {ts: '2024-11-10T12:51:50.250Z', values: {t: 1}}};",
         output={"deviceName": "iso-1", "deviceType": "t",
                 "telemetry": {"ts": "2024-11-10T12:51:50.250Z", "values": {"t": 1}}},
         warnings=(f"telemetry.ts: '2024-11-10T12:51:50.250Z' stored as {ISO_TS} (milliseconds since 1970, UTC)",),
         stored={"iso-1": {"telemetry": {"t": (ISO_TS, 1)}, "attributes": {}}}),
    Case("iso timestamp with an offset in a list",
         "return {deviceName: 'iso-2', deviceType: 't', telemetry: [{ts: '2024-11-10T14:51:50+02:00', values: {t: 2}},"
         " {h: 40}]};",
         output={"deviceName": "iso-2", "deviceType": "t",
                 "telemetry": [{"ts": "2024-11-10T14:51:50+02:00", "values": {"t": 2}}, {"h": 40}]},
         warnings=("telemetry[0].ts: '2024-11-10T14:51:50+02:00' stored as 1731243110000 (milliseconds since 1970, "
                   "UTC)",),
         stored={"iso-2": {"telemetry": {"t": (1_731_243_110_000, 2), "h": (T0, 40)}, "attributes": {}}}),
    Case("numeric string timestamp",
         "return {deviceName: 'num-1', deviceType: 't', telemetry: {ts: String(1731243110000), values: {t: 3}}};",
         output={"deviceName": "num-1", "deviceType": "t", "telemetry": {"ts": "1731243110000", "values": {"t": 3}}},
         stored={"num-1": {"telemetry": {"t": (1_731_243_110_000, 3)}, "attributes": {}}}),
    Case("a timestamp that is not one",
         "return {deviceName: 'bad-ts', deviceType: 't', telemetry: {ts: 'yesterday', values: {t: 4}}};",
         output={"deviceName": "bad-ts", "deviceType": "t", "telemetry": {"ts": "yesterday", "values": {"t": 4}}},
         warnings=(REFUSED + "telemetry.ts: 'yesterday' is neither a timestamp in milliseconds nor ISO-8601 text "
                   "such as 2024-11-10T12:51:50Z",), stage="validate"),
    Case("helpers on built-in prototypes", PROTOTYPE_HELPERS, b"\x00\xd7",
         output={"deviceName": "TH-00d7", "deviceType": "th", "telemetry": {"temperature": 21.5, "ok": True}},
         stored={"TH-00d7": {"telemetry": {"temperature": (T0, 21.5), "ok": (T0, True)}, "attributes": {}}}),
    Case("an array of devices and an asset",
         "return [{deviceName: 'm-1', deviceType: 'meter', telemetry: {kwh: 1.5}},"
         " {deviceName: 'm-2', telemetry: {kwh: 2}, attributes: {fw: null}},"
         " {assetName: 'site', assetType: 'building', attributes: {meters: 2}}];",
         output=[{"deviceName": "m-1", "deviceType": "meter", "telemetry": {"kwh": 1.5}},
                 {"deviceName": "m-2", "telemetry": {"kwh": 2}, "attributes": {"fw": None}},
                 {"assetName": "site", "assetType": "building", "attributes": {"meters": 2}}],
         warnings=("[1].deviceType: not given; a new device gets the profile 'default'", "[1].attributes.fw: null, "
                   "not stored"),
         stored={"m-1": {"telemetry": {"kwh": (T0, 1.5)}, "attributes": {}},
                 "m-2": {"telemetry": {"kwh": (T0, 2)}, "attributes": {}},
                 "site": {"telemetry": {}, "attributes": {"meters": 2}}}),
    Case("an empty array", "return [];", output=[],
         warnings=("the output is empty: nothing is stored for this message",), stored={}),
    Case("a value that is not an entity", "return 'hello';", output="hello",
         warnings=(REFUSED + "the decoder must return an object or an array of objects, not a string",),
         stage="validate"),
    Case("typed converter output",
         "return {attributes: {fw: payload[0]}, telemetry: {ts: 1731243110000, values: {level: payload[1]}}};",
         b"\x02\x2a", {"eui": "a1b2"},
         converter={"converterVersion": 2, "configuration": {"type": "DEVICE", "name": "Tank $eui",
                                                              "profile": "tank", "customer": "Water Co"}},
         output={"attributes": {"fw": 2}, "telemetry": {"ts": 1731243110000, "values": {"level": 42}}},
         # one {ts, values} returned as an object prints as that object (ThingsBoard's library
         # results for typed converters that return it so: AgroSense, NanoSensorics, ioThings)
         output_msg={"entityType": "DEVICE", "name": "Tank a1b2", "profile": "tank", "customer": "Water Co",
                     "telemetry": {"ts": 1731243110000, "values": {"level": 42}}, "attributes": {"fw": 2}},
         stored={"Tank a1b2": {"telemetry": {"level": (1_731_243_110_000, 42)}, "attributes": {"fw": 2}}}),
    Case("a script that throws", "var x = payload.length;\nthrow new Error('bad frame ' + x);", b"\x01",
         error="Error: bad frame 1 (line 2)", stage="convert"),
    Case("a script that does not compile", "return {deviceName: ;", error="SyntaxError", stage="convert"),
    Case("a script that never ends", "while (true) {}", error="timeout: the script ran longer than", stage="convert"),
]
