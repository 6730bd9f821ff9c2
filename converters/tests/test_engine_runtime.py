"""The runtime's contract: ThingsBoard's function bodies, batches, cached contexts, the watchdog
re-running a batch, compile errors with lines, console, thread safety."""

import itertools
import json
import os
import signal
import threading
import time

import pytest

from converters import engine
from converters.engine import TIMEOUT, Limits, ScriptError
from converters.engine.worker import SKIPPED

_keys = itertools.count()


def key() -> str:
    return f"runtime-{next(_keys)}"


def test_it_passes_bytes_and_metadata_as_thingsboard_does():
    script = "return {isArray: Array.isArray(payload), bytes: payload, meta: metadata, n: arguments.length};"
    result = engine.decode(key(), 1, script, [(bytes([0, 127, 128, 255]), {"integrationName": "HTTP", "k": "v"})])
    assert json.loads(result[0].output_json) == {
        "isArray": True, "bytes": [0, 127, 128, 255], "meta": {"integrationName": "HTTP", "k": "v"}, "n": 2}


def test_every_payload_is_a_plain_array_of_its_byte_values():
    """Bytes cross as base64 and become an Array in C (prelude.js __tbPayload): every byte value,
    empty payloads, payload lengths base64 pads differently, and an array a script may change."""
    script = ("const before = payload.slice(); payload.push(1); payload[0] = 'x';"
              "return {isArray: Array.isArray(payload), proto: Object.getPrototypeOf(payload) === Array.prototype,"
              " before, after: payload.length, typed: ArrayBuffer.isView(payload)};")
    payloads = [bytes(range(256)), b"", b"a", b"ab", b"abc", bytes([255]) * 1000, os.urandom(70)]
    results = engine.decode(key(), 1, script, [(p, {}) for p in payloads])
    for payload, result in zip(payloads, results, strict=True):
        assert json.loads(result.output_json) == {"isArray": True, "proto": True, "before": list(payload),
                                                  "after": len(payload) + 1, "typed": False}


def test_it_passes_encoder_arguments_as_thingsboard_does():
    script = "return {msg, metadata, msgType, integrationMetadata, name: Encoder.name};"
    result = engine.encode(key(), 1, script, [('{"a": [1, 2]}', {"deviceName": "d"}, "ATTRIBUTES_UPDATED",
                                                {"integrationName": "MQTT"})])
    assert json.loads(result[0].output_json) == {
        "msg": {"a": [1, 2]}, "metadata": {"deviceName": "d"}, "msgType": "ATTRIBUTES_UPDATED",
        "integrationMetadata": {"integrationName": "MQTT"}, "name": "Encoder"}


def test_it_refuses_an_encoder_message_that_is_not_json():
    result = engine.encode(None, None, "return msg;", [("not json", {}, "RPC", {})])[0]
    assert result.error.startswith("SyntaxError")


def test_it_keeps_results_in_batch_order_and_isolates_failures():
    script = "if (payload[0] % 3 === 0) throw new Error('bad ' + payload[0]);\nreturn payload[0];"
    results = engine.decode(key(), 1, script, [(bytes([i]), {}) for i in range(1, 8)])
    assert [r.output_json or r.error for r in results] == [
        "1", "2", "Error: bad 3 (line 1)", "4", "5", "Error: bad 6 (line 1)", "7"]
    assert engine.decode(key(), 1, script, []) == []


def test_it_gives_atob_btoa_and_console():
    script = ("console.log('decoding', payload.length, {a: 1});\nconsole.warn('w');\nconsole.error(new TypeError('t'));"
              "\nreturn [btoa('\\x00\\xff'), atob('aGk=')];")
    result = engine.decode(key(), 1, script, [(b"ab", {})])[0]
    assert result.output_json == '["AP8=","hi"]'
    assert result.logs == ('INFO decoding 2 {"a":1}', "WARN w", "ERROR TypeError: t")
    assert engine.decode(key(), 1, "return 1;", [(b"", {})])[0].logs == ()


def test_it_returns_every_kind_of_result_with_and_without_logs():
    # A result without logs comes back as its bare JSON text, one with logs or an error framed
    # (prelude.js __tbFinish): numbers, strings and literals start like neither.
    results = ['0', '-1.5', '12', '"0:x"', '"\\u0001"', 'true', 'null', '[]', '{"a":"b"}', '"caf\u00e9"']
    for log in ("", "console.log('x');"):
        script = f"{log}return JSON.parse(String.fromCharCode.apply(String, payload));"
        ran = engine.decode(key(), 1, script, [(json.dumps(json.loads(r)).encode(), {}) for r in results])
        assert [r.output_json for r in ran] == results
        assert [r.logs for r in ran] == [("INFO x",) if log else ()] * len(results)
    failed = engine.decode(key(), 1, "throw new Error('0:1');", [(b"", {})])[0]
    assert (failed.output_json, failed.error) == (None, "Error: 0:1 (line 1)")


