"""TBEL semantics that differ from JavaScript (reference/tbel.md section 2), run through the real
engine: Java numeric boxes, equality, null, collections, strings, scoping, switch, `.?`."""

import json

import pytest

from converters import engine


def run(body: str, payload: bytes = b"", metadata: dict | None = None):
    result = engine.decode(None, 0, body, [(payload, metadata or {})], lang="TBEL")[0]
    assert result.error is None, result.error
    return json.loads(result.output_json)


def error(body: str, payload: bytes = b"") -> str:
    result = engine.decode(None, 0, body, [(payload, {})], lang="TBEL")[0]
    assert result.error is not None, result.output_json
    return result.error


def value(expr: str):
    return run(f"return {expr};")


@pytest.mark.parametrize("expr, expected", [
    # int / int is a Double; Byte / Integer and Long / Integer truncate; Long / Long is a Double
    ('"" + 4 / 2', "2.0"),
    ("5 / 2", 2.5),
    ('"" + 3L / 2', "1"),
    ('"" + 7 / 2L', "3"),
    ('"" + 7L / 2L', "3.5"),
    ("(byte) 7 / 2", 3),
    ("((byte) 7 & 0xFF) / 2", 3.5),
    ("2147483647 + 1", 2147483648),
    ('"" + (2147483647 + 1) / 2', "1073741824"),
    ('"" + (9223372036854775807L + 1L)', "-9223372036854775808"),  # Long op Long wraps
    ('"" + (9223372036854775807L + 1)', "9223372036854775807"),  # Long op Integer goes through double
    ("7 % 3", 1),
    ("-7 % 3", -1),
    ('"" + 1.0E10', "1.0E10"),
    ('"" + 0.0001', "1.0E-4"),
    ('"" + 1.5', "1.5"),
    ('"" + 100.0', "100.0"),
    ('"" + 1.5f', "1.5"),
    ('"" + (double) 3', "3.0"),
    ("(int) 3.99", 3),
    ("(int) -3.99", -3),
    ("(long) 2.5", 2),
    ('"" + (char) 65', "A"),
    ("(int) 'A'", 65),
    ("Math.round(2.5)", 3),
    ("Math.round(-2.5)", -2),
    ('"" + Math.floor(2.7)', "2.0"),
    ("Math.pow(2, 10)", 1024),
    ("Math.abs(-5)", 5),
    ("Math.max(3, 7)", 7),
    ("1 + 2.5", 3.5),
    ('"" + (1 + 2.0)', "3.0"),
])
def test_java_numbers(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr, expected", [
    ("0xFF & 0x0F", 15),
    ("1 << 4", 16),
    ("1 << 33", 2),
    ('"" + (1L << 40)', "1099511627776"),
    ("-1 >>> 28", 15),
    ("-1 >> 28", -1),
    ("0x80 | 0x01", 129),
    ("0xF0 ^ 0xFF", 15),
    ("~5", -6),
    ('"" + (0xFFFFFFFFL & 0xFFFFFFFF00L)', "4294967040"),
    ('"" + ((long) -1 >>> 60)', "15"),
    ("0xFFFFFFFF", -1),
])
def test_bitwise_operators_are_32_bit_on_int_and_64_bit_on_long(expr, expected):
    assert value(expr) == expected


def test_bitwise_on_a_double_is_an_error():
    assert "non-fixed-point" in error("var d = 2.5; return d & 1.5;")


def test_payload_bytes_are_signed():
    got = run("return [payload[0], payload[1], payload[1] & 0xFF, payload[1] == 0xFF, payload[1] == -1, "
              "payload.size(), payload[0] / 2];", bytes([0x7F, 0xFF]))
    assert got == [127, -1, 255, False, True, 2, 63]


@pytest.mark.parametrize("expr, expected", [
    ('"123" == 123', True),
    ('"" == 0', False),
    ("1 == 1L", True),
    ("1 === 1.0", True),
    ('"a" === "a"', True),
    ('"a" !== "b"', True),
    ("[1, [2]] == [1, [2]]", True),
    ("{a: 1, b: [2]} == {b: [2], a: 1}", True),
    ("{a: 1} == {a: 2}", False),
    ("null == null", True),
    ("null > 1", False),
    ("1 > null", False),
    ("null < 1", False),
    ('"b" > "a"', True),
    ('"10" > 9', True),
])
def test_equality_is_loose_numeric_and_deep(expr, expected):
    assert value(expr) is expected


def test_null_concatenates_and_missing_keys_are_null():
    assert run('var m = {a: 1}; return [null + "x", "x" + null, m.b, m.get("b"), m.b == null];') == [
        "nullx", "xnull", None, None, True]


