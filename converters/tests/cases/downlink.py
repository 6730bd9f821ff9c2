"""Downlink encoders: JSON, TEXT and BINARY (base64) results, msgType switches, RPC params."""

import base64
import json

from converters.tests.cases import Case

MQTT_JSON = r"""
// Shared attribute changes go to the device's config topic as JSON.
return {
  contentType: 'JSON',
  data: JSON.stringify({ config: msg, version: Number(metadata.ts) }),
  metadata: { topic: 'devices/' + metadata.deviceName + '/config' }
};
"""

RPC_TEXT = r"""
// RPC to a line-based protocol: "METHOD:PARAMS". msg.params arrives as a string.
return {
  contentType: 'TEXT',
  data: msg.method.toUpperCase() + ':' + msg.params,
  metadata: { topic: integrationMetadata.rpcTopic + '/' + metadata.deviceName }
};
"""

CHIRPSTACK_BINARY = r"""
// Set the reporting interval: command 0x02 then uint16 BE minutes, sent base64 on fPort 2.
const minutes = msg.reportInterval ?? 15;
const bytes = [0x02, (minutes >> 8) & 0xFF, minutes & 0xFF];
return {
  contentType: 'BINARY',
  data: btoa(String.fromCharCode(...bytes)),
  metadata: { DevEUI: metadata.cs_devEui, fPort: '2', confirmed: 'false' }
};
"""

TTN_DOWNLINK = r"""
// TTN v3 downlink push: JSON body with a base64 frm_payload inside.
var led = msg.led === 'on' ? 1 : 0;
return {
  contentType: 'JSON',
  data: JSON.stringify({
    downlinks: [{ f_port: 15, frm_payload: btoa(String.fromCharCode(0x10, led)), priority: 'NORMAL' }]
  }),
  metadata: { devId: metadata.ss_devId }
};
"""

BY_TYPE = r"""
// One encoder for attribute updates and RPC calls, switching on msgType.
switch (msgType) {
  case 'ATTRIBUTES_UPDATED':
    return { contentType: 'JSON', data: JSON.stringify({ set: msg }),
             metadata: { topic: 'attr/' + metadata.deviceName } };
  case 'RPC_CALL_FROM_SERVER_TO_DEVICE':
    return { contentType: 'JSON', data: JSON.stringify({ id: Number(metadata.requestId), method: msg.method,
             params: JSON.parse(msg.params) }), metadata: { topic: 'rpc/' + metadata.deviceName } };
  default:
    throw new Error('message type ' + msgType + ' is not sent to devices');
}
"""

SIGFOX_DOWNLINK = r"""
// Sigfox answers a bidirectional callback with 8 bytes, as hex, keyed by the device id.
const hex = (n) => n.toString(16).padStart(2, '0');
const bytes = [msg.mode ?? 0, msg.threshold ?? 0, 0, 0, 0, 0, 0, 0];
const body = {};
body[metadata.deviceName] = { downlinkData: bytes.map(hex).join('') };
return { contentType: 'JSON', data: JSON.stringify(body), metadata: {} };
"""


def _result(content_type: str, data, metadata: dict) -> dict:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return {"contentType": content_type, "data": text, "metadata": metadata}


CASES = [
    Case("mqtt json config", MQTT_JSON,
         (('{"interval": 60, "unit": "s"}', {"deviceName": "th-1", "ts": "1714557600000"}, "ATTRIBUTES_UPDATED", {}),),
         _result("JSON", {"config": {"interval": 60, "unit": "s"}, "version": 1714557600000},
                 {"topic": "devices/th-1/config"})),
    Case("rpc text", RPC_TEXT,
         (('{"method": "setLed", "params": "on"}', {"deviceName": "lamp-2"}, "RPC_CALL_FROM_SERVER_TO_DEVICE",
           {"rpcTopic": "cmd"}),),
         _result("TEXT", "SETLED:on", {"topic": "cmd/lamp-2"})),
    Case("chirpstack binary base64", CHIRPSTACK_BINARY,
         (('{"reportInterval": 300}', {"cs_devEui": "0004a30b001c0530"}, "ATTRIBUTES_UPDATED", {}),),
         _result("BINARY", base64.b64encode(bytes([2, 1, 44])).decode(),
                 {"DevEUI": "0004a30b001c0530", "fPort": "2", "confirmed": "false"})),
    Case("ttn downlink json with base64 inside", TTN_DOWNLINK,
         (('{"led": "on"}', {"ss_devId": "eui-1"}, "ATTRIBUTES_UPDATED", {}),),
         _result("JSON", {"downlinks": [{"f_port": 15, "frm_payload": "EAE=", "priority": "NORMAL"}]},
                 {"devId": "eui-1"})),
    Case("switch on msgType: rpc", BY_TYPE,
         (('{"method": "reboot", "params": "{\\"delay\\": 5}"}', {"deviceName": "gw", "requestId": "7"},
           "RPC_CALL_FROM_SERVER_TO_DEVICE", {}),),
         _result("JSON", {"id": 7, "method": "reboot", "params": {"delay": 5}}, {"topic": "rpc/gw"})),
    Case("switch on msgType: refused type", BY_TYPE,
         (('{}', {"deviceName": "gw"}, "POST_TELEMETRY_REQUEST", {}),),
         "Error: message type POST_TELEMETRY_REQUEST is not sent to devices (line 11)", error=True),
    Case("sigfox hex downlink", SIGFOX_DOWNLINK,
         (('{"mode": 2, "threshold": 200}', {"deviceName": "1A2B3C"}, "ATTRIBUTES_UPDATED", {}),),
         _result("JSON", {"1A2B3C": {"downlinkData": "02c8000000000000"}}, {})),
]
