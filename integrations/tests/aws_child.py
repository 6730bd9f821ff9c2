"""An AWS_SQS or AWS_KINESIS listener in a process of its own, for the tests to SIGKILL mid-stream.

    python -m integrations.tests.aws_child sqs CONFIG_JSON OUT_FILE
    python -m integrations.tests.aws_child kinesis CONFIG_JSON OUT_FILE DATABASE_NAME INTEGRATION_ID

Its sink "durably queues" an uplink by appending the payload as a line to OUT_FILE and fsyncing
it (listener_child.FileSink); only then may the listener delete the messages (SQS) or save the
shard's checkpoint (Kinesis: in the test's own database, the real store).
"""

import asyncio
import json
import os
import sys


async def main(kind: str, configuration: dict, path: str, integration_id: str) -> None:
    from integrations.tests.listener_child import FileSink

    if kind == "sqs":
        from integrations.listeners.aws_sqs import SqsListener as Listener
        from integrations.types.aws import SqsConfig as Config
    else:
        from integrations.listeners.aws_kinesis import KinesisListener as Listener
        from integrations.types.aws import KinesisConfig as Config
    listener = Listener(Config.model_validate(configuration), FileSink(path, False),
                        metadata={"integrationName": "child"}, integration_id=integration_id)
    await listener.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
    import django
    from django.conf import settings

    if len(sys.argv) > 4:  # the test database, where the checkpoints go
        settings.DATABASES["default"]["NAME"] = sys.argv[4]
    django.setup()
    integration_id = sys.argv[5] if len(sys.argv) > 5 else "i-child"
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], integration_id))
