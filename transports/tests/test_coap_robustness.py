"""The device CoAP transport under bad input, over real UDP with a real client (aiocoap): a wrong token is 4.01,
a malformed payload 4.00, an oversize one 4.13 (block-wise too), a rate limit 4.29, and none of them loses
anything else; another tenant's device is never reached; an observer that goes away is forgotten."""

import json

import aiocoap
import pytest

from devices.models import Device
from rulechains.models import Rpc
from tbproject.testing.factories import make_device
from tbproject.testing.limits import limit_tenant
from tenants import limits
from transports.coap.server import TransportThread
from transports.tests import coap_client as fixtures
from transports.tests.coap_client import BOUND, CoapClient
from transports.tests.test_coap_api import path
from transports.tests.test_device_api import SHARED, latest

coap, coap_client = fixtures.coap, fixtures.coap_client  # the transport and its clients


def _wait(coap, condition) -> bool:
    observations = coap.server.observations
    with observations.changed:
        return observations.changed.wait_for(condition, BOUND)


@pytest.mark.parametrize("method, feature", [(aiocoap.POST, "telemetry"), (aiocoap.POST, "attributes"),
                                             (aiocoap.GET, "attributes"), (aiocoap.POST, "rpc"),
                                             (aiocoap.POST, "rpc/1"), (aiocoap.POST, "claim")])
def test_a_token_that_is_no_devices_is_4_01(device, coap_client, method, feature):
    assert coap_client().request(method, f"/api/v1/not-a-token/{feature}", {"a": 1}).code == aiocoap.UNAUTHORIZED


def test_an_observation_with_a_wrong_token_is_refused_4_01(device, coap_client):
    assert coap_client().observe("/api/v1/not-a-token/attributes").next().code == aiocoap.UNAUTHORIZED


@pytest.mark.parametrize("payload", [b"{not json", b"\xff\xfe", b'{"a": NaN}', b'"text"', b"[1, 2]"])
def test_a_malformed_payload_is_4_00_and_the_next_one_is_stored(api, device, coap_client, payload):
    client = coap_client()
    answer = client.post(path(device, "telemetry"), payload)
    assert answer.code == aiocoap.BAD_REQUEST and answer.payload  # with the reason
    assert client.post(path(device, "attributes"), payload).code == aiocoap.BAD_REQUEST
    assert client.post(path(device, "telemetry"), {"t": 1}).code == aiocoap.CREATED
    assert list(latest(api, device, "t")) == ["t"]


@pytest.mark.parametrize("method, where, code", [
    (aiocoap.GET, "telemetry", aiocoap.BAD_REQUEST), (aiocoap.POST, "nothing", aiocoap.BAD_REQUEST),
    (aiocoap.POST, "rpc/abc", aiocoap.BAD_REQUEST), (aiocoap.POST, "rpc/1/2", aiocoap.BAD_REQUEST),
    (aiocoap.PUT, "telemetry", aiocoap.METHOD_NOT_ALLOWED), (aiocoap.DELETE, "attributes", aiocoap.METHOD_NOT_ALLOWED),
])
def test_paths_and_methods_the_api_does_not_serve(device, coap_client, method, where, code):
    assert coap_client().request(method, path(device, where), b"{}").code == code


def test_outside_the_api_is_4_04_and_a_bad_client_rpc_is_4_00(device, coap_client):
    client = coap_client()
    assert client.get("/other").code == aiocoap.NOT_FOUND
    assert client.post(path(device, "rpc"), {"params": {}}).code == aiocoap.BAD_REQUEST  # no method
    assert client.post(path(device, "claim"), {"durationMs": "soon"}).code == aiocoap.BAD_REQUEST


