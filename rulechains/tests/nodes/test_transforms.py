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