def test_the_result_leaves_out_null_map_values_as_thingsboards_gson_does():
    body = "var m = {a: 1, b: null, c: {d: null, e: [null, 2]}};\nm.f = m.missing;\nreturn m;"
    assert run(body) == {"a": 1, "c": {"e": [None, 2]}}


def test_null_safe_navigation_covers_the_rest_of_the_chain():
    assert run("var x = {a: null}; return [x.?a.b.c, x.?a.b.size(), x.?q];") == [None, None, None]
    assert "null" in error("var x = {a: null}; return x.a.b;")


def test_maps_keep_insertion_order_and_resolve_methods_and_pseudo_properties():
    body = """
    var m = {z: 1, a: 2};
    m.put("k", 3); m.x = 4; m.putAll({y: 5});
    var keys = [];
    foreach (e : m.entrySet()) { keys.add(e.key + "=" + e.value); }
    m.putIfAbsent("z", 9); m.putIfAbsent("w", 6);
    return [keys, m.keys, m.size, m.size(), m.containsKey("a"), m.get("x"), m.remove("x"), m.values(),
            m.keys.contains("w"), m.isEmpty(), m];
    """
    assert run(body) == [
        ["z=1", "a=2", "k=3", "x=4", "y=5"], ["z", "a", "k", "x", "y", "w"], 6, 6, True, 4, 4,
        [1, 2, 3, 5, 6], True, False, {"z": 1, "a": 2, "k": 3, "y": 5, "w": 6}]


def test_a_data_key_named_like_a_method_is_data():
    assert run('var m = {size: "big", keys: [1]}; return [m.size, m.keys, m.size()];') == ["big", [1], 2]


def test_lists_have_java_and_javascript_methods():
    body = """
    var l = [3, 1, 2];
    l.add(5); l.push(4); l.addAll([6]); l.sort();
    var s = l.slice(1, 3); var j = l.join("-");
    l.remove(0);
    return [l, l.size, l.size(), l.get(0), l.contains(5), l.indexOf(4), s, j, l.isEmpty(), [1] + [2]];
    """
    assert run(body) == [[2, 3, 4, 5, 6], 5, 5, 2, True, 2, [2, 3], "1-2-3-4-5-6", False, [1, 2]]


def test_a_list_index_out_of_range_throws():
    assert "IndexOutOfBounds" in error("var l = [1]; return l[3];")
    assert "IndexOutOfBounds" in error("var l = [1]; return l.get(1);")


def test_instanceof_java_types():
    assert run("var l = [1]; var m = {}; return [l instanceof java.util.ArrayList, l instanceof List, "
               "m instanceof java.util.Map, m instanceof HashMap, l instanceof Map, 's' instanceof String];") == [
        True, True, True, True, False, True]


@pytest.mark.parametrize("expr, expected", [
    ('"Hello".length()', 5),
    ('"Hello".length', 5),
    ('"Hello".substring(1, 3)', "el"),
    ('"Hello".substring(2)', "llo"),
    ('"a-b-a".indexOf("a", 1)', 4),
    ('"a-b-a".lastIndexOf("a")', 4),
    ('"a.b.a".replace(".", "+")', "a+b+a"),
    ('"a1b22c".replaceAll("[0-9]+", "#")', "a#b#c"),
    ('"x12y3".replaceFirst("(\\\\d)(\\\\d)", "<$2$1>")', "x<21>y3"),
    ('"a,b,,c,,".split(",")', ["a", "b", "", "c"]),
    ('"a1b22c".split("\\\\d+")', ["a", "b", "c"]),
    ('"a|b".split("\\\\|")', ["a", "b"]),
    ('"abc".matches("[a-c]+")', True),
    ('"abcd".matches("[a-c]+")', False),
    ('"Hi".toUpperCase() + "Hi".toLowerCase()', "HIhi"),
    ('"  x ".trim()', "x"),
    ('"abc".charAt(1)', "b"),
    ('"abc".startsWith("ab") && "abc".endsWith("bc") && "abc".contains("b")', True),
    ('"abc".equals("abc")', True),
    ('"ABC".equalsIgnoreCase("abc")', True),
    ('String.format("%02x|%02X|%5.2f|%-4d|%04d|%s|%,d", (byte) -103, 255, 3.14159, 7, 42, null, 1234567)',
     "99|FF| 3.14|7   |0042|null|1,234,567"),
    ('String.format("%02x", -103)', "ffffff99"),
    ('String.format("%x", 255L)', "ff"),
    ('String.format("%.1f", 0.05)', "0.1"),
    ('String.format("%s=%d", "n", 3)', "n=3"),
    ('String.join(",", ["a", "b"])', "a,b"),
    ('Integer.toString(255, 16) + "/" + Integer.toHexString(-1)', "ff/ffffffff"),
])
def test_java_string_methods(expr, expected):
    assert value(expr) == expected


