"""TBEL decode throughput beside the same decoder written in JavaScript, in the same run.

Both sides go through the public engine API exactly as the uplink pipeline calls it (batches of
100 messages, one worker process, every limit on); the TBEL side is transpiled once per context
(converters/tbel) and then runs as JavaScript with the TBEL runtime's Java semantics (signed
bytes, Integer/Double boxes, map and list methods). The decoder is bench/converters.py's
LoRaWAN-style frame, written as ThingsBoard's TBEL converters write it (bytes masked with 0xFF,
``/ 100.0`` for a Double). Target (issue 15): a TBEL decode costs within 1.5x of the JS decode,
i.e. a rate of at least 0.67 of the JS side.
"""

import json
import statistics
import time

from bench.converters import DECODER as JS_DECODER
from bench.converters import _messages

__all__ = ["TBEL_DECODER", "run"]

TBEL_DECODER = r"""
// frame: flags(1) temp(int16 BE, 0.01 C) hum(1, 0.5 %) pressure(uint16 BE, 0.1 hPa + 500)
//        battery(1, 20 mV + 2 V) counter(uint32 BE) ... padding to 20 bytes
var flags = payload[0] & 0xFF;
return {
    deviceName: 'node-' + metadata.devEui,
    deviceType: 'env-sensor',
    telemetry: {
        temperature: s16(1) / 100.0,
        humidity: (payload[3] & 0xFF) / 2.0,
        pressure: u16(4) / 10.0 + 500,
        battery: ((payload[6] & 0xFF) * 20 + 2000) / 1000.0,
        alarm: (flags & 0x01) == 1
    }
};

function u16(i) { return ((payload[i] & 0xFF) << 8) | (payload[i + 1] & 0xFF); }
function s16(i) { var v = u16(i); return (v & 0x8000) != 0 ? v - 0x10000 : v; }
"""

BATCH = 100


def _side(lang: str, source: str, messages) -> float:
    from converters import engine

    started = time.perf_counter()
    for i in range(0, len(messages), BATCH):
        results = engine.decode(f"bench-{lang}", 1, source, messages[i : i + BATCH], lang=lang)
        assert results[0].ok, results[0].error
    return time.perf_counter() - started


def _same_answers(messages) -> None:
    """Both decoders give the same telemetry for the same frames (else the figure means nothing)."""
    from converters import engine

    js = engine.decode("bench-JS", 1, JS_DECODER, messages, lang="JS")
    tbel = engine.decode("bench-TBEL", 1, TBEL_DECODER, messages, lang="TBEL")
    for a, b in zip(js, tbel, strict=True):
        assert a.ok and b.ok, (a.error, b.error)
        assert json.loads(a.output_json) == json.loads(b.output_json), (a.output_json, b.output_json)


def run(quick: bool = False) -> list[dict]:
    """Rounds interleave the two sides, so that a noisy neighbour slows both; medians of rounds."""
    from converters import engine

    rounds, per_round = (3, 5_000) if quick else (7, 20_000)
    messages = _messages(per_round)
    _same_answers(messages[:200])  # also warms both contexts
    rates: dict[str, list[float]] = {"JS": [], "TBEL": []}
    for _ in range(rounds):
        rates["JS"].append(per_round / _side("JS", JS_DECODER, messages))
        rates["TBEL"].append(per_round / _side("TBEL", TBEL_DECODER, messages))
    engine.shutdown()
    js, tbel = statistics.median(rates["JS"]), statistics.median(rates["TBEL"])
    return [{
        "metric": "tbel_decodes_per_s_batch100", "value": round(tbel), "unit": "decodes/s",
        "baseline": "the same decoder in JavaScript, same engine, same run", "baseline_value": round(js),
        "ratio": round(tbel / js, 3), "target": ">= 0.67 of the JS decoder (a TBEL decode within 1.5x)",
        "batch": BATCH, "workers": 1, "messages": per_round * rounds,
    }]


if __name__ == "__main__":  # python -m bench.tbel: this benchmark alone
    for row in run(quick=True):
        print(row)
