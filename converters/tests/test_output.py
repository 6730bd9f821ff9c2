"""converters.output: decoder and encoder results normalised, with errors that name the field."""

import pytest

from converters.downlink_payload import DownlinkPayload, normalise_downlink
from converters.output import EntityUpdate, OutputError, normalise_uplink, normalise_uplink_v2

TS = 1_714_000_000_000


def one(output, **kw) -> EntityUpdate:
    (update,) = normalise_uplink(output, server_ts=TS, **kw)
    return update


def test_it_normalises_a_full_device_object():
    update = one({"deviceName": "d1", "deviceType": "thermo", "deviceLabel": "Kitchen", "customerName": "C",
                  "groupName": "G", "attributes": {"fw": "1.0", "ok": True, "n": None},
                  "telemetry": {"t": 21.5, "on": False, "skip": None}})
    assert update == EntityUpdate("DEVICE", "d1", "thermo", "Kitchen", "C", "G", {"fw": "1.0", "ok": True},
                                  [(TS, {"t": 21.5, "on": False})])


def test_it_normalises_an_asset():
    update = one('{"assetName": "Building A", "assetType": "building", "assetLabel": "A", "telemetry": {"kw": 3}}')
    assert (update.entity_type, update.name, update.profile, update.label) == ("ASSET", "Building A", "building", "A")


def test_it_defaults_a_missing_type_to_the_default_profile():
    assert one({"deviceName": "d"}).profile == "default"
    assert one({"assetName": "a", "assetType": ""}).profile == "default"


def test_it_reads_every_telemetry_shape():
    flat = one({"deviceName": "d", "telemetry": {"a": 1}})
    with_ts = one({"deviceName": "d", "telemetry": {"ts": 5, "values": {"a": 1}}})
    points = [{"ts": "7", "values": {"a": 1}}, {"b": 2}, {"ts": 8.9, "values": {}}]
    listed = one({"deviceName": "d", "telemetry": points})
    assert flat.telemetry == [(TS, {"a": 1})]
    assert with_ts.telemetry == [(5, {"a": 1})]
    assert listed.telemetry == [(7, {"a": 1}), (TS, {"b": 2}), (8, {})]
    # Like ThingsBoard: without both ts and values, the object is a flat map (ts is then a key).
    assert one({"deviceName": "d", "telemetry": {"ts": 5, "a": 1}}).telemetry == [(TS, {"ts": 5, "a": 1})]
    assert normalise_uplink({"deviceName": "d", "telemetry": {"a": 1}})[0].telemetry == [(None, {"a": 1})]


def test_it_treats_null_and_empty_arrays_as_nothing_to_store():
    assert normalise_uplink(None) == [] and normalise_uplink("null") == [] and normalise_uplink([]) == []


def test_it_turns_numeric_names_into_text_like_get_as_string():
    update = one({"deviceName": 1234, "deviceType": 7.5, "customerName": True})
    assert (update.name, update.profile, update.customer) == ("1234", "7.5", "true")


def test_it_keeps_array_order_and_content_aware_keys():
    updates = normalise_uplink([{"deviceName": "a", "contentAwareAttributeKeys": ["fw"]}, {"assetName": "b"}])
    assert [(u.entity_type, u.name, u.content_aware_keys) for u in updates] == [("DEVICE", "a", ("fw",)),
                                                                                 ("ASSET", "b", ())]


def test_it_keeps_objects_and_arrays_as_json_values():
    update = one({"deviceName": "d", "attributes": {"cfg": {"mode": 1, "on": [True]}},
                  "telemetry": [{"ts": 1, "values": {"gps": {"lat": 1.5}, "list": [1, "x", None]}}]})
    assert update.attributes == {"cfg": {"mode": 1, "on": [True]}}
    assert update.telemetry == [(1, {"gps": {"lat": 1.5}, "list": [1, "x", None]})]


