
import pytest

from devices.models import Device, DeviceCredentials
from tbproject.testing.factories import make_device
from tbproject.testing.telemetry import forget_telemetry
from transports.mqtt import auth
from transports.mqtt.server import TransportThread
from transports.tests.mqtt_client import DeviceClient


@pytest.fixture
def committed(transactional_db):
    """Committed data (the transport's threads and processes have their own connections), telemetry removed
    afterwards: its tables are not models, so the flush leaves them."""
    yield
    forget_telemetry(Device.objects.values_list("pk", flat=True))


@pytest.fixture
def transport(committed):
    """The device MQTT transport on a free port of 127.0.0.1 (its own loop and database threads)."""
    auth._CACHE.forget()
    host = TransportThread("127.0.0.1", 0).start()
    assert host.error is None
    yield host
    host.stop()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "mqtt-dev")


def token(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


@pytest.fixture
def clients(transport):
    """``clients(username, password=None, client_id=None)``: connected clients, closed after the test."""
    made = []

    def connect(username, password=None, client_id=None, *, connect=True):
        client = DeviceClient(transport.port, username, password, client_id)
        made.append(client)
        return client.connect() if connect else client

    yield connect
    for client in made:
        client.close()
