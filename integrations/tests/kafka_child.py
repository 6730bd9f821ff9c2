"""A KAFKA listener in a process of its own, for test_kafka to SIGKILL mid-stream.

    python -m integrations.tests.kafka_child CONFIG_JSON OUT_FILE

The generic child (integrations/tests/listener_child.py) with the Kafka listener.
"""

import asyncio
import json
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
    import django

    django.setup()
    from integrations.tests.listener_child import main

    asyncio.run(main("integrations.listeners.kafka.KafkaListener", "integrations.types.kafka.KafkaConfig",
                     json.loads(sys.argv[1]), sys.argv[2]))
