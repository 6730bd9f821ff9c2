"""Hostile scripts (DESIGN.md section 4): each is stopped within its limit, and afterwards the
same converter and another converter still work."""

import itertools
import json
import threading
import time

import pytest
import quickjs

from converters import engine
from converters.engine import OUT_OF_MEMORY, TIMEOUT, Limits

FAST = Limits(timeout_ms=300)
_keys = itertools.count()

# The hostile code runs only for payload [1]: messages [0] and [2] of the same batch must work.
TEMPLATE = "if (payload[0] === 1) {{\n{hostile}\n}}\nreturn {{ok: payload[0]}};"


HANG_S = 30.0  # every hostile script here would run forever unbounded: a guard, not a speed check


def contained(hostile: str, *, limits: Limits = FAST) -> engine.Result:
    """Run `hostile` as message 1 of a 3-message batch; check the others and later calls. That it
    returns at all is the bound under test (its limit is 300 ms; wall time on a loaded machine is
    no measure of it, so the guard is loose)."""
    key = f"hostile-{next(_keys)}"
    source = TEMPLATE.format(hostile=hostile)
    started = time.monotonic()
    first, hostile_result, third = engine.decode(key, 1, source, [(b"\x00", {}), (b"\x01", {}), (b"\x02", {})],
                                                 limits=limits)
    elapsed = time.monotonic() - started
    assert elapsed < HANG_S, f"took {elapsed:.2f} s"
    assert (first.output_json, third.output_json) == ('{"ok":0}', '{"ok":2}'), (first, third)
    assert hostile_result.output_json is None and hostile_result.error, hostile_result
    assert engine.decode(key, 1, source, [(b"\x03", {})], limits=limits)[0].output_json == '{"ok":3}'
    other = engine.decode(f"{key}-other", 1, "return payload.length;", [(b"abc", {})], limits=limits)
    assert other[0].output_json == "3"
    return hostile_result


# --- 1. user code reached while Python converts a result ------------------------------------

def test_it_bounds_to_json_that_never_returns():
    assert contained("return {toJSON() { for (;;) {} }};").error == TIMEOUT


def test_it_bounds_getters_and_proxies_in_the_result():
    assert contained("return {get x() { for (;;) {} }};").error == TIMEOUT
    assert contained("return new Proxy({}, {ownKeys() { for (;;) {} }});").error == TIMEOUT


# --- 2. user code reached while an exception is converted -----------------------------------

def test_it_never_calls_to_string_of_a_thrown_object():
    result = contained("throw {toString() { for (;;) {} }};")
    assert result.error == "Error: a value that is not an Error was thrown"


def test_it_never_calls_a_poisoned_error_to_string():
    # Built-in prototypes are not frozen (real codecs extend them): the poison lands, and is
    # never called while the error is described.
    result = contained("Error.prototype.toString = function () { for (;;) {} };\nnull.x;")
    assert result.error == "TypeError: cannot read property 'x' of null (line 3)"
    result = contained("TypeError.prototype.toString = () => { for (;;) {} };\nthrow new TypeError('t');")
    assert result.error == "TypeError: t (line 3)"


def test_it_never_runs_getters_on_error_prototypes_while_describing():
    result = contained("Object.defineProperty(Error.prototype, 'name', {get() { for (;;) {} }});\n"
                       "throw new Error('m');")
    assert result.error == "Error: m (line 3)"
    result = contained("Object.defineProperty(TypeError.prototype, 'stack', {get() { for (;;) {} }});\nnull.x;")
    assert result.error == "TypeError: cannot read property 'x' of null (line 3)"
    result = contained("Object.defineProperty(Object.prototype, 'toString', {get() { for (;;) {} }});\n"
                       "throw new RangeError('r');")
    assert result.error == "RangeError: r (line 3)"


def test_it_ignores_getters_on_the_thrown_error_itself():
    for key in ("name", "stack", "message"):
        result = contained(f"var e = new RangeError('r');\n"
                           f"Object.defineProperty(e, '{key}', {{get() {{ for (;;) {{}} }}}});\nthrow e;")
        assert result.error.startswith("RangeError" if key != "name" else "Error: r"), result.error


