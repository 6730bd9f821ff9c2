"""The CoAP integration against a real CoAP client (aiocoap): confirmable and non-confirmable
POST/PUT to /i/{routingKey}, the answer only once the uplink is queued, integrations sharing a
port, a pending downlink in the response to the device's next uplink, the run through the listener host to stored
telemetry, check(), and configuration errors through the integration API."""

import asyncio
import json
import socket

import aiocoap
import pytest

from integrations.listeners import coap as coap_listener
from integrations.tests.brokers import RecordingSink
from integrations.tests.sockets import api_body, free_udp_port, host_tenant, row, run, running  # noqa: F401
from integrations.tests.test_runner import eager, host  # noqa: F401 - fixtures
from integrations.types.base import IntegrationError
from integrations.types.coap import CoapIntegration
from tbproject.testing.api import assert_error


@pytest.fixture(autouse=True)
def _no_pending_downlinks(request, monkeypatch):
    """Most tests run the type on a stand-in row, without a database: no downlink can wait for
    it. The downlink test below uses a saved integration and the real lookup."""
    if "pending_downlink" not in request.node.name:
        from integrations.ingress import downlinks

        async def none(uplink):
            return []

        monkeypatch.setattr(downlinks, "devices_of", none)


def coap_config(port: int, **client) -> dict:
    return {"clientConfiguration": {"baseUrl": f"coap://127.0.0.1:{port}", "securityMode": "NO_SECURE",
                                    "bindAddress": "127.0.0.1", **client}}


async def request(url: str, payload: bytes = b"", *, code=aiocoap.POST, confirmable: bool = True,
                  content_format: int | None = None, timeout: float = 10) -> aiocoap.Message:
    client = await aiocoap.Context.create_client_context(transports=["udp6"])
    try:
        message = aiocoap.Message(code=code, uri=url, payload=payload,
                                  transport_tuning=aiocoap.Reliable if confirmable else aiocoap.Unreliable)
        if content_format is not None:
            message.opt.content_format = content_format
        return await asyncio.wait_for(client.request(message).response, timeout)
    finally:
        await client.shutdown()


def url(port: int, instance, path: str | None = None) -> str:
    return f"coap://127.0.0.1:{port}/{path or 'i/' + instance.integration.routing_key}"


@pytest.mark.parametrize("confirmable", [True, False])
def test_a_post_to_the_routing_key_is_an_uplink_answered_2_04(confirmable):
    port = free_udp_port()

    async def scenario():
        async with running("COAP", coap_config(port), name="CoAP in", metadata={"site": "north"}) as (instance, sink):
            response = await request(url(port, instance), b'{"deviceName": "SN-001", "temperature": 25.7}',
                                     confirmable=confirmable, content_format=50)
            text = await request(url(port, instance), b"SN-001,default,temperature,25.7", code=aiocoap.PUT,
                                 confirmable=confirmable, content_format=0)
            return response, text, sink

    response, text, sink = run(scenario())
    assert (str(response.code), response.payload) == ("2.04 Changed", b"")
    assert str(text.code) == "2.04 Changed"
    first, second = sink.uplinks
    assert json.loads(first.payload) == {"deviceName": "SN-001", "temperature": 25.7}
    assert (first.content_type, second.content_type) == ("JSON", "TEXT")
    assert second.payload == b"SN-001,default,temperature,25.7"
    assert {k: v for k, v in first.metadata.items() if not k.startswith("remote")} == {"integrationName": "CoAP in",
                                                                                      "site": "north"}
    assert first.metadata["remoteAddress"] == "127.0.0.1" and first.metadata["remotePort"].isdigit()
    assert {"connected": True, "error": ""} in sink.reports


def test_get_is_a_health_check_and_unknown_paths_are_not_found():
    port = free_udp_port()

    async def scenario():
        async with running("COAP", coap_config(port)) as (instance, sink):
            health = await request(url(port, instance), code=aiocoap.GET)
            unknown = await request(url(port, instance, "i/no-such-key"), b"x")
            return health, unknown, sink.uplinks

    health, unknown, uplinks = run(scenario())
    assert str(health.code) == "2.05 Content" and str(unknown.code) == "4.04 Not Found" and uplinks == []