@pytest.mark.parametrize(("ts", "ms"), [
    (1731243110000, 1731243110000),
    ("1731243110000", 1731243110000),
    (" 1731243110000 ", 1731243110000),
    (1731243110000.9, 1731243110000),
    ("2024-11-10T12:51:50+00:00", 1731243110000),
    ("2024-11-10T12:51:50Z", 1731243110000),
    ("2024-11-10T12:51:50.123Z", 1731243110123),
    ("2024-11-10T12:51:50.123456+00:00", 1731243110123),
    ("2024-11-10T14:51:50+02:00", 1731243110000),
    ("2024-11-10 12:51:50Z", 1731243110000),
])
def test_it_reads_timestamps_in_the_forms_converters_produce(ts, ms):
    notes = []
    assert one({"deviceName": "d", "deviceType": "t", "telemetry": {"ts": ts, "values": {"a": 1}}},
               notes=notes).telemetry == \
        [(ms, {"a": 1})]
    assert bool(notes) == (isinstance(ts, str) and "-" in ts)  # an ISO text is converted, and said so


def test_it_notes_what_it_changed():
    notes = []
    one({"deviceName": "d", "attributes": {"a": None}, "telemetry": {"ts": "2024-11-10T12:51:50Z",
                                                                     "values": {"t": 1}}}, notes=notes)
    assert notes == ["deviceType: not given; a new device gets the profile 'default'",
                     "attributes.a: null, not stored",
                     "telemetry.ts: '2024-11-10T12:51:50Z' stored as 1731243110000 (milliseconds since 1970, UTC)"]
    notes = []
    assert normalise_uplink([], notes=notes) == []
    assert notes == ["the output is empty: nothing is stored for this message"]


def test_it_turns_integers_too_big_for_64_bits_into_floats():
    assert one({"deviceName": "d", "telemetry": {"big": 10**20}}).telemetry == [(TS, {"big": 1e20})]


@pytest.mark.parametrize(("output", "error"), [
    ("{not json", "the converter output is not valid JSON"),
    (42, "the decoder must return an object or an array of objects, not a number"),
    ("\"text\"", "the decoder must return an object or an array of objects, not a string"),
    ({}, "output: deviceName or assetName is required"),
    ({"deviceName": "d", "assetName": "a"}, "output: has both deviceName and assetName"),
    ({"deviceName": ""}, "deviceName: must not be empty"),
    ({"deviceName": {"id": 1}}, "deviceName: must be a string, not an object"),
    ({"deviceName": "x" * 256}, "deviceName: longer than 255 characters"),
    ({"deviceName": "d", "deviceType": ["a"]}, "deviceType: must be a string, not an array"),
    ([{"deviceName": "a"}, 5], "[1]: must be an object with deviceName or assetName, not a number"),
    ([{"deviceName": "a"}, {"deviceType": "t"}], "[1]: deviceName or assetName is required"),
    ({"deviceName": "d", "attributes": [1]}, "attributes: must be an object of key/value pairs, not an array"),
    ({"deviceName": "d", "attributes": {"": 1}}, "attributes: empty key"),
    ({"deviceName": "d", "telemetry": "21.5"}, "telemetry: must be an object or an array, not a string"),
    ({"deviceName": "d", "telemetry": {"ts": 1, "values": 5}}, "telemetry.values: must be an object"),
    ({"deviceName": "d", "telemetry": {"ts": "soon", "values": {}}},
     "telemetry.ts: 'soon' is neither a timestamp in milliseconds nor ISO-8601 text"),
    ({"deviceName": "d", "telemetry": [{"ts": 1, "values": {}}, {"ts": "2024-11-10T12:51:50", "values": {}}]},
     "telemetry[1].ts: '2024-11-10T12:51:50' has no UTC offset"),
    ({"deviceName": "d", "telemetry": {"ts": "1969-12-31T23:59:59Z", "values": {}}},
     "telemetry.ts: '1969-12-31T23:59:59Z' is before 1970"),
    ({"deviceName": "d", "telemetry": {"ts": {"s": 1}, "values": {}}},
     "telemetry.ts: must be a timestamp in milliseconds or ISO-8601 text, not an object"),
    ({"deviceName": "d", "telemetry": {"ts": True, "values": {}}}, "telemetry.ts: must be a timestamp"),
    ({"deviceName": "d", "telemetry": {"ts": -1, "values": {}}}, "telemetry.ts: -1 is not a timestamp"),
    ({"deviceName": "d", "telemetry": [{"ts": 1, "values": {"a": 1}}, 3]}, "telemetry[1]: must be an object"),
    ({"deviceName": "d", "contentAwareAttributeKeys": "fw"}, "contentAwareAttributeKeys: must be an array"),
])
def test_it_names_the_field_in_every_error(output, error):
    with pytest.raises(OutputError) as raised:
        normalise_uplink(output, server_ts=TS)
    assert str(raised.value).startswith(error), str(raised.value)


