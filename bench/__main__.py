"""Run every benchmark and write bench/results.json. Usage: python -m bench [--quick]."""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from bench import (
    converters,
    downlinks,
    growth,
    memory,
    procs,
    provisioning,
    rate_limits,
    tbel,
    telemetry_write,
    uplinks,
)
from bench.setup import bench_database

BENCHMARKS = [telemetry_write, converters, tbel, uplinks, rate_limits, downlinks, provisioning, memory, growth]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data sets, for a smoke run")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this benchmark module (repeatable), e.g. --only uplinks")
    args = parser.parse_args()
    results = []
    started = time.monotonic()
    with bench_database():
        for module in BENCHMARKS:
            if args.only and module.__name__.rsplit(".", 1)[-1] not in args.only:
                continue
            for result in module.run(quick=args.quick):
                results.append(result)
                if "error" in result:
                    print(f"{result['metric']}: FAILED: {result['error']}", flush=True)
                    continue
                latency = (f"  [p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms]"
                           if "p99_ms" in result else "")
                print(f"{result['metric']}: {result['value']:,} {result['unit']}  "
                      f"(baseline {result['baseline']}: {result['baseline_value']:,}; ratio {result['ratio']})"
                      f"{latency}", flush=True)
    out = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": args.quick,
           "seconds": round(time.monotonic() - started), "web_server": procs.WEB_SERVER,
           "machine": {"python": sys.version.split()[0], "platform": platform.platform()}, "results": results}
    Path(__file__).with_name("results.json").write_text(json.dumps(out, indent=2) + "\n")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