def test_the_answer_waits_until_the_uplink_is_queued():
    port = free_udp_port()

    async def scenario():
        async with running("COAP", coap_config(port)) as (instance, sink):
            sink.block = asyncio.Event()  # the queue does not answer yet
            pending = asyncio.ensure_future(request(url(port, instance), b"binary\x00\xff"))
            while not sink.calls:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            answered_early = pending.done()
            sink.block.set()
            response = await pending
            return answered_early, response, sink.uplinks

    answered_early, response, uplinks = run(scenario())
    assert not answered_early and str(response.code) == "2.04 Changed"
    assert [(u.payload, u.content_type) for u in uplinks] == [(b"binary\x00\xff", "BINARY")]


def test_integrations_on_one_port_share_a_server_each_at_its_own_paths():
    port = free_udp_port()
    custom = f"coap://iot.example.com:{port}/meters/basement"

    async def scenario():
        async with running("COAP", coap_config(port), name="A") as (a, a_sink):
            async with running("COAP", coap_config(port, coapEndpoint=custom), name="B") as (b, b_sink):
                await request(url(port, a), b"to a")
                await request(url(port, b), b"to b")
                await request(url(port, b, "meters/basement"), b"to b's endpoint")
                a.check()  # the shared server of this process: fine
            gone = await request(url(port, b), b"after b stopped")
            still = await request(url(port, a), b"a still")
        return a_sink.uplinks, b_sink.uplinks, gone, still

    a_uplinks, b_uplinks, gone, still = run(scenario())
    assert [u.payload for u in a_uplinks] == [b"to a", b"a still"]
    assert [u.payload for u in b_uplinks] == [b"to b", b"to b's endpoint"]
    assert str(gone.code) == "4.04 Not Found" and str(still.code) == "2.04 Changed"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # the last one closed the server
        probe.bind(("127.0.0.1", port))


def test_a_devices_next_request_is_answered_with_its_pending_downlink(host_tenant):  # noqa: F811
    """As the HTTP integration (reference 3.7): the device's pending downlink is the payload of
    the response to its next uplink, once, with the content format of the encoder's type."""
    from integrations.downlinks import submit
    from integrations.ingress import downlinks
    from integrations.tests.downlinks import attributes_msg, with_downlink
    from integrations.types import get_type

    port = free_udp_port()
    integration = with_downlink(host_tenant, "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {}};",
                                name="CoAP downlinks", kind="COAP", configuration=coap_config(port))
    submit(host_tenant.pk, integration.pk, attributes_msg(host_tenant, "coap-1", {"powerState": "on"}))
    downlinks.PENDING.clear()

    async def scenario():
        sink = RecordingSink()
        instance = get_type("COAP")(integration)
        await instance.start(sink)
        try:
            target = url(port, instance)
            first = await request(target, json.dumps({"id": "coap-1", "t": 1}).encode())
            other = await request(target, json.dumps({"id": "coap-2", "t": 1}).encode())
            downlinks.PENDING.clear()
            again = await request(target, json.dumps({"id": "coap-1", "t": 2}).encode())
            return first, other, again, sink.uplinks
        finally:
            await instance.stop()

    first, other, again, uplinks = run(scenario())
    assert json.loads(first.payload) == {"powerState": "on"} and first.opt.content_format == 50
    assert other.payload == b"" and again.payload == b""  # another device; then taken already
    assert str(first.code) == str(aiocoap.CHANGED) and len(uplinks) == 3


def test_a_body_larger_than_the_limit_is_refused_with_an_event(monkeypatch):
    monkeypatch.setattr(coap_listener, "MAX_PAYLOAD", 8)
    port = free_udp_port()

    async def scenario():
        async with running("COAP", coap_config(port)) as (instance, sink):
            too_large = await request(url(port, instance), b"123456789")
            fits = await request(url(port, instance), b"12345678")
            return too_large, fits, sink

    too_large, fits, sink = run(scenario())
    assert str(too_large.code) == "4.13 Request Entity Too Large" and str(fits.code) == "2.04 Changed"
    assert [u.payload for u in sink.uplinks] == [b"12345678"]
    [(_, payload, reason)] = sink.drops
    assert payload == b"123456789" and reason == "Request body of 9 bytes is larger than 8"


