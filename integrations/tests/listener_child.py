"""A client listener in a process of its own, for a test to SIGKILL mid-stream.

    python -m integrations.tests.listener_child LISTENER CONFIG_MODEL CONFIG_JSON OUT_FILE [hold]

LISTENER and CONFIG_MODEL are dotted paths (integrations.listeners.kafka.KafkaListener,
integrations.types.kafka.KafkaConfig). Its sink "durably queues" an uplink by appending the
payload as a line to OUT_FILE and fsyncing it, 20 ms per batch; only then may the listener
acknowledge or commit. With ``hold`` the sink instead writes the payloads as received and never
returns: nothing is ever queued, so nothing may be acknowledged.
"""

import asyncio
import json
import os
import sys


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
