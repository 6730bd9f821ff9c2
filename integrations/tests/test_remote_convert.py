"""Uplinks converted on the remote runner (integration configuration ``convertRemotely``): the
converter the server sends, the conversion the remote runs (remote/convert.py, the real engine),
its travel (protocol, queue) and what the pipeline makes of it (integrations/conversion.py).
The run with real processes is test_remote_convert_e2e.py."""

import base64
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from converters import engine
from converters.choices import EventType
from converters.engine import EngineError
from converters.models import DebugEvent
from devices.models import Device
from integrations import pipeline, queue
from integrations.messages import RawUplink
from integrations.models import DeadLetter, Integration
from integrations.remote import protocol, service
from integrations.tests.factories import make_integration
from integrations.tests.test_remote_server import SECRET, TCP, opened, receive
from integrations.tests.uplinks import converter, debug_all, json_uplink, uplink, values
from integrations.types import TYPES
from integrations.types.base import ConfigError
from remote.convert import LocalConverter

pytestmark = pytest.mark.django_db(transaction=True)

#: What the script makes of ``{"name", "n"}``: telemetry n; it refuses n == 13.
DECODER = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
if (data.n === 13) throw new Error('unlucky ' + data.n);
return {deviceName: data.name, deviceType: 'meter', telemetry: {n: data.n}};
"""


@pytest.fixture(autouse=True)
def _fast_poll(settings):
    settings.REMOTE_POLL_SECONDS = 0.2


@pytest.fixture
def remote_tcp(tenant):
    conv = debug_all(converter(tenant, DECODER))
    return make_integration(tenant, "Plant", kind="TCP", converter=conv, remote=True, secret=SECRET,
                            configuration={**TCP, "convertRemotely": True})


def converted(integ: Integration, body: dict, spec: dict | None = None) -> RawUplink:
    """``body`` as the remote runner sends it: converted by the converter ``spec`` on the real engine."""
    spec = spec or service.converter_of(Integration.objects.select_related("default_converter").get(pk=integ.pk))
    return LocalConverter(spec, integ.type).run([json_uplink(integ, body)])[0]


def across_the_wire(uplinks: list[RawUplink], server: str = "remote:plant-gw") -> list[RawUplink]:
    """Through the websocket frame and the Celery task payload, as they travel."""
    items = json.loads(json.dumps(protocol.encode_uplinks(uplinks)))
    decoded = protocol.decode_uplinks(uplinks[0].integration_id, items, server=server)
    return queue.decode(json.loads(json.dumps(queue.encode(decoded))))


def converter_events(conv) -> list:
    return list(DebugEvent.objects.filter(entity_id=conv.pk, event_type=EventType.DEBUG_CONVERTER)
                .order_by("created_time"))


# --- what the server sends ------------------------------------------------------------------------

def test_the_converter_is_sent_only_with_convert_remotely_and_as_the_pipeline_runs_it(tenant, remote_tcp, settings):
    settings.CONVERTER_TIMEOUT_MS = 250
    config = service.config_of(service.current(remote_tcp.pk))
    conv = remote_tcp.default_converter
    assert config["converter"] == {
        "id": str(conv.pk), "key": str(conv.pk), "version": 1, "scriptVersion": conv.script_version,
        "type": "UPLINK", "converterVersion": 1, "lang": "JS", "script": DECODER, "configuration": conv.configuration,
        "limits": {**config["converter"]["limits"], "timeout_ms": 250}}
    plain = make_integration(tenant, "Plain", kind="TCP", converter=converter(tenant, DECODER), remote=True,
                             secret=SECRET, configuration=TCP)
    assert "converter" not in service.config_of(plain)

    # pinned to version 1 after a change: the remote runs version 1, under the pinned key
    conv.configuration = {**conv.configuration, "decoder": DECODER.replace("n: data.n", "n: data.n * 2")}
    conv.save()
    Integration.objects.filter(pk=remote_tcp.pk).update(pinned_converter_version=1)
    pinned = service.config_of(service.current(remote_tcp.pk))["converter"]
    assert (pinned["key"], pinned["version"], pinned["script"]) == (f"{conv.pk}@1", 1, DECODER)


def test_convert_remotely_must_be_a_boolean(api, tenant):
    with pytest.raises(ConfigError, match="configuration.convertRemotely"):
        TYPES.load("TCP").validate({**TCP, "convertRemotely": "yes"})
    conv = converter(tenant, DECODER)
    body = {"name": "Plant", "type": "TCP", "remote": True, "secret": SECRET, "configuration": {
        **TCP, "convertRemotely": "yes"}, "defaultConverterId": {"entityType": "CONVERTER", "id": str(conv.pk)}}
    res = api.post("/api/integration", body, format="json")
    assert res.status_code == 400 and "convertRemotely" in res.content.decode()
    assert not Integration.objects.filter(name="Plant").exists()
    body["configuration"]["convertRemotely"] = True
    assert api.post("/api/integration", body, format="json").status_code == 200


# --- what the remote runs ------------------------------------------------------------------------

def test_the_remote_runs_the_script_on_the_engine_and_keeps_the_raw_payload(remote_tcp):
    ok, refused = (converted(remote_tcp, {"name": "m1", "n": n}) for n in (7, 13))
    assert json.loads(ok.conversion["output"]) == {"deviceName": "m1", "deviceType": "meter", "telemetry": {"n": 7}}
    assert ok.payload == b'{"name": "m1", "n": 7}' and ok.conversion["version"] == 1 and ok.conversion["us"] >= 0
    assert "unlucky 13" in refused.conversion["error"] and "output" not in refused.conversion


def test_when_the_engine_cannot_run_or_the_output_is_too_large_uplinks_travel_raw(remote_tcp, monkeypatch):
    spec = service.converter_of(Integration.objects.select_related("default_converter").get(pk=remote_tcp.pk))
    big = {**spec, "script": "return {deviceName: 'm', telemetry: {s: 'x'.repeat(300000)}};", "scriptVersion": 99}
    assert converted(remote_tcp, {"name": "m", "n": 1}, big).conversion is None

    def down(*args, **kwargs):
        raise EngineError("no worker could start")

    monkeypatch.setattr(engine, "decode", down)
    raw = json_uplink(remote_tcp, {"name": "m", "n": 1})
    assert async_to_sync(LocalConverter(spec, "TCP").convert)([raw]) == [raw]


def test_a_converter_spec_the_remote_cannot_read_leaves_uplinks_raw(caplog):
    from remote.host import Host

    host = Host(runner=None)
    with caplog.at_level(logging.ERROR, "remote.host"):
        host._take_converter({"type": "TCP", "converter": {"key": "c"}})  # no version, no script
    assert host.converter is None and "cannot run here" in caplog.text


# --- what the server makes of it -----------------------------------------------------------------

def test_the_pipeline_stores_the_remotes_output_without_running_the_converter(remote_tcp, monkeypatch):
    sent = across_the_wire([converted(remote_tcp, {"name": "m1", "n": 7})])
    assert sent[0].conversion["server"] == "remote:plant-gw"

    def never(*args, **kwargs):
        raise AssertionError("the server ran the converter")

    monkeypatch.setattr(engine, "decode", never)
    assert [o.status for o in pipeline.process(sent)] == ["ok"]
    assert values(Device.objects.get(name="m1")) == {"n": 7}
    event = converter_events(remote_tcp.default_converter)[-1]
    assert event.server == event.body["server"] == "remote:plant-gw"
    assert json.loads(event.body["out"])["telemetry"] == {"n": 7} and event.body["converterVersionNumber"] == 1


def test_a_converter_error_on_the_remote_is_a_dead_letter_with_the_raw_payload(remote_tcp):
    sent = across_the_wire([converted(remote_tcp, {"name": "m1", "n": 13}), converted(remote_tcp,
                                                                                       {"name": "m1", "n": 8})])
    outcomes = pipeline.process(sent)
    assert [o.status for o in outcomes] == ["failed", "ok"] and outcomes[0].stage == "convert"
    letter = DeadLetter.objects.get(integration=remote_tcp)
    assert bytes(letter.payload) == b'{"name": "m1", "n": 13}'
    assert letter.stage == "convert" and "unlucky 13" in letter.error
    assert letter.converter_version == 1
    failed = [e for e in converter_events(remote_tcp.default_converter) if e.is_error]
    assert len(failed) == 1 and "unlucky 13" in failed[0].body["error"] and failed[0].server == "remote:plant-gw"
    assert json.loads(failed[0].body["in"]) == {"name": "m1", "n": 13}
    assert values(Device.objects.get(name="m1")) == {"n": 8}


def test_an_output_of_an_older_converter_version_is_converted_again_on_the_server(remote_tcp):
    sent = across_the_wire([converted(remote_tcp, {"name": "m1", "n": 7})])
    conv = remote_tcp.default_converter
    conv.configuration = {**conv.configuration, "decoder": DECODER.replace("n: data.n", "n: data.n * 100")}
    conv.save()  # while the remote's batch was on its way
    assert [o.status for o in pipeline.process(sent)] == ["ok"]
    assert values(Device.objects.get(name="m1")) == {"n": 700}
    event = converter_events(conv)[-1]
    assert event.server != "remote:plant-gw" and event.body["converterVersionNumber"] == 2


def test_a_malformed_conversion_is_ignored_and_the_raw_uplink_converted_on_the_server(remote_tcp, caplog):
    raw = json_uplink(remote_tcp, {"name": "m1", "n": 5})
    item = protocol.encode_uplinks([raw])[0]
    conv = remote_tcp.default_converter
    bad = [{"converter": str(conv.pk), "version": True, "output": "{}"}, "text",
           {"converter": str(conv.pk), "version": 1, "output": "{}", "error": "both"},
           {"converter": str(conv.pk), "version": 1, "output": "{}", "metadata": []},
           {"converter": str(conv.pk), "version": 1, "output": "{}", "us": -1}]
    with caplog.at_level(logging.WARNING, "integrations.remote.protocol"):
        decoded = protocol.decode_uplinks(str(remote_tcp.pk), [[*item, b] for b in bad])
    assert [u.conversion for u in decoded] == [None] * len(bad) and "malformed conversion" in caplog.text
    assert all(u.payload == raw.payload for u in decoded)
    with pytest.raises(protocol.ProtocolError, match="uplink 0 is malformed"):
        protocol.decode_uplinks(str(remote_tcp.pk), [[*item, {}, "extra"]])
    assert [o.status for o in pipeline.process(decoded[:1])] == ["ok"]
    assert values(Device.objects.get(name="m1")) == {"n": 5}  # the server's own run


def test_an_older_task_payload_without_conversions_still_decodes(remote_tcp):
    raw = json_uplink(remote_tcp, {"name": "m1", "n": 5})
    batch = {"v": 1, "u": [[str(remote_tcp.pk), base64.b64encode(raw.payload).decode(), raw.metadata, 5, "JSON"]]}
    assert queue.decode(batch)[0].conversion is None


# --- over the websocket ----------------------------------------------------------------------------

def test_a_saved_converter_is_pushed_live_and_converted_batches_are_stored(remote_tcp):
    conv = remote_tcp.default_converter

    def change_script():
        conv.refresh_from_db()
        conv.configuration = {**conv.configuration, "decoder": DECODER.replace("n: data.n", "n: data.n * 100")}
        conv.save()

    async def scenario():
        ws, config = await opened(remote_tcp)
        spec = config["integration"]["converter"]
        assert spec["version"] == 1 and spec["script"] == DECODER
        first = await database_sync_to_async(converted)(remote_tcp, {"name": "m2", "n": 3}, spec)
        await ws.send_to(protocol.frame("uplinks", seq=1, uplinks=protocol.encode_uplinks([first])))
        assert (await receive(ws))["type"] == "ack"
        await database_sync_to_async(change_script)()
        pushed = await receive(ws)
        assert pushed["type"] == "config" and pushed["integration"]["version"] == config["integration"]["version"]
        assert pushed["integration"]["converter"]["version"] == 2 and "data.n * 100" in pushed["integration"][
            "converter"]["script"]
        second = await database_sync_to_async(converted)(remote_tcp, {"name": "m2", "n": 4},
                                                         pushed["integration"]["converter"])
        await ws.send_to(protocol.frame("uplinks", seq=2, uplinks=protocol.encode_uplinks([second])))
        assert (await receive(ws))["type"] == "ack"
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    assert values(Device.objects.get(name="m2")) == {"n": 400}
    remote_runs = [e for e in converter_events(conv) if e.server == "remote:plant-gw"]
    assert [e.body["converterVersionNumber"] for e in remote_runs] == [1, 2]


# --- envelopes: a TS013 codec on a ChirpStack integration -----------------------------------------

def test_the_remote_unwraps_the_envelope_as_the_server_would_and_leaves_a_join_raw(tenant, monkeypatch):
    from converters.tests.envelopes import raw
    from converters.tests.test_ts013 import CHIRPSTACK_TS, ELSYS_CODEC, ELSYS_VALUES, lns_integration
    from devices.telemetry import history

    integ = lns_integration(tenant, "CHIRPSTACK", converter(tenant, ELSYS_CODEC))
    spec = service.converter_of(Integration.objects.select_related("default_converter").get(pk=integ.pk))
    up, join = LocalConverter(spec, "CHIRPSTACK").run([uplink(integ, raw("chirpstack_up")),
                                                         uplink(integ, raw("chirpstack_join"))])
    assert join.conversion is None  # no uplink in it: travels raw, the server skips it as usual
    assert up.conversion["metadata"]["fPort"] == 5 and "@ts013" in up.conversion["output"]
    monkeypatch.setattr(engine, "decode", lambda *args, **kwargs: [])  # would fail a run here: zip(strict)
    outcomes = pipeline.process(across_the_wire([up, join]))
    assert [o.status for o in outcomes] == ["ok", "ok"]
    device = Device.objects.get(tenant=tenant, name="ers-greenhouse-3")
    assert values(device) == ELSYS_VALUES
    assert history(device.pk, ["temperature"], 0, 2**50) == {"temperature": [(CHIRPSTACK_TS, 22.6)]}
