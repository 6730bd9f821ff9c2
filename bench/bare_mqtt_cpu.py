"""Where the CPU of the bare MQTT round goes: the publisher, the broker and the bare subscriber.

    python -m bench.bare_mqtt_cpu [messages]      (default 200,000)

The MQTT row of `make bench` (bench/mqtt_uplinks.py) compares the product with a bare gmqtt
subscriber through the same Mosquitto, fed by the same publisher. Half the bare rate (issue 18's
target) leaves, per message, the two cores' time at that rate less what the publisher and the
broker spend: this prints those shares (CPU microseconds per message of each process, from
/proc utime+stime and this process's own CPU time) and that budget, so the arithmetic in
docs/performance.md is measured, not guessed. Not part of `make bench`: an analysis tool like
bench.drain.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

from bench import mqtt_uplinks, procs

HZ = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def _broker_pid(port: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = open(f"/proc/{entry}/cmdline").read().split("\0")
            except OSError:
                continue
            if argv and argv[0].endswith("mosquitto") and any(str(port) in open(a).read()
                                                            for a in argv[1:] if a.endswith(".conf")):
                return int(entry)
    raise RuntimeError(f"no mosquitto process serves port {port}")


def main(n: int) -> None:
    bodies = [json.dumps({"deviceName": f"d{i % 100}", "ts": i, "temperature": 20.5, "humidity": 40,
                          "status": "ok"}).encode() for i in range(n)]
    with mqtt_uplinks.broker() as port:
        broker = _broker_pid(port)
        prefix = f"bench/{uuid.uuid4().hex[:8]}"
        bare = subprocess.Popen([sys.executable, "-m", "bench.bare_mqtt", mqtt_uplinks.HOST, str(port),
                                 f"{prefix}/+", str(n)], cwd=procs.ROOT, stdout=subprocess.PIPE, text=True)
        try:
            if bare.stdout.readline().strip() != "ready":
                raise RuntimeError("the bare MQTT subscriber did not start")
            before = (time.process_time(), _cpu(broker), _cpu(bare.pid))
            started = time.monotonic()
            asyncio.run(mqtt_uplinks._publish(port, prefix, bodies))
            elapsed = float(bare.stdout.readline().split()[1]) - started
            used = [after - b for after, b in zip((time.process_time(), _cpu(broker), _cpu(bare.pid)), before,
                                                  strict=True)]
        finally:
            bare.kill()
            bare.wait()
    rate = n / elapsed
    publisher, mosquitto, subscriber = (seconds / n * 1e6 for seconds in used)
    budget = os.cpu_count() * 1e6 / (rate / 2)
    print(f"bare round: {rate:,.0f} msg/s; CPU us per message: publisher {publisher:.1f}, "
          f"mosquitto {mosquitto:.1f}, bare subscriber {subscriber:.1f}")
    print(f"at half that rate ({rate / 2:,.0f} msg/s) {os.cpu_count()} cores give {budget:.1f} us per message; "
          f"less the publisher and the broker, {budget - publisher - mosquitto:.1f} us for everything the "
          "product does with a message (listener, queue, worker, converter, PostgreSQL)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
