"""The worker's drain of a backlog, in process: serial pipeline batches against overlapped ones.

    python -m bench.drain [messages] [rounds]    (BENCH_REDIS_URL: Redis for dedup and limits)
    python -m bench.drain [messages] [rounds] --worker   (a Celery worker, see below)

Hands ``messages`` queued uplinks (task messages of UPLINK_BATCH_SIZE, as a listener queues them)
to integrations.tasks.process_uplinks at once, as a worker's coalesced task gets a backlog, and
times the drain: PIPELINE_OVERLAP off (one batch after another) and on (integrations/overlap.py),
alternating, because the machine's load swings. Per round: msg/s, and CPU per message of this
process (time.process_time: every thread), of its converter engine processes (children) and of
the PostgreSQL backends serving its database (/proc utime+stime). No broker, no listener: only
the pipeline's chain (pool -> engine -> pool -> PostgreSQL). This process runs with the worker's
garbage-collector settings (tbproject/gc_tuning.py), as the pool process it stands for does.

``--worker``: the same backlog queued at once (one LPUSH, queue.accept_many) to a running Celery
worker (bench/procs.worker), once per configuration (DRAIN_CONFIGS, default
"1:false,1:true,2:false,2:true": --concurrency and PIPELINE_OVERLAP); msg/s from the LPUSH to
the last row queryable, CPU per message of the worker's process tree (consumer, pool, engines)
and of the database's backends.
"""

import os
import sys
import time

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
HZ = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def _children() -> list[int]:
    me, out = str(os.getpid()), []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == me:
                        out.append(int(pid))
            except OSError:
                continue
    return out


def _backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row[0] for row in cur.fetchall()]


STAGES = {"begin": 0.0, "complete": 0.0}


def _timed(name, fn):
    def run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            STAGES[name] += time.perf_counter() - started
    return run


def _drain(uplinks, overlap: bool) -> dict:
    from django.conf import settings

    from integrations import queue, tasks

    class Request:
        def __init__(self, batch):
            self.args, self.delivery_info = [batch], {}

    size = settings.UPLINK_BATCH_SIZE
    requests = [Request(queue.encode(uplinks[i:i + size])) for i in range(0, len(uplinks), size)]
    settings.PIPELINE_OVERLAP = overlap
    pids = set(_children()) | set(_backends())
    before = {pid: _cpu(pid) for pid in pids}
    STAGES.update(begin=0.0, complete=0.0)
    cpu, wall = time.process_time(), time.perf_counter()
    tasks.process_uplinks.run(requests)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stages = STAGES["begin"] + STAGES["complete"]
    engine = sum(_cpu(p) - before.get(p, 0.0) for p in _children())
    pg = sum(_cpu(p) - before.get(p, 0.0) for p in set(_backends()) | pids if p not in _children())
    n = len(uplinks)
    return {"overlap": overlap, "msg_per_s": round(n / wall), "worker_us_per_msg": round(cpu / n * 1e6, 1),
            "engine_us_per_msg": round(engine / n * 1e6, 1), "pg_us_per_msg": round(pg / n * 1e6, 1),
            "worker_cores": round(cpu / wall, 2), "engine_cores": round(engine / wall, 2),
            "pg_cores": round(pg / wall, 2),
            # wall seconds of the two halves over the drain's: 1 = one after another, 2 = fully overlapped
            "stages_over_wall": round(stages / wall, 2)}


def _tree(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _worker_rounds(backlog, dsn: str, n: int, rounds: int) -> None:
    from bench import procs
    from bench import uplinks as bench_uplinks
    from integrations import queue

    configs = [tuple(c.split(":")) for c in os.environ.get("DRAIN_CONFIGS", "1:false,1:true,2:false,2:true").split(",")]
    for k in range(rounds):
        for concurrency, overlap in (configs if k % 2 == 0 else configs[::-1]):
            env = procs.production_env(REDIS_URL, PIPELINE_OVERLAP=overlap)
            with procs.worker(env, concurrency=int(concurrency)) as worker:
                warm = backlog(bench_uplinks.DEVICES * 3)
                queue.accept_many(warm)
                bench_uplinks._wait_stored(dsn, warm[0].received_ts, warm[-1].received_ts + 1, len(warm) * 3, 120)
                time.sleep(1.0)  # every pool process warmed? (the coalesced warm-up may land on one)
                uplinks = backlog(n)
                lo, hi = uplinks[0].received_ts, uplinks[-1].received_ts + 1
                pids = set(_tree(worker.proc.pid)) | set(_backends())
                before = {pid: _cpu(pid) for pid in pids}
                started = time.perf_counter()
                queue.accept_many(uplinks)
                done = bench_uplinks._wait_stored(dsn, lo, hi, n * 3, 300)
                tree = set(_tree(worker.proc.pid))
                cpu = sum(_cpu(p) - before.get(p, 0.0) for p in tree)
                pg = sum(_cpu(p) - before.get(p, 0.0) for p in (set(_backends()) | pids) - tree)
            if done is None:
                print({"concurrency": concurrency, "overlap": overlap, "error": "not stored in time"}, flush=True)
                continue
            wall = done - started
            print({"concurrency": concurrency, "overlap": overlap, "msg_per_s": round(n / wall),
                   "worker_tree_us_per_msg": round(cpu / n * 1e6, 1), "pg_us_per_msg": round(pg / n * 1e6, 1),
                   "worker_tree_cores": round(cpu / wall, 2), "pg_cores": round(pg / wall, 2)}, flush=True)


def main(n: int, rounds: int, worker: bool = False) -> None:
    os.environ.update(REDIS_URL=REDIS_URL, CELERY_TASK_ALWAYS_EAGER="false", LOAD_DEMO_DATA="false")
    from bench.setup import bench_database

    with bench_database() as dsn:
        import json

        import redis

        from bench import uplinks as bench_uplinks
        from integrations import pipeline
        from integrations.messages import RawUplink

        pipeline.begin = _timed("begin", pipeline.begin)  # (process() looks them up here too)
        pipeline.complete = _timed("complete", pipeline.complete)
        redis.Redis.from_url(REDIS_URL).flushdb()
        _, _, http = bench_uplinks._objects()
        clock = bench_uplinks._Clock()

        def backlog(count):
            first = clock.take(count)
            return [RawUplink(str(http.pk), json.dumps(bench_uplinks._reading(i, first + i)).encode(),
                              {"integrationName": http.name}, first + i, "JSON") for i in range(count)]

        if worker:
            _worker_rounds(backlog, dsn, n, rounds)
            return
        from tbproject.gc_tuning import tune

        tune()  # the garbage-collector settings of the pool process this stands for (without: 2x its CPU)
        _drain(backlog(bench_uplinks.DEVICES * 3), False)  # warm: devices provisioned, engine started
        for k in range(rounds):
            for overlap in ((False, True) if k % 2 == 0 else (True, False)):
                print(_drain(backlog(n), overlap), flush=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 30000, int(args[1]) if len(args) > 1 else 3, "--worker" in sys.argv)