def test_a_port_in_use_fails_the_start_and_the_check():
    port = free_udp_port()
    config = coap_config(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", port))
        with pytest.raises(IntegrationError) as checked:
            CoapIntegration(row("COAP", config)).check()

        async def start():
            with pytest.raises(IntegrationError) as started:
                await CoapIntegration(row("COAP", config)).start(None)
            return started.value.message

        started = run(start())
    expected = f"Cannot listen on UDP port {port} (127.0.0.1): Address already in use"
    assert checked.value.message == started == expected
    CoapIntegration(row("COAP", config)).check()


def test_the_port_comes_from_base_url_unless_given():
    assert CoapIntegration(row("COAP", {"clientConfiguration": {"baseUrl": "coap://h"}})).config \
        .clientConfiguration.listen_port == 5683
    assert CoapIntegration(row("COAP", {"clientConfiguration": {"baseUrl": "coap://h:6000"}})).config \
        .clientConfiguration.listen_port == 6000
    assert CoapIntegration(row("COAP", {"clientConfiguration": {"baseUrl": "coap://h:6000", "port": 7000}})).config \
        .clientConfiguration.listen_port == 7000


@pytest.mark.django_db(transaction=True)
def test_the_listener_host_runs_a_coap_integration_to_stored_telemetry(host_tenant, host, eager):  # noqa: F811
    from devices.models import Device
    from integrations.tests.brokers import wait_until
    from integrations.tests.factories import make_integration
    from integrations.tests.uplinks import values

    port = free_udp_port()
    integration = make_integration(host_tenant, "CoAP meters", kind="COAP", configuration=coap_config(port))
    host()
    wait_until(lambda: type(integration).objects.filter(pk=integration.pk, connected=True).exists(),
               timeout=30, message="the CoAP server")
    response = run(request(f"coap://127.0.0.1:{port}/i/{integration.routing_key}", b'{"id": "coap-meter-1", "t": 3}',
                           timeout=30), timeout=40)
    assert str(response.code) == "2.04 Changed"
    meter = wait_until(lambda: Device.objects.filter(tenant=host_tenant, name="coap-meter-1").first(),
                       timeout=30, message="the device")
    wait_until(lambda: values(meter, ["t"]) == {"t": 3}, timeout=30, message="the telemetry")


@pytest.mark.parametrize(("client", "message"), [
    ({"baseUrl": "http://iot.example.com"}, "configuration.clientConfiguration.baseUrl: Value error, must be a "
                                            "coap:// URL"),
    ({"baseUrl": "coap://h:99999"}, "configuration.clientConfiguration.baseUrl"),
    ({"securityMode": "DTLS"}, "configuration.clientConfiguration.securityMode: Value error, DTLS is not supported"),
    ({"securityMode": "PLAIN"}, "configuration.clientConfiguration.securityMode"),
    ({"port": 0}, "configuration.clientConfiguration.port"),
])
def test_the_api_refuses_bad_coap_configurations_naming_the_field(api, tenant, client, message):
    from integrations.tests.factories import make_uplink_converter

    body = api_body(make_uplink_converter(tenant), "COAP", {"clientConfiguration": client})
    assert_error(api.post("/api/integration", body, format="json"), 400, message)


def test_the_api_saves_a_thingsboard_coap_configuration_unchanged(api, tenant):
    from integrations.tests.factories import make_uplink_converter

    exported = {"clientConfiguration": {"baseUrl": "coap://int.example.com", "dtlsBaseUrl": "coaps://int.example.com",
                                        "securityMode": "NO_SECURE", "coapEndpoint": "coap://int.example.com/i/abc",
                                        "dtlsCoapEndpoint": "coaps://int.example.com/i/abc"},
                "metadata": {}}
    res = api.post("/api/integration", api_body(make_uplink_converter(tenant), "COAP", exported), format="json")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"] == exported