def test_substring_out_of_range_throws():
    assert "StringIndexOutOfBounds" in error('return "abc".substring(2, 1);')


def test_percent_d_with_a_double_throws():
    assert "IllegalFormatConversion" in error('return String.format("%d", 2.5);')


def test_java_statics():
    assert run("return [Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.parseInt('-12'), Integer.parseInt('ff', 16), "
               "Long.parseLong('123456789012'), Boolean.parseBoolean('TRUE'), Boolean.parseBoolean('yes'), "
               "Double.parseDouble('2.5'), java.util.Arrays.copyOfRange([1, 2, 3, 4], 1, 3)];") == [
        -2147483648, 2147483647, -12, 255, 123456789012, True, False, 2.5, [2, 3]]
    assert "NumberFormatException" in error("return Integer.parseInt('x1');")


def test_dates_parse_iso_text_with_offsets():
    assert run('return [new Date("2023-01-02T03:04:05+0000").getTime(), new Date("2023-01-02T03:04:05.5Z").getTime(),'
               ' new Date("2023-01-02T05:04:05+02:00").getTime(), new Date(1000).getTime()];') == [
        1672628645000, 1672628645500, 1672628645000, 1000]
    now = run("return Date.now();")
    assert now > 1_600_000_000_000


def test_dates_with_second_offsets_or_spaces_still_parse_after_the_iso_fast_path():
    assert run('return [new Date("2023-01-02T06:04:05+03:00:00").getTime(),'
               ' new Date("2023-01-02T07:34:35+043030").getTime(),'
               ' new Date(" 2023-01-02T03:04:05Z ").getTime(), new Date("2023-01-02 03:04:05").getTime()];') == [
        1672628645000, 1672628645000, 1672628645000, 1672628645000]
    assert "DateTimeParseException" in error('return new Date("2023-13-45T03:04:05Z").getTime();')


def test_json_statics():
    assert run('return [JSON.stringify({a: [1, 2.5], b: null}), JSON.parse("{\\"a\\": 1}").a];') == [
        '{"a":[1,2.5],"b":null}', 1]


def test_switch_has_no_fall_through_and_ors_stacked_labels():
    body = """
    var out = [];
    foreach (v : [1, 2, 3, "4", 9]) {
      switch (v) {
        case 1:
        case 2: out.add("low");
        case 3: out.add("three");
        case 4: out.add("four");
        default: out.add("other");
      }
    }
    return out;
    """
    assert run(body) == ["low", "low", "three", "four", "other"]


def test_a_cases_own_break_leaves_only_the_switch_inside_a_loop():
    # TBEL's switch parser takes a case's block up to its `break`, which never runs as a break
    assert run("var n = 0; for (var i = 0; i < 3; i++) { switch (i) { case 1: break; default: n++; } } return n;") == 2
    body = "var out = [];\nforeach (v : [1, 2]) { switch (v) { case 1: out.add(v); break; } out.add(0); }\nreturn out;"
    assert run(body) == [1, 0, 0]


def test_a_break_nested_in_a_case_block_ends_the_loop_as_mvels_break_flag_does():
    body = ("var out = [];\nforeach (v : [1, 2, 3]) { switch (v) { case 2: if (v > 1) { break; } out.add(-1); break;"
            " default: out.add(v); break; } }\nreturn out;")
    assert run(body) == [1]


def test_break_in_a_switch_outside_any_loop_leaves_the_switch():
    body = "function f(x) { var r = 'none'; switch (x) { case 1: r = 'one'; break; } return r; }\nreturn [f(1), f(2)];"
    assert run(body) == ["one", "none"]


def test_loops_over_lists_arrays_and_strings():
    body = """
    var t = [];
    foreach (c : "ab") { t.add(c); }
    for (x : [1, 2]) { t.add(x); }
    foreach (b : base64ToBytes("AQI=")) { t.add(b); }
    foreach (e : {k: "map value"}) { t.add(e.key + "=" + e.getValue()); }
    var i = 0; while (i < 2) { i++; if (i == 1) { continue; } t.add("w" + i); }
    do { i--; } while (i > 0);
    return [t, i];
    """
    assert run(body) == [["a", "b", 1, 2, 1, 2, "k=map value", "w2"], 0]


