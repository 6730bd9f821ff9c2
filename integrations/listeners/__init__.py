"""Connection code of listener integrations, run by runintegrations (integrations/runner.py).

A type's class (integrations/types/) owns the configuration schema and the listener hooks; the
protocol client behind those hooks lives here: ``mqtt.py`` (gmqtt), ``tls.py`` (SSL contexts
from ThingsBoard's PEM strings) and ``batching.py`` (hands received messages on in batches and
says when each one is durably queued, so that it can be acknowledged); ``aws.py`` (the AWS
pollers' client, error wording and reconnect loop) with ``aws_sqs.py`` and ``aws_kinesis.py``.
"""
