"""Fixtures of the integration tests: private Mosquitto brokers (integrations/tests/brokers.py) and
the AWS peers (integrations/tests/aws_peers.py) and Tansu, a Kafka-protocol peer
(integrations/tests/kafka_peer.py), each started once per test module."""

import asyncio

import pytest

from integrations.tests.aws_peers import Kinesalite, MotoServer, kinesalite_module
from integrations.tests.brokers import MOSQUITTO, Broker
from integrations.tests.kafka_peer import tansu_broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """One private Mosquitto for the session (anonymous, port chosen free)."""
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto): MQTT tests need a real broker")
    instance = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield instance
    instance.stop()


@pytest.fixture
def make_broker(tmp_path):
    """Factory of private brokers with their own configuration; all are stopped afterwards."""
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto): MQTT tests need a real broker")
    made = []

    def make(conf: str = "", *, name: str = "broker") -> Broker:
        instance = Broker(tmp_path / f"{name}-{len(made)}", conf=conf)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.stop()


@pytest.fixture
def as_in_a_worker():
    """Tasks not eager, as in a Celery worker: the integration downlink node's batch is encoded
    before it is stored (integrations.downlinks.submit_many). The suite's autouse fixture puts
    eager mode back afterwards."""
    from tbproject.celery import app

    app.conf.task_always_eager = app.conf.CELERY_TASK_ALWAYS_EAGER = False
    yield


@pytest.fixture(scope="module")
def moto():
    """moto in server mode on a free port (SQS, Kinesis, IAM); any key is accepted."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto_iam():
    """A moto server that authenticates every request (IAM): only its user's key is accepted."""
    server = MotoServer(iam=True).start()
    asyncio.run(server.make_user())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kinesalite():
    """kinesalite on a free port (skips, saying why, without node/npm)."""
    server = Kinesalite(kinesalite_module()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tansu():
    """``host:port`` of a Tansu broker started for this module."""
    with tansu_broker() as servers:
        yield servers


@pytest.fixture(scope="module")
def tansu_with_authentication():
    """A Tansu broker that requires SASL (``--authentication``), for the refused-credentials path."""
    with tansu_broker("--authentication") as servers:
        yield servers
