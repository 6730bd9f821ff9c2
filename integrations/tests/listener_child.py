"""A client listener in a process of its own, for a test to SIGKILL mid-stream.

    python -m integrations.tests.listener_child LISTENER CONFIG_MODEL CONFIG_JSON OUT_FILE [hold]

LISTENER and CONFIG_MODEL are dotted paths (integrations.listeners.kafka.KafkaListener,
integrations.types.kafka.KafkaConfig). Its sink "durably queues" an uplink by appending the
payload as a line to OUT_FILE and fsyncing it, 20 ms per batch; only then may the listener
acknowledge or commit. With ``hold`` the sink instead writes the payloads as received and never
returns: nothing is ever queued, so nothing may be acknowledged.

Tests run it through ``child_listener(...)``, which SIGKILLs it when the block ends.
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path


class FileSink:
    def __init__(self, path: str, hold: bool):
        self.file = open(path, "ab")  # open for the process's life
        self.hold = hold

    async def __call__(self, uplinks) -> None:
        await asyncio.sleep(0.02)
        self.file.write(b"".join(u.payload + b"\n" for u in uplinks))
        self.file.flush()
        os.fsync(self.file.fileno())
        if self.hold:
            await asyncio.Event().wait()

    def report(self, **status) -> None:
        print(json.dumps(status), flush=True)

    def dropped(self, metadata, payload, reason) -> None:
        pass


class Child:
    """A running child listener: ``payloads()`` it queued (or holds), ``connected()`` once it said so."""

    def __init__(self, process: subprocess.Popen, directory: Path):
        self.process, self.out = process, directory / "out.txt"
        self.status, self.log = directory / "status.txt", directory / "child.log"

    def payloads(self) -> list[bytes]:
        return self.out.read_bytes().split() if self.out.exists() else []

    def connected(self) -> bool:
        return '"connected": true' in self.status.read_text() or self.process.poll() is not None


@contextlib.contextmanager
def child_listener(listener: str, model: str, configuration: dict, directory: Path, *, hold: bool = False,
                   env: dict | None = None):
    """Run ``listener`` (dotted path) with ``configuration`` in a child process; SIGKILL it afterwards
    (no drain, no acknowledgement, no goodbye to the broker)."""
    from integrations.tests.processes import ROOT

    directory.mkdir(parents=True, exist_ok=True)
    child = Child(None, directory)
    child.process = subprocess.Popen(
        [sys.executable, "-m", "integrations.tests.listener_child", listener, model, json.dumps(configuration),
         str(child.out), *(["hold"] if hold else [])], cwd=ROOT, stdout=child.status.open("wb"),
        stderr=child.log.open("wb"), env=env)
    try:
        yield child
    finally:
        child.process.kill()
        child.process.wait(5)


async def main(listener_path: str, model_path: str, configuration: dict, path: str, hold: bool) -> None:
    from django.utils.module_loading import import_string

    model = import_string(model_path)
    listener = import_string(listener_path)(model.model_validate(configuration), FileSink(path, hold),
                                            metadata={"integrationName": "child"}, integration_id="i-child")
    await listener.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
    import django

    django.setup()
    asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5:] == ["hold"]))
