"""Converter runtime throughput beside the same script on a bare quickjs-ng context.

The decoder is a typical LoRaWAN-style binary one: a 20-byte frame in, five values out (signed
and unsigned big-endian fields, a bit flag, a scaled byte). The runtime side goes through the
public API exactly as the uplink pipeline calls it: batches of messages, one round trip to a
worker process per batch, with every limit on (wall-clock watchdog, CPU interrupt, memory limit,
output cap, errors caught and stringified inside JS). The baseline is the same function body
called directly on one bare quickjs.Context in this process, arguments passed as JS objects via
parse_json and the result read back with .json(): no isolation, no limits, no process hop.
Target (issue 3): at least 20,000 decodes/s per worker process and at least 70% of bare.
"""

import json
import os
import statistics
import threading
import time

__all__ = ["DECODER", "run"]

DECODER = r"""
  // frame: flags(1) temp(int16 BE, 0.01 C) hum(1, 0.5 %) pressure(uint16 BE, 0.1 hPa + 500)
  //        battery(1, 20 mV + 2 V) counter(uint32 BE) ... padding to 20 bytes
  function u16(i) { return (payload[i] << 8) | payload[i + 1]; }
  function s16(i) { const v = u16(i); return v & 0x8000 ? v - 0x10000 : v; }
  const flags = payload[0];
  return {
    deviceName: 'node-' + metadata.devEui,
    deviceType: 'env-sensor',
    telemetry: {
      temperature: s16(1) / 100,
      humidity: payload[3] / 2,
      pressure: u16(4) / 10 + 500,
      battery: (payload[6] * 20 + 2000) / 1000,
      alarm: (flags & 0x01) === 1,
    },
  };
"""


def _messages(n: int) -> list[tuple[bytes, dict]]:
    meta = {"integrationName": "HTTP bench", "Header:content-type": "application/octet-stream"}
    return [(os.urandom(20), dict(meta, devEui=f"a81758fffe03{i % 1000:04d}")) for i in range(n)]


def _bare_decoder():
    import quickjs

    ctx = quickjs.Context()
    ctx.eval("function Decoder(payload, metadata) {" + DECODER + "}")
    decoder = ctx.get("Decoder")

    def decode_all(messages) -> float:
        started = time.perf_counter()
        for payload, metadata in messages:
            decoder(ctx.parse_json(json.dumps(list(payload))), ctx.parse_json(json.dumps(metadata))).json()
        return time.perf_counter() - started

    return decode_all


def _runtime(messages, batch: int, threads: int = 1) -> float:
    from converters import engine

    def work(part):
        for i in range(0, len(part), batch):
            results = engine.decode("bench-decoder", 1, DECODER, part[i : i + batch])
            assert results[0].ok, results[0].error

    parts = [messages[i::threads] for i in range(threads)]
    pool = [threading.Thread(target=work, args=(p,)) for p in parts]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - started


def run(quick: bool = False) -> list[dict]:
    """Rounds interleave the bare and runtime sides, so that a noisy neighbour slows both;
    each figure is the median over the rounds."""
    from converters import engine

    rounds, per_round = (3, 10_000) if quick else (7, 20_000)
    messages = _messages(per_round)
    bare = _bare_decoder()
    bare(messages[:2000])  # warm up both sides: start the worker, compile once
    engine.decode("bench-decoder", 1, DECODER, messages[:100])
    workers = engine.limits.worker_count()
    sides = {"bare": lambda: bare(messages), 100: lambda: _runtime(messages, 100),
             500: lambda: _runtime(messages, 500)}
    if workers > 1:
        sides["all"] = lambda: _runtime(messages, 500, threads=workers)
    rates: dict = {name: [] for name in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            rates[name].append(per_round / side())
    engine.shutdown()
    median = {name: statistics.median(values) for name, values in rates.items()}
    bare_rate = median["bare"]
    common = {"unit": "decodes/s", "baseline_value": round(bare_rate), "messages": per_round * rounds}
    rows = [{
        "metric": f"converter_decodes_per_s_batch{batch}", "value": round(median[batch]),
        "baseline": "same decoder on a bare quickjs-ng context, in process, no limits",
        "ratio": round(median[batch] / bare_rate, 3),
        "target": ">= 20000 decodes/s per worker process and >= 0.7 of bare", "batch": batch, "workers": 1,
        **common,
    } for batch in (100, 500)]
    if workers > 1:
        rows.append({
            "metric": "converter_decodes_per_s_all_workers", "value": round(median["all"]),
            "baseline": "bare quickjs-ng context, one thread", "ratio": round(median["all"] / bare_rate, 3),
            "target": "informational: every worker busy, one caller thread each", "batch": 500,
            "workers": workers, **common,
        })
    return rows


if __name__ == "__main__":  # python -m bench.converters: this benchmark alone
    for row in run(quick=True):
        print(row)