def test_it_refuses_output_nested_deeper_than_python_parses():
    with pytest.raises(OutputError, match="nested too deeply"):
        normalise_uplink('{"deviceName": "d", "telemetry": {"x": ' + "[" * 5000 + "]" * 5000 + "}}")


def test_it_normalises_the_typed_v2_output():
    config = {"type": "DEVICE", "name": "Device $eui", "profile": "$deviceProfileName", "customer": "Farm",
              "group": "", "label": "$missing label"}
    metadata = {"eui": "70B3D5", "deviceProfileName": "soil", "ts": "1"}
    update = normalise_uplink_v2({"attributes": {"fw": "2"}, "telemetry": {"ts": 1, "values": {"m": 3}}},
                                 config, metadata, server_ts=TS)
    assert update == EntityUpdate("DEVICE", "Device 70B3D5", "soil", "$missing label", "Farm", None, {"fw": "2"},
                                  [(1, {"m": 3})])
    override = normalise_uplink_v2({"name": "Tank 1", "type": "asset", "telemetry": {"l": 1}}, config, metadata)
    assert (override.entity_type, override.name, override.telemetry) == ("ASSET", "Tank 1", [(None, {"l": 1})])
    with pytest.raises(OutputError, match="type: must be DEVICE or ASSET"):
        normalise_uplink_v2({"type": "ROUTER"}, config, metadata)
    with pytest.raises(OutputError, match="the decoder must return an object, not an array"):
        normalise_uplink_v2([], config, metadata)


def test_it_normalises_downlink_payloads():
    assert normalise_downlink('{"contentType": "JSON", "data": "{}", "metadata": {"topic": "t", "qos": 1}}') == \
        DownlinkPayload("JSON", "{}", {"topic": "t", "qos": "1"})
    text = normalise_downlink({"contentType": "text", "data": 42})
    assert (text.content_type, text.data, text.metadata, text.payload_bytes()) == ("TEXT", "42", {}, b"42")
    binary = normalise_downlink({"contentType": "BINARY", "data": "AP8=", "metadata": {"fPort": "2", "x": None}})
    assert (binary.payload_bytes(), binary.metadata) == (b"\x00\xff", {"fPort": "2"})
    assert normalise_downlink({"data": "{}"}).content_type == "JSON"
    notes = []
    assert normalise_downlink({"contentType": "JSON", "data": {"a": [1, "é"]}}, notes).data == '{"a":[1,"é"]}'
    assert notes == ["data: an object, sent as its JSON text"]


@pytest.mark.parametrize(("output", "error"), [
    ([], "the encoder must return an object {contentType, data, metadata}, not an array"),
    ({"contentType": "XML", "data": ""}, "contentType: must be JSON, TEXT or BINARY, not 'XML'"),
    ({"contentType": "JSON"}, "data: is required"),
    ({"contentType": "BINARY", "data": "not base64!"}, "data: BINARY content must be base64"),
    ({"contentType": "BINARY", "data": [1, 2]}, "data: must be a string, not an array"),
    ({"contentType": "TEXT", "data": "x", "metadata": "topic"}, "metadata: must be an object of strings"),
    ({"contentType": "TEXT", "data": "x", "metadata": {"h": {"a": 1}}}, "metadata.h: must be a string, not an object"),
])
def test_it_names_the_field_in_downlink_errors(output, error):
    with pytest.raises(OutputError) as raised:
        normalise_downlink(output)
    assert str(raised.value).startswith(error), str(raised.value)
