"""A small converters library built on disk as a git repository (ThingsBoard's layout), for tests."""

import base64
import json
import subprocess
from pathlib import Path

from converters.tests.envelopes import FRAME, doc
from converters.tests.test_ts013 import ELSYS_CODEC
from converters.tests.test_typed_v2 import ERS_DECODER

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
TYPED_ERS = {
    "name": "ChirpStack Uplink Converter for Elsys ERS", "type": "UPLINK", "integrationType": "CHIRPSTACK",
    "debugSettings": {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 1749813006362},
    "configuration": {"scriptLang": "JS", "decoder": ERS_DECODER, "tbelDecoder": None, "encoder": None,
                      "tbelEncoder": None, "updateOnlyKeys": ["eui", "fPort"], "type": "DEVICE",
                      "name": "ERS $eui", "profile": "$deviceProfileName", "label": "$deviceName", "customer": "",
                      "group": "", "telemetry": ["rssi"], "attributes": ["eui", "fPort"]},
    "additionalInfo": {"description": ""}, "edgeTemplate": False, "converterVersion": 2}
TYPED_ERS_RESULT = {"entityType": "DEVICE", "name": "ERS a81758fffe0523db", "profile": "ERS",
                    "label": "ers-greenhouse-3",
                    "telemetry": {"temperature": 22.6, "humidity": 41, "light": 39, "motion": 6, "rssi": -71},
                    "attributes": {"eui": "a81758fffe0523db", "fPort": 5, "batteryMv": 3649}}
HTTP_DECODER = r"""
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: 'LHT65 ' + data.id, deviceType: 'LHT65', attributes: {model: 'LHT65'},
        telemetry: {ts: data.ts, values: {temperature: data.t / 100, humidity: data.h / 10}}};
"""


def _write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))


def build(root: Path) -> Path:
    """Create and commit the library; returns the repository path."""
    v = root / "VENDORS"
    _write(v / "Elsys/info.json", {"url": "https://www.elsys.se", "description": "Elsys sensors"})
    _write(v / "Elsys/logo.svg", SVG)
    _write(v / "Elsys/ERS/info.json", {"label": "ERS: indoor climate", "description": "Temperature, humidity"})
    _write(v / "Elsys/ERS/photo.png", b"\x89PNG\r\n\x1a\n")
    ers = v / "Elsys/ERS/CHIRPSTACK/uplink"
    _write(ers / "converter.json", TYPED_ERS)
    _write(ers / "metadata.json", {"integrationName": "ChirpStack integration"})
    _write(ers / "payload.json", doc("chirpstack_up"))
    _write(ers / "result.json", TYPED_ERS_RESULT)
    # The older folder name of the same type: ChirpStack's spelled-as-the-type folder wins.
    _write(v / "Elsys/ERS/ChirpStack/uplink/converter.json", {**TYPED_ERS, "name": "old layout"})
    codec = {"name": "TTS ERS codec", "type": "UPLINK", "integrationType": "TTN", "converterVersion": 1,
             "configuration": {"scriptLang": "JS", "decoder": ELSYS_CODEC, "scriptContract": "TS013"}}
    _write(v / "Elsys/ERS/ThingsStackCommunity/uplink/converter.json", codec)
    _write(v / "Elsys/ERS/ThingsStackCommunity/uplink/payload.json", doc("ttn_up"))
    http = v / "Dragino/LHT65/HTTP/uplink"
    _write(http / "converter.json", {"name": "LHT65 over HTTP", "type": "UPLINK",
                                     "configuration": {"scriptLang": "JS", "decoder": HTTP_DECODER}})
    sample = json.dumps({"id": "a1", "ts": 1714557600000, "t": 2150, "h": 455}).encode()
    _write(http / "payload.base64", base64.b64encode(sample))
    _write(http / "result.json", {"deviceName": "LHT65 a1", "deviceType": "LHT65", "attributes": {"model": "LHT65"},
                                  "telemetry": [{"ts": 1714557600000, "values": {"temperature": 21.5,
                                                                                 "humidity": 45.5}}]})
    _write(http / "payload_1.txt", json.dumps({"id": "b2", "ts": 1714557660000, "t": -100, "h": 300}))
    _write(http / "result_1.json", {"deviceName": "LHT65 b2", "deviceType": "LHT65", "attributes": {"model": "X"},
                                    "telemetry": [{"ts": 1714557660000, "values": {"temperature": -1,
                                                                                   "humidity": 31}}]})
    _write(v / "Acme/TbelOnly/LORIOT/uplink/converter.json", {
        "name": "TBEL only", "type": "UPLINK", "converterVersion": 2,
        "configuration": {"scriptLang": "TBEL", "decoder": None, "tbelDecoder": "return {};"}})
    _write(v / "Acme/Frame/LORIOT/uplink/converter.json", {
        "name": "Frame bytes", "type": "UPLINK", "converterVersion": 2,
        "configuration": {"scriptLang": "TBEL", "tbelDecoder": "return {telemetry: {size: payload.size()}};",
                          "name": "Frame $eui", "decoder": "return {telemetry: {oldSize: payload.length}};"}})
    _write(v / "Acme/Frame/LORIOT/uplink/payload.hex", json.dumps(doc("loriot_rx")).encode().hex())
    _write(v / "Acme/Frame/LORIOT/uplink/result.json", {"entityType": "DEVICE", "name": "Frame A81758FFFE0523DB",
                                                        "telemetry": {"size": len(FRAME)}, "attributes": {}})
    _write(root / "README.md", "# test library\n")
    git(root, "init", "-q")
    commit(root, "library")
    return root


def git(root: Path, *args) -> str:
    return subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, text=True).stdout


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()
