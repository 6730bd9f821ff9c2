"""Real local AWS peers for the AWS_SQS and AWS_KINESIS tests (reference/messaging-peers.md):

- ``MotoServer``: moto in server mode (``python -m moto.server``), a separate HTTP server on a
  free loopback port speaking the SQS and Kinesis wire protocols with SigV4. A reimplementation
  of AWS, not AWS's code; no in-process mocking. With ``iam=True`` it enforces IAM
  authentication after the test's user and key were made (``INITIAL_NO_AUTH_ACTION_COUNT``), so
  a wrong secret is refused as AWS refuses it.
- ``Kinesalite``: kinesalite (npm), an independent Kinesis implementation, in memory, started
  through a tiny launcher with ``require()`` on 127.0.0.1 (its CLI binds 0.0.0.0). It is
  installed once under var/kinesalite (``npm install``); tests skip, saying why, where node or
  npm is missing. CI installs both (.ci/run).

Both can be stopped and started again on the same port (their state is lost: memory stores).
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aiobotocore.session import get_session

from integrations.tests.brokers import PeerProcess, free_port, running
from integrations.tests.processes import ROOT

__all__ = ["MotoServer", "Kinesalite", "KINESALITE_VERSION", "aws_client", "kinesalite_module", "running"]

HOST = "127.0.0.1"
KINESALITE_VERSION = "3.3.3"
KINESALITE_DIR = ROOT / "var" / "kinesalite"
LAUNCHER = """const kinesalite = require(process.argv[2]);
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000});
server.listen(+process.argv[3], '127.0.0.1', (err) => { if (err) { throw err; } console.log('listening'); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""
USER_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class _Peer(PeerProcess):
    """A server process on a fixed loopback port: ``start()``, ``kill()`` (SIGKILL), ``stop()``."""

    name = "peer"

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict:
        return dict(os.environ)

    def start(self, timeout: float = 20.0):
        self.process = subprocess.Popen(self.command(), env=self.env(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        self.await_listening(self.port, timeout, self.name)
        return self


class MotoServer(_Peer):
    name = "moto server"

    def __init__(self, port: int | None = None, *, iam: bool = False):
        super().__init__(port)
        self.iam = iam
        self.key: tuple[str, str] = ("testing", "testing")

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)]

    def env(self) -> dict:
        env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        if self.iam:  # the three IAM calls of make_user() go through; every later call is authenticated
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        return env

    async def make_user(self) -> tuple[str, str]:
        """An IAM user allowed everything, and its access key: the only key accepted with ``iam``."""
        async with aws_client("iam", self.url) as iam:
            await iam.create_user(UserName="thingsboard")
            await iam.put_user_policy(UserName="thingsboard", PolicyName="all", PolicyDocument=json.dumps(USER_POLICY))
            key = (await iam.create_access_key(UserName="thingsboard"))["AccessKey"]
        self.key = (key["AccessKeyId"], key["SecretAccessKey"])
        return self.key


class Kinesalite(_Peer):
    name = "kinesalite"

    def __init__(self, module: Path, port: int | None = None):
        super().__init__(port)
        self.module = module

    def command(self) -> list[str]:
        return [shutil.which("node"), str(KINESALITE_DIR / "launch.js"), str(self.module), str(self.port)]


def kinesalite_module() -> Path:
    """kinesalite's package directory, installed under var/kinesalite once (npm); skips without node/npm."""
    module = KINESALITE_DIR / "node_modules" / "kinesalite"
    if shutil.which("node") is None:
        pytest.skip("node is not installed (apt-get install nodejs npm): kinesalite, the Kinesis peer, needs it")
    KINESALITE_DIR.mkdir(parents=True, exist_ok=True)
    with open(KINESALITE_DIR / ".lock", "w") as lock:  # two suites may start at once (.ci/run)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (module / "package.json").exists():
            if shutil.which("npm") is None:
                pytest.skip("npm is not installed (apt-get install npm): kinesalite cannot be installed")
            command = ["npm", "install", "--prefix", str(KINESALITE_DIR), f"kinesalite@{KINESALITE_VERSION}",
                       "--no-audit", "--no-fund", "--loglevel=error"]
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                pytest.skip(f"npm could not install kinesalite: {done.stderr[-300:]}")
        launcher = KINESALITE_DIR / "launch.js"
        if not launcher.exists() or launcher.read_text() != LAUNCHER:
            launcher.write_text(LAUNCHER)
    return module


def aws_client(service: str, url: str, key: tuple[str, str] = ("testing", "testing")):
    """An aiobotocore client of a local peer (``async with``)."""
    return get_session().create_client(service, region_name="us-east-1", endpoint_url=url,
                                       aws_access_key_id=key[0], aws_secret_access_key=key[1])