def test_it_carries_any_unicode_across():
    script = ("console.log('emoji \\u{1F600} \u00e9', '\\ud800');\n"
              "if (payload[0]) throw new Error('lone \\ud800');\nreturn {a: '\\u{1F600}', b: metadata.m};")
    ok, failed = engine.decode(key(), 1, script, [(b"\x00", {"m": "\u00fc\U0001F600"}), (b"\x01", {})])
    assert json.loads(ok.output_json) == {"a": "\U0001F600", "b": "\u00fc\U0001F600"}
    assert ok.logs == ("INFO emoji \U0001F600 \u00e9 \ufffd",)
    assert failed.error == "Error: lone \ufffd (line 2)"


def test_it_caps_console_output():
    result = engine.decode(key(), 1, "for (let i = 0; i < 1000; i++) console.log('x'.repeat(5000)); return 1;",
                           [(b"", {})])[0]
    assert result.ok and 1 <= len(result.logs) <= 100 and all(len(line) <= 1030 for line in result.logs)


def test_it_reuses_one_context_per_converter_version():
    script = "globalThis.n = (globalThis.n || 0) + 1; return n;"
    k = key()
    assert [r.output_json for r in engine.decode(k, 1, script, [(b"", {})] * 3)] == ["1", "2", "3"]
    assert engine.decode(k, 1, script, [(b"", {})])[0].output_json == "4"
    assert engine.decode(k, 2, script, [(b"", {})])[0].output_json == "1"  # new version: fresh context
    changed = script + "\n// edited"
    assert engine.decode(k, 2, changed, [(b"", {})])[0].output_json == "1"  # script changed: rebuilt
    assert engine.decode(None, None, script, [(b"", {})] * 2)[1].output_json == "2"  # one batch, one context
    assert engine.decode(None, None, script, [(b"", {})])[0].output_json == "1"  # never cached


def test_it_keeps_contexts_of_different_converters_apart():
    script = "if (payload[0] === 1) return typeof [].sum;\nArray.prototype.sum = () => 42;\nreturn 'set';"
    a, b = key(), key()
    assert engine.decode(a, 1, script, [(b"\x00", {})])[0].output_json == '"set"'
    assert engine.decode(b, 1, script, [(b"\x01", {})])[0].output_json == '"undefined"'  # same script, own context
    assert engine.decode(a, 1, script, [(b"\x01", {})])[0].output_json == '"function"'  # a polluted only itself


def test_it_bounds_the_context_cache():
    limits = Limits(context_cache=2)
    script = "globalThis.n = (globalThis.n || 0) + 1; return n;"
    first, second, third = key(), key(), key()
    for k in (first, second, first, third, first):
        engine.decode(k, 1, script, [(b"", {})], limits=limits)
    # first was used last, second was evicted when third came in
    assert engine.decode(first, 1, script, [(b"", {})], limits=limits)[0].output_json == "4"
    assert engine.decode(second, 1, script, [(b"", {})], limits=limits)[0].output_json == "1"


def test_it_reruns_the_rest_of_a_batch_after_killing_a_hung_worker():
    script = "if (payload[0] === 2) new Array(2**32 - 1).join();\nreturn payload[0] * 10;"
    # A fresh pool with one worker: earlier tests that decoded from several threads leave idle spares.
    engine.shutdown()
    engine.decode(key(), 1, "return 1;", [(b"", {})])
    started = engine.pool_stats()["started"]
    results = engine.decode(key(), 1, script, [(bytes([i]), {}) for i in range(5)], limits=Limits(timeout_ms=300))
    assert [r.output_json or r.error for r in results] == ["0", "10", TIMEOUT, "30", "40"]
    assert engine.pool_stats()["started"] == started + 1


def test_it_stops_running_a_converter_that_keeps_timing_out():
    limits = Limits(timeout_ms=200, max_timeouts_per_batch=2)
    began = time.monotonic()
    results = engine.decode(key(), 1, "for (;;) {}", [(b"", {})] * 50, limits=limits)
    assert time.monotonic() - began < 3
    assert [r.error for r in results[:2]] == [TIMEOUT, TIMEOUT]
    assert {r.error for r in results[2:]} == {SKIPPED.format(n=2)}


def test_it_stops_after_repeated_kills_too():
    limits = Limits(timeout_ms=200, max_timeouts_per_batch=2)
    results = engine.decode(key(), 1, "new Array(2**32 - 1).join();", [(b"", {})] * 20, limits=limits)
    assert [r.error for r in results[:2]] == [TIMEOUT, TIMEOUT]
    assert results[19].error == SKIPPED.format(n=2)


def test_it_reports_compile_errors_with_the_line_in_the_body():
    assert engine.check_script("decoder", "var a = 1;\nvar b = ;\nreturn a;") == ScriptError(
        "SyntaxError: unexpected token in expression: ';'", 2)
    error = engine.check_script("uplink", "var a = {\n  b: 1,\n\nreturn a;")
    assert error.message.startswith("SyntaxError") and error.line == 4
    error = engine.check_script("encoder", "return {contentType: 'JSON', data: `x}")
    assert error.message.startswith("SyntaxError") and error.line == 1
    assert str(ScriptError("SyntaxError: x", 3)) == "SyntaxError: x (line 3)"
    assert engine.check_script("decoder", "return {deviceName: 'x'};") is None
    assert engine.check_script("DOWNLINK", "return {contentType: 'TEXT', data: msgType};") is None
    with pytest.raises(ValueError):
        engine.check_script("transformer", "return 1;")