def test_it_never_converts_with_symbol_to_primitive():
    assert contained("throw {[Symbol.toPrimitive]() { for (;;) {} }};").error.startswith("Error:")
    result = contained("var e = new Error('p'); e[Symbol.toPrimitive] = () => { for (;;) {} };\nthrow e;")
    assert result.error == "Error: p (line 2)"
    # The script's own String({}) reaches its own poison: its deadline stops it.
    result = contained("Object.prototype[Symbol.toPrimitive] = () => { for (;;) {} };\n"
                       "Object.prototype.toJSON = () => { for (;;) {} };\nthrow String({});")
    assert result.error == TIMEOUT


@pytest.mark.parametrize("poison", [
    "Error.prototype.toString = InternalError.prototype.toString = function () { for (;;) {} };",
    "Object.defineProperty(InternalError.prototype, 'stack', {get() { for (;;) {} }});",
    "Object.defineProperty(Error.prototype, 'message', {get() { for (;;) {} }});",
    "Object.prototype.toString = function () { for (;;) {} };",
    "Array.prototype.toJSON = function () { for (;;) {} }; console.log([1]);",
], ids=["to-string", "stack-getter", "message-getter", "object-to-string", "console"])
def test_it_bounds_an_interrupt_that_meets_a_poisoned_prototype(poison):
    # The uncatchable interrupt is converted while user poison is in place: the watchdog kills
    # whatever hangs, and the next message gets a fresh context.
    assert contained(poison + "\nfor (;;) {}").error == TIMEOUT


def test_it_locks_prepare_stack_trace():
    result = contained("Error.prepareStackTrace = () => { for (;;) {} };\nnull.x;")
    assert result.error == "TypeError: cannot read property 'x' of null (line 3)"


# --- prototypes a script extends stay its own -----------------------------------------------

EXTENDS = """Object.prototype.readInt8 = function (offset) { return (this[offset] << 24) >> 24; };
Array.prototype.sum = function () { let s = 0; for (const v of this) s += v; return s; };
class Frame { constructor(b) { this.b = b; } }
Object.setPrototypeOf(Frame.prototype, Object.assign(Object.create(Object.prototype), {kind() { return 'f'; }}));
return {t: payload.readInt8(0), s: payload.sum(), k: new Frame(payload).kind()};"""

PROBE = "return [typeof Object.prototype.readInt8, typeof Array.prototype.sum];"


def test_a_codec_extends_built_in_prototypes_and_only_it_sees_them():
    key = f"extends-{next(_keys)}"
    for _ in range(2):  # a reused context keeps working
        (result,) = engine.decode(key, 1, EXTENDS, [(b"\xff\x02", {})])
        assert result.output_json == '{"t":-1,"s":257,"k":"f"}', result
    untouched = '["undefined","undefined"]'
    assert engine.decode(f"{key}-other", 1, PROBE, [(b"", {})])[0].output_json == untouched  # another converter
    assert engine.decode(None, 0, PROBE, [(b"", {})])[0].output_json == untouched  # a test run
    assert engine.decode(key, 2, PROBE, [(b"", {})])[0].output_json == untouched  # its next version


def test_test_runs_never_share_a_context():
    polluting = "Object.prototype.leak = 1; Array.prototype.push = null; return 0;"
    assert engine.decode(None, 0, polluting, [(b"", {})])[0].output_json == "0"
    probe = "const a = []; a.push(1); return [typeof Object.prototype.leak, a.length];"
    assert engine.decode(None, 0, probe, [(b"", {})])[0].output_json == '["undefined",1]'


# --- 3. built-ins that loop in C without checking the interrupt: the parent kills the worker --

@pytest.mark.parametrize("hostile", [
    "new Array(2**32 - 1).join();",
    "Array.prototype.reverse.call({length: 2**53 - 1});",
    "Array.prototype.splice.call({length: 2**53 - 1}, 0, 1);",
    "Array.prototype.copyWithin.call({length: 2**53 - 1}, 0, 1);",
    "Array.prototype.unshift.call({length: 2**53 - 2}, 1);",
], ids=["join", "reverse", "splice", "copyWithin", "unshift"])
def test_it_kills_a_worker_stuck_in_a_builtin(hostile):
    started = engine.pool_stats()["started"]
    assert contained(hostile).error == TIMEOUT
    assert engine.pool_stats()["started"] > started  # the hung worker was replaced