def test_functions_are_hoisted_and_read_top_level_variables_assigned_later():
    body = """
    var result = decode();
    return result;
    function decode() { return {ts: timestamp, n: helper(2)}; }
    function helper(x) { return x * factor; }
    timestamp = 0;
    """
    assert "factor is not defined (line 5)" in error(body)
    body = "timestamp = 1700000000000L; factor = 3;\n" + body
    assert run(body) == {"ts": 1700000000000, "n": 6}


def test_var_is_block_scoped_and_may_be_redeclared():
    body = """
    var data = {a: 1};
    function f() {
      if (true) { var data = {a: 2}; data.a = 3; }
      return data.a;
    }
    var x = 1; var x = x + 1;
    if (true) { var x = 10; }
    return [f(), x, data.a];
    """
    assert run(body) == [1, 2, 1]


def test_typed_declarations_convert_their_values():
    body = 'int i = 7 / 2; double d = 2; long l = 5; return [i, "" + d, "" + l / 2, i / 2];'
    assert run(body) == [3, "2.0", "2", 1.5]


def test_a_line_break_ends_a_statement_whose_expression_is_complete():
    body = "var m = {}\nm.a = Math.max(1, 2)\nm.b = m.a +\n  1\nvar i = 0\ni += 4\nreturn [m, i];"
    assert run(body) == [{"a": 2, "b": 3}, 4]


def test_an_unknown_variable_fails_only_when_its_statement_runs():
    # MVEL resolves names at run time: a branch never taken may use a variable it never declared
    body = "var n = 1;\nif (n == 2) {\n  k++;\n  n = k;\n}\nreturn n;"
    assert run(body) == 1
    assert "unresolvable" in error("var n = 2;\nif (n == 2) {\n  k++;\n}\nreturn n;")


def test_the_last_expression_of_a_function_is_its_value():
    assert run("function twice(x) { x * 2 }\nreturn twice(4);") == 8


def test_unparenthesised_ternary_in_a_map_literal_is_split_as_mvel_does():
    assert run('var c = true; return {pir: c ? "trigger" : "idle", n: 1};') == {"trigger": "idle", "n": 1}
    assert run('var c = true; return {pir: (c ? "trigger" : "idle")};') == {"pir": "trigger"}


def test_whole_doubles_and_floats_keep_their_decimal_point_in_the_result_text():
    # Gson writes a TBEL result's Double and Float with Java's toString: 62.0, 1.0E10
    body = ("var h = 124 / 2; var x = 3;\n"
            "return {h: h, big: 1.0E10, f: 2.0f, n: -0.0, i: x, l: 5L, half: 0.5, list: [4 / 2, x], m: {d: 1.0}};")
    result = engine.decode(None, 0, body, [(b"", {})], lang="TBEL")[0]
    assert result.error is None, result.error
    assert result.output_json == ('{"h":62.0,"big":1.0E10,"f":2.0,"n":-0.0,"i":3,"l":5,"half":0.5,'
                                  '"list":[2.0,3],"m":{"d":1.0}}')
    assert run('return {s: "1.0", t: "\\u0000", d: 2.0};') == {"s": "1.0", "t": "\x00", "d": 2.0}


def test_float_values_serialise_with_their_shortest_float_repr():
    assert run("return [parseBytesToFloat([0x44, 0xBB, 0x93, 0x33]), 1.1f, (float) 0.1];") == [1500.6, 1.1, 0.1]


def test_the_encoder_gets_the_message_as_maps_and_lists():
    body = ("var out = {contentType: 'JSON', data: JSON.stringify({v: msg.value * 2, t: msgType}), metadata: {}};\n"
            "return out;")
    result = engine.encode(None, 0, body, [('{"value": 21}', {}, "POST_ATTRIBUTES_REQUEST", {})], lang="TBEL")[0]
    assert result.error is None, result.error
    assert json.loads(json.loads(result.output_json)["data"]) == {"v": 42, "t": "POST_ATTRIBUTES_REQUEST"}


def test_json_numbers_written_with_a_decimal_point_are_doubles():
    body = ('var d = decodeToJson(payload);\n'
            'return ["" + d.a, "" + d.b, "" + d.c, "" + d.n[0], d.s, d.a / 2, "" + d.t / 2];')
    payload = b'{"a": 20.0, "b": 21.5, "c": 3, "n": [1000.00], "s": "x 5.0 \\" y", "t": 4}'
    assert run(body, payload) == ["20.0", "21.5", "3", "1000.0", 'x 5.0 " y', 10, "2.0"]
