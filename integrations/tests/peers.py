"""Real local peers of the APACHE_PULSAR and PUB_SUB tests (reference/messaging-peers.md 2 and 5).

- ``PulsarLite``: the pulsar-lite broker (a Pulsar-protocol broker in the ``pulsar-lite`` wheel,
  not Apache Pulsar) on a free loopback port with its own RocksDB directory, so that a test can
  kill it and start it again on the same port and data (it persists: an unacknowledged message
  survives). Its config file switches the metrics endpoint off: that endpoint is the listener on
  0.0.0.0:8080 the broker otherwise opens, which parallel tests would fight over (measured; with
  ``[metrics] enabled = false`` the broker listens on its ``--addr`` only).
- ``Pstest``: Google's Pub/Sub fake (pstest, from Debian's golang-google-cloud-dev) built once
  from integrations/tests/pstest/main.go into var/pstest/<source hash>/, then run on a free
  port it prints. In memory: a restart on the same port keeps the address and loses the state.

Each is skipped, with the reason, where it cannot be had; CI installs both (.ci/run).
"""

import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from integrations.tests.brokers import PeerProcess
from integrations.tests.processes import ROOT

__all__ = ["PulsarLite", "pulsar_lite_binary", "Pstest", "pstest_binary", "listening"]

HOST = "127.0.0.1"
GOCODE = Path("/usr/share/gocode")
PSTEST_SOURCE = Path(__file__).parent / "pstest" / "main.go"


def listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), 0.2).close()
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def pulsar_lite_binary() -> str:
    """The broker binary of the pulsar-lite wheel; skips the test when it is not installed."""
    try:
        from pulsar_lite.binary_finder import find_pulsar_lite_binary

        return find_pulsar_lite_binary()
    except (ImportError, FileNotFoundError) as exc:
        pytest.skip(f"pulsar-lite (pip, requirements.txt) is not installed, no Pulsar-protocol peer: {exc}")


class PulsarLite(PeerProcess):
    """A private pulsar-lite broker; ``url`` stays the same across restarts."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.url = f"pulsar://{HOST}:{self.port}"
        # A dead client connection noticed within seconds (its defaults: a ping every 30 s, 10 s for the pong).
        (self.directory / "broker.toml").write_text(
            "keep_alive_interval_secs = 3\nconnection_liveness_check_timeout_secs = 3\n[metrics]\nenabled = false\n")

    def start(self, timeout: float = 15.0) -> "PulsarLite":
        log = (self.directory / "broker.log").open("ab")
        self.process = subprocess.Popen(
            [pulsar_lite_binary(), "--config", str(self.directory / "broker.toml"), "--addr", f"{HOST}:{self.port}",
             "--db-path", str(self.directory / "db"), "--log-level", "warn"],
            stdout=log, stderr=log, cwd=self.directory)
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pulsar-lite did not listen on {self.port}: {self.log()[-500:]}")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        path = self.directory / "broker.log"
        return path.read_text(errors="replace") if path.exists() else ""


def pstest_binary() -> Path:
    """Build the pstest server once per source version (about 8 s); skip when Go or the source is missing."""
    source = PSTEST_SOURCE.read_bytes()
    target = ROOT / "var" / "pstest" / hashlib.sha256(source).hexdigest()[:16] / "pstest-server"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None or not (GOCODE / "src/cloud.google.com/go/pubsub/pstest").is_dir():
        pytest.skip("Google's pstest fake cannot be built: apt-get install golang-go golang-google-cloud-dev "
                    "(CI installs them)")
    build = target.parent / "build"
    build.mkdir(parents=True, exist_ok=True)
    (build / "main.go").write_bytes(source)
    env = {**os.environ, "GO111MODULE": "off", "GOPROXY": "off", "GOFLAGS": "", "GOPATH": f"{build}:{GOCODE}",
           "GOCACHE": str(target.parent / "gocache")}
    done = subprocess.run([go, "build", "-o", str(target) + ".tmp", "."], cwd=build, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"building pstest failed: {done.stderr[-2000:]}")
    os.replace(str(target) + ".tmp", target)  # atomic: a parallel run sees a whole binary or none
    return target


class Pstest(PeerProcess):
    """A pstest server; ``start()`` again after ``stop()`` serves the same address with no state."""

    def __init__(self):
        self.port = 0
        self.address = ""

    def start(self, timeout: float = 10.0) -> "Pstest":
        self.process = subprocess.Popen([str(pstest_binary()), str(self.port)], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()  # its address, once it listens
        if not line:
            self.stop()
            raise RuntimeError("pstest exited without printing its address")
        self.address, self.port = line, int(line.rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"pstest did not listen on {self.address}")
            time.sleep(0.05)
        return self