# --- 4. wall clock, not process CPU time ----------------------------------------------------

def test_it_lets_a_legit_300_ms_script_run_while_other_threads_are_busy():
    stop = threading.Event()

    def burn():  # JS in this process releases the GIL: a real second busy thread
        ctx = quickjs.Context()
        while not stop.is_set():
            ctx.eval("{ const t = Date.now(); while (Date.now() - t < 50) {} }")

    burners = [threading.Thread(target=burn) for _ in range(2)]
    for t in burners:
        t.start()
    try:
        script = "const t = Date.now(); while (Date.now() - t < 300) {} return 'done';"
        result = engine.decode("legit-300", 1, script, [(b"", {})], limits=Limits(timeout_ms=500))
    finally:
        stop.set()
        for t in burners:
            t.join()
    assert result == [engine.Result('"done"', None)]


def test_it_times_out_a_loop_on_the_wall_clock():
    assert contained("for (;;) {}").error == TIMEOUT  # (how long it took is no unit test's business)


# --- memory ----------------------------------------------------------------------------------

@pytest.mark.parametrize("hostile", [
    "return new Uint8Array(1e9);",
    "return new Float64Array(2e7);",
    "return 'x'.repeat(1e9);",
    "return new Array(1e8).fill(0);",
    "let a = []; for (;;) a.push({x: a.length});",
    "let s = 'ab'; for (;;) s = s + s + Math.random();",
], ids=["uint8", "float64", "repeat", "fill", "objects", "strings"])
def test_it_stops_memory_bombs(hostile):
    # a long time limit: on a loaded machine the 300 ms one could stop the bomb before memory does
    roomy = Limits(timeout_ms=20_000)
    assert contained(hostile, limits=roomy).error in (OUT_OF_MEMORY, "InternalError: string too long (line 2)")


def test_it_rebuilds_a_context_that_leaks_memory_across_messages():
    script = "globalThis.keep = globalThis.keep || []; keep.push(new Uint8Array(8e6)); return keep.length;"
    results = engine.decode("leaky", 1, script, [(b"", {})] * 6)
    outputs = [r.output_json or r.error for r in results]
    assert outputs[:3] == ["1", "2", "3"]
    assert OUT_OF_MEMORY in outputs
    assert outputs[outputs.index(OUT_OF_MEMORY) + 1] == "1"  # a fresh context


def test_it_catches_stack_overflow():
    assert "call stack size exceeded" in contained("function f() { return f() + 1; } return f();").error


# --- results that are not data -------------------------------------------------------------

@pytest.mark.parametrize(("code", "error"), [
    ("return 10n;", "the decoder result cannot be turned into JSON: TypeError: BigInt are forbidden in JSON.stringify"),
    ("return {a: 1n};", "the decoder result cannot be turned into JSON: TypeError: BigInt are forbidden"),
    ("return undefined;", "the decoder returned nothing (undefined)"),
    ("", "the decoder returned nothing (undefined)"),
    ("return function () {};", "the decoder returned a function, not data"),
    ("return Symbol('s');", "the decoder returned a symbol, not data"),
    ("const a = {}; a.self = a; return a;", "the decoder result cannot be turned into JSON: TypeError: circular"),
    ("const a = [[]]; a[0].push(a); return a;", "the decoder result cannot be turned into JSON: TypeError: circular"),
])
def test_it_refuses_results_that_are_not_data(code, error):
    result = engine.decode(None, None, code, [(b"", {})])[0]
    assert result.output_json is None and result.error.startswith(error), result


def test_it_drops_undefined_and_functions_inside_objects_like_json_stringify():
    # ThingsBoard's JS executor returns JSON.stringify(result): nested undefined is dropped.
    result = engine.decode(None, None, "return {a: undefined, f() {}, n: NaN, b: [undefined]};", [(b"", {})])[0]
    assert result.output_json == '{"n":null,"b":[null]}'


