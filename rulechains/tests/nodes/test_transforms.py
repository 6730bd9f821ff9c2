"""Script transform node."""

from rulechains import nodes
from rulechains.tests.helpers import msg, run_node


def test_it_replaces_msg_metadata_and_type_keeping_what_the_script_leaves_out(tenant):
    script = ("msg.f = msg.t * 9 / 5 + 32; metadata.unit = 'F';"
              "return {msg: msg, metadata: metadata, msgType: 'POST_ATTRIBUTES_REQUEST'};")
    original = msg(tenant, data={"t": 100}, metadata={"site": "n"}, stored=True)
    [[out]] = run_node(tenant, nodes.SCRIPT_TRANSFORM, [original], jsScript=script)
    assert out.relation == "Success"
    assert out.msg.data == {"t": 100, "f": 212} and out.msg.metadata == {"site": "n", "unit": "F"}
    assert out.msg.msg_type == "POST_ATTRIBUTES_REQUEST" and out.msg.stored is False
    [[same]] = run_node(tenant, nodes.SCRIPT_TRANSFORM, [original], jsScript="return {metadata: {a: 1}};")
    assert same.msg.data == {"t": 100} and same.msg.metadata == {"a": "1"} and same.msg.stored is True


def test_an_array_result_makes_one_message_each(tenant):
    script = "return msg.items.map(function (i) { return {msg: {v: i}}; });"
    [outs] = run_node(tenant, nodes.SCRIPT_TRANSFORM, [msg(tenant, data={"items": [1, 2]})], jsScript=script)
    assert [(o.relation, o.msg.data) for o in outs] == [("Success", {"v": 1}), ("Success", {"v": 2})]


def test_a_wrong_result_or_an_error_goes_by_failure(tenant):
    outs = run_node(tenant, nodes.SCRIPT_TRANSFORM, [msg(tenant, data={"t": 1}), msg(tenant, data={"t": 2})],
                    jsScript="if (msg.t === 1) return 5; throw 'bad';")
    assert [(o.relation, "Wrong result type" in o.error or "bad" in o.error) for [o] in outs] == [
        ("Failure", True), ("Failure", True)]


def test_a_tbel_transform_turns_telemetry_into_attributes_saved_by_the_chain(tenant):
    from devices.attributes import get_attributes
    from rulechains import engine
    from rulechains.tests.helpers import install_root, node
    from tbproject.testing.factories import make_device

    device = make_device(tenant, "meter")
    script = "var out = {};\nout.firmware = msg.fw;\nreturn {msg: out, msgType: 'POST_ATTRIBUTES_REQUEST'};"
    install_root(tenant, [
        node(nodes.SCRIPT_TRANSFORM, "to attributes", scriptLang="TBEL", jsScript="", tbelScript=script),
        node(nodes.SAVE_ATTRIBUTES, "save", scope="SHARED_SCOPE", notifyDevice=False,
             sendAttributesUpdatedNotification=False, updateAttributesOnlyOnValueChange=True),
    ], [(0, 1, "Success")])
    report = engine.process([msg(tenant, device, data={"fw": "2.0.1"})])
    assert report.failures == 0
    assert [(a["scope"], a["key"], a["value"]) for a in get_attributes(device.pk)] == [
        ("SHARED_SCOPE", "firmware", "2.0.1")]
