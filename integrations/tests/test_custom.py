"""CUSTOM integrations (integrations/custom.py, integrations/types/custom.py) with the example
class integrations/custom_examples/line_server.py: a real TCP client sends lines, the class
publishes them, downlinks go back on the device's connection; the allow list, the configuration
checks, and the run through the listener host (runintegrations) to stored telemetry."""

import asyncio

import pytest

from integrations.messages import Downlink
from integrations.tests.brokers import free_port, wait_until
from integrations.tests.sockets import host_tenant, run, running  # noqa: F401 (fixture)
from integrations.tests.test_runner import eager, host  # noqa: F401 - fixtures
from integrations.types.base import ConfigError, IntegrationError
from integrations.types.custom import CustomIntegration

EXAMPLE = "integrations.custom_examples.line_server.LineServerIntegration"


def custom_config(port: int = 0, clazz: str = EXAMPLE, **extra) -> dict:
    return {"clazz": clazz, "configuration": f'{{"port": {port}, "host": "127.0.0.1"}}', **extra}


def test_the_example_class_receives_publishes_and_sends_downlinks():
    async def scenario():
        async with running("CUSTOM", custom_config(), metadata={"site": "plant-1"}) as (integration, sink):
            port = integration._instance.port
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"meter-7: 21.5\n\nmeter-7: 22.0\n")
            assert await reader.readline() == b"OK\n"  # answered once queued
            assert await reader.readline() == b"OK\n"
            first, second = await sink.wait_for(2)
            assert (first.payload, first.content_type, second.payload) == (b"meter-7: 21.5", "TEXT", b"meter-7: 22.0")
            assert first.metadata["site"] == "plant-1" and first.metadata["integrationName"] == "device-side"
            assert first.metadata["remoteAddress"] == "127.0.0.1" and first.metadata["remotePort"].isdigit()
            assert sink.reports[-1] == {"connected": True, "error": ""}
            await integration.downlink(Downlink(first.integration_id, "meter-7", b"reboot"))
            assert await reader.readline() == b"reboot\n"
            with pytest.raises(IntegrationError) as missing:
                await integration.downlink(Downlink(first.integration_id, "meter-8", b"x"))
            assert missing.value.message == "no open connection to device 'meter-8'"
            writer.close()
        with pytest.raises(IntegrationError) as stopped:
            await integration.downlink(Downlink(first.integration_id, "meter-7", b"x"))
        assert stopped.value.message == "custom integration 'device-side' is not running"

    run(scenario())


@pytest.mark.parametrize("clazz, message", [
    ("os.path.join", "custom integration class 'os.path.join' is not allowed on this host (allowed prefixes: "
                     "integrations.custom_examples.; CUSTOM_INTEGRATION_CLASSES)"),
    ("integrations.custom_examples.line_server.Missing",
     "cannot load custom integration class 'integrations.custom_examples.line_server.Missing': Module "
     "\"integrations.custom_examples.line_server\" does not define a \"Missing\" attribute/class"),
    ("integrations.custom_examples.line_server.IntegrationError",
     "'integrations.custom_examples.line_server.IntegrationError' is not a subclass of "
     "integrations.custom.CustomIntegrationBase"),
])
def test_only_allowed_subclasses_of_the_base_class_are_loaded(clazz, message):
    async def scenario():
        async with running("CUSTOM", custom_config(clazz=clazz)):
            pass

    with pytest.raises(IntegrationError) as refused:
        run(scenario())
    assert refused.value.message == message and refused.value.permanent


@pytest.mark.parametrize("configuration, message", [
    ({"configuration": "{}"}, "configuration.clazz: Field required"),
    ({"clazz": "NoDots"}, "configuration.clazz: Value error, 'NoDots' is not a dotted Python path "
                          "(package.module.Class)"),
    ({"clazz": EXAMPLE, "configuration": "{port"}, "configuration.configuration: Value error, not valid JSON: "
                                                   "Expecting property name enclosed in double quotes: line 1 "
                                                   "column 2 (char 1)"),
    ({"clazz": EXAMPLE, "configuration": "[1]"}, "configuration.configuration: Value error, must be a JSON object"),
])
def test_a_bad_configuration_is_refused_with_the_field(configuration, message):
    with pytest.raises(ConfigError) as refused:
        CustomIntegration.validate(configuration)
    assert str(refused.value) == message


def test_the_configuration_may_be_an_object_or_a_json_string():
    assert CustomIntegration.parse({"clazz": EXAMPLE, "configuration": {"port": 1}}).configuration == {"port": 1}
    assert CustomIntegration.parse({"clazz": EXAMPLE, "configuration": '{"port": 2}'}).configuration == {"port": 2}
    assert CustomIntegration.parse({"clazz": EXAMPLE}).configuration == {}


LINE_DECODER = """
var text = String.fromCharCode.apply(null, payload);
var parts = text.split(':');
return {deviceName: parts[0].trim(), deviceType: 'meter', telemetry: {t: parseFloat(parts[1])}};
"""


@pytest.mark.django_db(transaction=True)
def test_runintegrations_hosts_a_custom_integration_to_stored_telemetry(host_tenant, host, eager):  # noqa: F811
    import socket

    from devices.models import Device
    from integrations.tests.factories import make_integration, make_uplink_converter
    from integrations.tests.uplinks import values

    port = free_port()
    make_integration(host_tenant, "Custom lines", kind="CUSTOM", configuration=custom_config(port),
                     converter=make_uplink_converter(host_tenant, "lines", LINE_DECODER))
    host()
    wait_until(lambda: _listening(port), timeout=10, message="the custom integration's server")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as device:
        device.sendall(b"custom-meter: 19.5\n")
        assert device.recv(3) == b"OK\n"
        meter = wait_until(lambda: Device.objects.filter(tenant=host_tenant, name="custom-meter").first(),
                           timeout=30, message="the device")
        assert values(meter, ["t"]) == {"t": 19.5}


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False