def test_it_caps_output_size():
    limits = Limits(max_output_bytes=1000)
    ok, big = engine.decode(None, None, "return 'x'.repeat(payload[0] * 10);", [(b"\x01", {}), (b"\xff", {})],
                            limits=limits)
    assert ok.ok and big.error == "the decoder output is too large: 2552 characters (limit 1000 bytes)"
    multibyte = engine.decode(None, None, "return '\u20ac'.repeat(500);", [(b"", {})], limits=limits)[0]
    assert multibyte.error == "the output is too large (limit 1000 bytes)"


def test_it_caps_error_text():
    result = engine.decode(None, None, "throw new Error('e'.repeat(100000));", [(b"", {})])[0]
    assert 1000 < len(result.error) <= 1100 and result.error.endswith("...")


# --- no host access ------------------------------------------------------------------------

def test_it_has_no_node_or_quickjs_host_objects():
    names = ["require", "process", "module", "std", "os", "setTimeout", "setInterval", "Buffer",
             "fetch", "XMLHttpRequest", "print", "scriptArgs", "__loadScript", "bjson", "Worker"]
    script = "return [" + ", ".join(f"typeof {n}" for n in names) + "];"
    assert json.loads(engine.decode(None, None, script, [(b"", {})])[0].output_json) == ["undefined"] * len(names)


def test_it_gives_a_script_that_uses_exports_its_own_plain_module_object():
    # TS013 codecs from device repositories end with `exports.decodeUplink = decodeUplink;`:
    # `module`/`exports` are plain objects local to that script, never globals.
    script = ("exports.x = 1; return [typeof module, module.exports === exports, Object.keys(exports),"
              " Object.getPrototypeOf(exports) === Object.prototype, 'exports' in globalThis];")
    assert engine.decode(None, None, script, [(b"", {})])[0].output_json == '["object",true,["x"],true,false]'


def test_it_never_loads_a_module():
    script = "let state = 'pending'; import('os').then(() => state = 'loaded', () => state = 'rejected');\n" \
             "return [state, typeof os];"
    assert engine.decode(None, None, script, [(b"", {})])[0].output_json == '["pending","undefined"]'
    error = engine.check_script("decoder", "import * as os from 'os';\nreturn 1;")
    assert error is not None and error.message.startswith("SyntaxError") and error.line == 1


def test_it_refuses_atomics_wait():
    script = "Atomics.wait(new Int32Array(new SharedArrayBuffer(16)), 0, 0, 1000);"
    assert "cannot block" in contained(script).error


ALLOWED_GLOBALS = set("""
Object Function Error EvalError RangeError ReferenceError SyntaxError TypeError URIError InternalError
AggregateError SuppressedError Iterator Array parseInt parseFloat isNaN isFinite queueMicrotask decodeURI
decodeURIComponent encodeURI encodeURIComponent escape unescape Infinity NaN undefined eval Number Boolean
String Math Reflect Symbol DisposableStack globalThis BigInt Date RegExp JSON Proxy Map Set WeakMap WeakSet
ArrayBuffer SharedArrayBuffer Uint8ClampedArray Int8Array Uint8Array Int16Array Uint16Array Int32Array
Uint32Array BigInt64Array BigUint64Array Float16Array Float32Array Float64Array DataView Atomics Promise
AsyncDisposableStack WeakRef FinalizationRegistry DOMException btoa atob performance console
""".split())


def test_it_exposes_only_ecmascript_globals_atob_btoa_and_console():
    """No Python callable or object is ever installed in a context: a script cannot reach one."""
    script = ("return Object.getOwnPropertyNames(globalThis)"
              ".concat(Object.getOwnPropertySymbols(globalThis).map(String));")

    names = set(json.loads(engine.decode(None, None, script, [(b"", {})])[0].output_json))
    assert names - ALLOWED_GLOBALS <= {"Symbol(Symbol.toStringTag)"}  # nothing from Python


def test_it_keeps_the_interrupt_uncatchable():
    script = "for (;;) { try { for (;;) {} } catch (e) {} }"
    assert contained(script).error == TIMEOUT
