"""TBEL parser and code generator: syntax errors with line and column, unsupported constructs,
MVEL's map-literal rule, and JS that keeps every statement on its TBEL line."""

import pytest

from converters.tbel import RUNTIME_JS, TbelSyntaxError, transpile
from converters.tbel.codegen_expr import BUILTINS
from converters.tbel.parser import parse


def error_of(source: str) -> TbelSyntaxError:
    with pytest.raises(TbelSyntaxError) as info:
        transpile(source, "decoder")
    return info.value


def test_it_reports_an_unexpected_token_with_line_and_column():
    e = error_of("var a = 1;\nvar b = 2;\nvar c = (a + );")
    assert (e.line, e.column) == (3, 14)
    assert e.message == "Unexpected token ')'"
    assert str(e) == "Unexpected token ')' at line 3, column 14"


@pytest.mark.parametrize("source, line, column, text", [
    ("var a = 1; var b = 2 var c = 3;", 1, 22, "Expected ';'"),
    ("if (x > 1 {\n}", 1, 11, "Expected ')'"),
    ("var s = 'abc;", 1, 9, "Unterminated string literal"),
    ("var m = {a: 1,\n b: };", 2, 5, "Expected a value after"),
    ("foreach (x in list) {}", 1, 10, "Expected 'foreach"),
    ("return #;", 1, 8, "Unexpected token '#'"),
    ("var x = 1;\n/* never closed", 2, 1, "Unterminated comment"),
    ("function f( {}", 1, 13, "Expected a name"),
])
def test_it_points_at_the_offending_token(source, line, column, text):
    e = error_of(source)
    assert (e.line, e.column) == (line, column)
    assert e.message.startswith(text)


@pytest.mark.parametrize("source, construct", [
    ("def f(x) { x * 2 }", "def"),
    ("with (obj) { a = 1 }", "with"),
    ("var names = (name in users);", "in"),
    # an anonymous function compiles: ThingsBoard refuses it only when it runs (test_corpus_regressions)
    ("try { x = 1; } catch (e) {}", "try/catch"),
    ("throw new Error('x');", "throw"),
    ("var a = list.{ name };", "projection"),
])
def test_it_refuses_constructs_outside_tbel_as_converters_use_it(source, construct):
    e = error_of(source)
    assert e.message.startswith("unsupported TBEL construct")
    assert construct in e.message


def test_every_statement_stays_on_its_tbel_line():
    source = "var a = msg.a;\n\nfunction f(x) {\n  return x + 1;\n}\nvar b = f(a);\n\nreturn {b: b};"
    js = transpile(source, "decoder").split("\n")
    assert "function f(" in js[2]
    assert js[3].startswith("return ") and "__t.add(x, 1)" in js[3]
    assert "b = f(a)" in js[5]
    assert js[7].startswith("return ")
    assert len(js) <= source.count("\n") + 2


def test_the_prologue_shares_the_first_line():
    js = transpile("return payload;", "decoder")
    first = js.split("\n")[0]
    assert first.startswith("var __t = __tbel;") and "payload = __t.bytes(payload)" in first
    assert "return __t.out(payload, 0)" in first
    assert "payload = " not in transpile("return msg;", "encoder")


def test_an_unparenthesised_ternary_in_a_map_literal_starts_a_new_key():
    # MVEL CollectionParser: `{pir: c ? "trigger" : "idle"}` is the key (c ? "trigger") -> "idle"
    (stmt,) = parse('return {pir: c ? "trigger" : "idle", n: 1};')
    (first, second) = stmt.value.entries
    assert first[0].kind == "cond" and first[0].other is None and first[1].value == "idle"
    assert second[0].value == "n"
    (stmt,) = parse('return {pir: (c ? "trigger" : "idle")};')
    ((key, value),) = stmt.value.entries
    assert key.value == "pir" and value.kind == "cond" and value.other.value == "idle"


def test_bare_identifier_keys_are_strings_and_other_keys_are_evaluated():
    (stmt,) = parse("return {a: 1, 'b': 2, (k): 3, 4: 5};")
    kinds = [(key.kind, getattr(key, "value", None)) for key, _ in stmt.value.entries]
    assert kinds == [("str", "a"), ("str", "b"), ("name", None), ("num", 4)]


def test_it_parses_the_statement_forms_of_real_converters():
    source = """
    var data = decodeToJson(payload);
    int count = 0; char c = 'a'; byte[] raw = new byte[4];
    foreach (item : data.items) { count++; }
    for (var i = 0; i < 3; i++) { count += i; }
    for (x : [1, 2]) { count -= x; }
    while (count > 100) { count--; }
    do { count++; } while (count < 0);
    switch (count) { case 1: case 2: count = 0; break; default: count = -1; }
    if (data.?a.b == null) { count = (int) (count / 2); } else if (!data.ok) { count = 1; } else count = 2;
    var t = data instanceof java.util.Map ? 1 : 0;
    return {n: count, t: t, d: new Date().getTime(), m: java.util.Arrays.copyOfRange(raw, 0, 2)};
    """
    js = transpile(source, "decoder")
    assert "__t.seq(" in js and "__t.isa(data, \"Map\")" in js and "__t.S.Arrays.copyOfRange" in js


def test_literals_follow_java_types():
    js = transpile("return [1, 2L, 1.5, 2.0, 3f, 0xFF, 0xFFFFFFFF, -2147483648];", "decoder")
    assert "__t.L(2n)" in js and "__t.D(2.0)" in js and "__t.F(3.0)" in js
    assert "1.5" in js and "255" in js and "(-1)" in js and "(-2147483648)" in js


def test_every_builtin_the_code_generator_knows_is_in_the_runtime():
    missing = [name for name in sorted(BUILTINS) if f"    {name}:" not in RUNTIME_JS and f" {name}," not in RUNTIME_JS]
    assert missing == []


def test_break_outside_a_loop_is_a_syntax_error():
    e = error_of("var a = 1;\nbreak;")
    assert (e.line, e.message) == (2, "'break' outside a loop or switch")


def test_a_statement_ending_its_line_may_omit_the_semicolon():
    js = transpile("var m = {\n  a: 1\n}\nvar l = [1,\n 2]\nm.a = f(l)\nm.b = 2\nreturn m;", "decoder")
    assert "return __t.out(m, 0)" in js
    assert error_of("var a = 1 var b = 2;").message.startswith("Expected ';'")


def test_a_script_nesting_thousands_deep_is_a_syntax_error_not_a_crash():
    e = error_of("return " + "(" * 5000 + "1" + ")" * 5000 + ";")
    assert e.message == "the script nests too deeply"
