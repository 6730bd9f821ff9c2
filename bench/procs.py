"""The project's processes, started by a benchmark as production runs them.

    with Service("web", [uvicorn, ...], env, port=8123):   # waits until the port accepts
        ...

Each process gets the benchmark's environment (DATABASE_URL of the throwaway database,
REDIS_URL, CELERY_TASK_ALWAYS_EAGER=false) and writes its output to a log file under
var/bench/ (or ``logs``), shown when it fails to start. The fault suite (tests/faults/) starts
the same processes and also ``kill()``s them (SIGKILL, no goodbye) and ``start()``s them again.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["ROOT", "WEB_SERVER", "Service", "free_port", "production_env", "web", "worker", "default_concurrency",
           "listener_host", "bare_asgi"]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOGS = ROOT / "var" / "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(redis_url: str, **extra: str) -> dict:
    env = dict(os.environ, REDIS_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="false", LOAD_DEMO_DATA="false",
               RUN_INTEGRATIONS_IN_WEB="false", DJANGO_SETTINGS_MODULE="tbproject.settings", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class Service:
    def __init__(self, name: str, argv: list[str], env: dict, *, port: int | None = None,
                 ready_line: str | None = None, timeout: float = 30.0, logs: Path | None = None):
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.ready_line, self.timeout = ready_line, timeout
        self.logs = logs or LOGS
        self.proc: subprocess.Popen | None = None
        self._starts = 0

    def __enter__(self) -> "Service":
        return self.start()

    def start(self) -> "Service":
        """Start the process (again, after ``kill()``: the log is appended to) and wait until it is ready."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.log_path = self.logs / f"{self.name}.log"
        self._log = self.log_path.open("a" if self._starts else "w")
        self._starts += 1
        self._logged_before = self.log_path.stat().st_size
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def _ready(self) -> bool:
        if self.port is not None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return False
        if self.ready_line is not None:
            with self.log_path.open() as log:
                log.seek(self._logged_before)
                return self.ready_line in log.read()
        return True

    def kill(self) -> None:
        """SIGKILL the process and its children (its session), as an OOM kill or a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def pid(self) -> int:
        return self.proc.pid


#: The web server of the production web process (README): uvicorn, or daphne to compare.
WEB_SERVER = os.environ.get("BENCH_WEB_SERVER", "uvicorn")


def _asgi_server(app: str, port: int, processes: int) -> list[str]:
    if WEB_SERVER == "daphne":
        if processes != 1:
            raise ValueError("daphne runs one process per port")
        return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), app]
    return [str(BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--ws", "websockets", "--no-access-log", "--workers", str(processes)]


def web(env: dict, port: int, app: str = "tbproject.asgi:application", processes: int = 1,
        logs: Path | None = None) -> Service:
    """The production web process (``processes`` of them sharing the port)."""
    return Service("web", _asgi_server(app, port, processes), env, port=port, logs=logs)


def bare_asgi(env: dict, port: int, processes: int = 1) -> Service:
    """The baseline: an ASGI app that only reads the POST and answers 204, on the same server."""
    return Service("bare-asgi", _asgi_server("bench.bare_asgi:app", port, processes), env, port=port)


def default_concurrency() -> int:
    """A benchmark worker's pool processes: BENCH_WORKER_CONCURRENCY, else one per CPU (Celery's default)."""
    return int(os.environ.get("BENCH_WORKER_CONCURRENCY", "0")) or os.cpu_count() or 1


def worker(env: dict, concurrency: int | None = None, name: str = "worker", *, ready_line: str | None = None,
           logs: Path | None = None) -> Service:
    """``ready_line``: wait for it in the log (the fault suite waits for "ready" at loglevel INFO).
    ``concurrency``: pool processes; by default BENCH_WORKER_CONCURRENCY, else one per CPU, as
    production runs it (Celery's default, README): draining a backlog on two cores, two pool
    processes beat one with its batches overlapped (docs/performance.md, 2026-12-06)."""
    if concurrency is None:
        concurrency = default_concurrency()
    return Service(name, [str(BIN / "celery"), "-A", "tbproject", "worker", "--concurrency", str(concurrency),
                          "--loglevel", "INFO" if ready_line else "WARNING", "--without-gossip", "--without-mingle",
                          "--without-heartbeat", "-n", f"{name}@%h"],
                   env, ready_line=ready_line, timeout=30.0, logs=logs)


def listener_host(env: dict, name: str = "integrations", *args: str, logs: Path | None = None) -> Service:
    """A ``runintegrations`` process; ``args`` are its options (``--holder``, ``--lease-seconds``)."""
    return Service(name, [sys.executable, "manage.py", "runintegrations", *args], env, logs=logs)