def test_an_oversize_payload_is_4_13_blockwise_or_not(committed, api, tenant, settings):
    settings.DEVICE_COAP_MAX_PAYLOAD_BYTES = 1024
    device = make_device(tenant, "coap-small")
    host = TransportThread("127.0.0.1", 0).start()
    client = CoapClient(host.port)
    try:
        big = json.dumps({"k": "x" * 3000}).encode()  # the client sends it block-wise
        answer = client.post(path(device, "telemetry"), big)
        assert answer.code == aiocoap.REQUEST_ENTITY_TOO_LARGE and answer.opt.size1 == 1024
        assert client.post(path(device, "telemetry"), {"k": "small"}).code == aiocoap.CREATED
        assert latest(api, device, "k")["k"][0][1] == "small"
    finally:
        client.close()
        host.stop()


def test_over_the_rate_limit_is_4_29_with_max_age(tenant, device, coap_client):
    limit_tenant(tenant, transportDeviceMsgRateLimit="2:3600")
    limits.reset()
    limits.forget()
    try:
        client = coap_client()
        assert client.post(path(device, "telemetry"), {"a": 1}).code == aiocoap.CREATED
        assert client.post(path(device, "telemetry"), b"{bad").code == aiocoap.BAD_REQUEST  # counted too
        refused = client.post(path(device, "telemetry"), {"a": 2})
        assert refused.code == aiocoap.TOO_MANY_REQUESTS and refused.opt.max_age >= 1
        assert b"Too many requests" in refused.payload
        assert client.get(path(device, "attributes")).code == aiocoap.TOO_MANY_REQUESTS
    finally:
        limits.reset()
        limits.forget()


def test_another_tenants_device_is_never_reached(api, device, other_tenant, coap_client):
    stranger = make_device(other_tenant, "coap-stranger")
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"secret": 1},
                    format="json").status_code == 200
    assert api.post(f"/api/rpc/oneway/{device.pk}", {"method": "reboot", "params": {}, "persistent": True},
                    format="json").status_code == 200
    client = coap_client()
    observation = client.observe(path(device, "rpc"))
    observation.next()
    call = observation.next_json()
    # the stranger answers the call's id, reads and observes with its own token: its own data only
    assert client.post(path(stranger, f"rpc/{call['id']}"), {"hijacked": True}).code == aiocoap.CREATED
    assert Rpc.objects.get().status == "DELIVERED" and Rpc.objects.get().response is None
    assert client.get(path(stranger, "attributes")).code == aiocoap.NOT_FOUND  # it has none
    assert client.observe(path(stranger, "attributes")).next_json() == {}
    assert client.post(path(stranger, "telemetry"), {"mine": 1}).code == aiocoap.CREATED
    assert latest(api, device, "mine") == {}
    assert not Device.objects.filter(tenant=device.tenant, name="coap-stranger").exists()


def test_an_observer_that_goes_away_is_forgotten_and_its_device_observed_again(api, device, coap, coap_client):
    gone = CoapClient(coap.port)
    observation = gone.observe(path(device, "attributes"))
    assert observation.next_json() == {}
    assert _wait(coap, lambda: coap.server.observations.count() == 1)
    gone.close()  # its socket closed: the next notification is refused (ICMP) and ends the observation
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 1},
                    format="json").status_code == 200
    assert _wait(coap, lambda: coap.server.observations.count() == 0)
    again = coap_client().observe(path(device, "attributes"))
    assert again.next_json() == {"target": 1}



def test_a_port_taken_is_an_error_for_the_thread_and_the_command(committed):
    import socket

    from django.core.management import CommandError, call_command

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        host = TransportThread("127.0.0.1", port).start()
        host.stop()
        assert isinstance(host.error, OSError)
        with pytest.raises(CommandError, match="cannot listen"):
            call_command("rundevicecoap", "--host", "127.0.0.1", "--port", str(port))


def test_a_deleted_device_is_4_01_from_then_on_and_an_unknown_rpc_id_is_dropped(api, device, coap_client):
    client = coap_client()
    assert client.post(path(device, "rpc/12345"), {"late": True}).code == aiocoap.CREATED  # as ThingsBoard: dropped
    where = path(device, "telemetry")
    assert api.delete(f"/api/device/{device.pk}").status_code == 200
    assert client.post(where, {"a": 1}).code == aiocoap.UNAUTHORIZED