def test_it_never_runs_the_body_when_checking():
    assert engine.check_script("decoder", "for (;;) {}") is None


def test_it_bounds_code_placed_outside_the_body():
    # Like ThingsBoard's wrapper, the body is pasted into a function; closing it early runs
    # code at compile time, which is bounded like any run.
    # (The wrapper is itself wrapped, to hand the body its TS013 entry point: two closings.)
    assert engine.check_script("decoder", "}; }); for (;;) {} (function () { return function () {") \
        == ScriptError(TIMEOUT)


def test_it_fails_every_message_of_a_script_that_does_not_compile():
    results = engine.decode(key(), 1, "return {;", [(b"", {})] * 2)
    assert [r.error for r in results] == ["SyntaxError: invalid property name (line 1)"] * 2


def test_it_is_thread_safe():
    errors = []

    def work(n):
        try:
            script = f"return payload[0] + {n};"
            for _ in range(10):
                results = engine.decode(f"threads-{n}", 1, script, [(bytes([i]), {}) for i in range(20)])
                assert [r.output_json for r in results] == [str(i + n) for i in range(20)]
        except Exception as e:  # collected: assertions in threads do not fail the test by themselves
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert engine.pool_stats()["workers"] <= engine.pool_stats()["size"]


def test_it_runs_modern_syntax():
    script = """
      const {a = 1, ...rest} = {b: 2, c: 3};
      class Point { constructor(x, y) { Object.assign(this, {x, y}); } get sum() { return this.x + this.y; } }
      const m = new Map(Object.entries(rest));
      const dv = new DataView(Uint8Array.from(payload).buffer);
      return {a, rest: [...m.keys()], sum: new Point(2, 3).sum, opt: metadata?.missing?.deep ?? 'dflt',
              t: `v${dv.getUint16(0, true)}`, big: Number(2n ** 40n), arrow: [1, 2].map((x) => x ** 2)};
    """
    result = engine.decode(key(), 1, script, [(b"\x01\x02", {})])[0]
    assert json.loads(result.output_json) == {"a": 1, "rest": ["b", "c"], "sum": 5, "opt": "dflt", "t": "v513",
                                              "big": 2**40, "arrow": [1, 4]}


def test_it_restarts_after_shutdown():
    engine.shutdown()
    assert engine.pool_stats()["workers"] == 0
    assert engine.decode(key(), 1, "return 1;", [(b"", {})])[0].output_json == "1"


def test_it_survives_input_that_cannot_cross_to_a_worker():
    with pytest.raises(Exception, match="pickle"):
        engine.decode(key(), 1, "return 1;", [(b"", {"callback": lambda: None})])
    assert engine.decode(key(), 1, "return 2;", [(b"", {})])[0].output_json == "2"
    stats = engine.pool_stats()
    assert stats["idle"] == stats["workers"]  # nothing leaked


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="finds the busy worker through /proc")
def test_it_reruns_a_batch_when_a_worker_dies_under_a_message():
    from converters.engine import CRASHED, _pool

    engine.decode("warm", 1, "return 0;", [(b"", {})])
    pids = [w.process.pid for w in _pool()._idle]
    script = "if (payload[0] === 1) { const t = Date.now(); while (Date.now() - t < 400) {} }\nreturn payload[0];"

    def kill_busy_worker():
        time.sleep(0.15)
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(")")[1].split()[0] == "R":
                        os.kill(pid, signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass

    killer = threading.Thread(target=kill_busy_worker)
    killer.start()
    results = engine.decode(key(), 1, script, [(bytes([i]), {}) for i in range(3)], limits=Limits(timeout_ms=1000))
    killer.join()
    assert [r.output_json or r.error for r in results] == ["0", CRASHED, "2"]


def test_it_replaces_a_worker_that_died_while_idle():
    from converters.engine import _pool

    engine.decode("warm", 1, "return 0;", [(b"", {})])
    for worker in _pool()._idle:
        worker.process.kill()
        worker.process.wait()
    assert engine.decode(key(), 1, "return 5;", [(b"", {})])[0].output_json == "5"


def test_it_raises_engine_error_when_workers_cannot_start():
    from converters.engine.pool import Pool

    pool = Pool(1, backend="no-such-backend")
    try:
        with pytest.raises(engine.EngineError):
            pool.run("decoder", None, "return 1;", [(b"", {})], Limits())
    finally:
        pool.close()


def test_it_gives_a_forked_child_its_own_pool():
    engine.decode("warm", 1, "return 0;", [(b"", {})])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must never return into pytest
        try:
            out = engine.decode("child", 1, "return 'from child';", [(b"", {})])[0].output_json or "error"
            os.write(write, out.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        assert f.read() == '"from child"'
    assert engine.decode("warm", 1, "return 0;", [(b"", {})])[0].output_json == "0"  # parent's pool intact
