"""A listener in a process of its own, for tests to SIGKILL mid-stream.

    python -m integrations.tests.listener_child LISTENER_CLASS CONFIG_CLASS CONFIG_JSON OUT_FILE

(dotted paths, e.g. integrations.listeners.kafka.KafkaListener integrations.types.kafka.KafkaConfig).
Its sink "durably queues" an uplink by appending the payload as a line to OUT_FILE and fsyncing
it, 20 ms per batch; only then may the listener acknowledge, commit or settle the batch.
"""

import asyncio
import json
import os
import sys


class FileSink:
    def __init__(self, path: str):
        self.file = open(path, "ab")  # open for the process's life

    async def __call__(self, uplinks) -> None:
        await asyncio.sleep(0.02)
        self.file.write(b"".join(u.payload + b"\n" for u in uplinks))
        self.file.flush()
        os.fsync(self.file.fileno())

    def report(self, **status) -> None:
        print(json.dumps(status), flush=True)

    def dropped(self, metadata, payload, reason) -> None:
        pass


async def main(listener_path: str, config_path: str, configuration: dict, path: str) -> None:
    from django.utils.module_loading import import_string

    listener = import_string(listener_path)(import_string(config_path).model_validate(configuration), FileSink(path),
                                            metadata={"integrationName": "child"}, integration_id="i-child")
    await listener.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
    import django

    django.setup()
    asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))
