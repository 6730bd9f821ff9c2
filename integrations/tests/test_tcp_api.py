"""The TCP integration through the integration API: configuration errors naming the field,
ThingsBoard's configuration saved unchanged, "check connection" on ports in use, and a port
another enabled integration holds refused at save time."""

import pytest

from integrations.models import Integration
from integrations.tests.sockets import api_body, free_port
from integrations.tests.test_tcp import tcp_config
from tbproject.testing.api import assert_error

# --- configuration through the API ----------------------------------------------------------------

def handler_config(**handler) -> dict:
    return {"clientConfiguration": {"handlerConfiguration": handler}}


@pytest.mark.parametrize(("configuration", "message"), [
    ({}, "configuration.clientConfiguration: Field required"),
    ({"clientConfiguration": {"port": 70000}}, "configuration.clientConfiguration.port"),
    (handler_config(handlerType="XML"), "configuration.clientConfiguration.handlerConfiguration.handlerType"),
    (handler_config(handlerType="TEXT", messageSeparator="CUSTOM_SEPARATOR"),
     "customSeparator is required when messageSeparator is CUSTOM_SEPARATOR"),
    (handler_config(handlerType="TEXT", charsetName="EBCDIC-42"), "unknown charset 'EBCDIC-42'"),
    (handler_config(handlerType="BINARY", lengthFieldLength=5),
     "configuration.clientConfiguration.handlerConfiguration.lengthFieldLength"),
    (handler_config(handlerType="BINARY", maxFrameLength=0),
     "configuration.clientConfiguration.handlerConfiguration.maxFrameLength"),
    ({"clientConfiguration": {"timeToLiveInMinutes": 0}}, "configuration.clientConfiguration.timeToLiveInMinutes"),
])
def test_the_api_refuses_bad_tcp_configurations_naming_the_field(api, tenant, configuration, message):
    from integrations.models import Integration
    from integrations.tests.factories import make_uplink_converter

    body = api_body(make_uplink_converter(tenant), "TCP", configuration)
    assert_error(api.post("/api/integration", body, format="json"), 400, message)
    assert not Integration.objects.exists()


def test_the_api_saves_a_thingsboard_tcp_configuration_unchanged(api, tenant):
    from integrations.tests.factories import make_uplink_converter

    exported = {"clientConfiguration": {
        "port": 10560, "soBacklogOption": 128, "soRcvBuf": 64, "soSndBuf": 64, "soKeepaliveOption": False,
        "tcpNoDelay": True, "cacheSize": 1000, "timeToLiveInMinutes": 1440,
        "handlerConfiguration": {"handlerType": "BINARY", "byteOrder": "LITTLE_ENDIAN", "maxFrameLength": 128,
                                 "lengthFieldOffset": 4, "lengthFieldLength": 1, "lengthAdjustment": 0,
                                 "initialBytesToStrip": 5, "failFast": False}},
        "metadata": {}}
    res = api.post("/api/integration", api_body(make_uplink_converter(tenant), "TCP", exported), format="json")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"] == exported


def test_check_connection_reports_a_port_in_use(api, tenant):
    import socket

    from integrations.tests.factories import make_uplink_converter

    port = free_port()
    body = api_body(make_uplink_converter(tenant), "TCP", tcp_config(port, handlerType="TEXT"))
    assert api.post("/api/integration/check", body, format="json").status_code == 200
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        assert_error(api.post("/api/integration/check", body, format="json"), 400,
                     f"Cannot listen on TCP port {port} (127.0.0.1): Address already in use")


def test_checking_a_saved_integration_does_not_report_its_own_running_port(api, tenant):
    from integrations.listeners import sockets
    from integrations.tests.factories import make_uplink_converter

    port = free_port()
    body = api_body(make_uplink_converter(tenant), "TCP", tcp_config(port, handlerType="TEXT"), name="Gate")
    saved = api.post("/api/integration", body, format="json").json()
    stored = Integration.objects.get(pk=saved["id"]["id"])
    sockets.claim("tcp", port, stored)  # as its running listener in this process does
    try:
        assert api.post("/api/integration/check", saved, format="json").status_code == 200
        assert_error(api.post("/api/integration/check", body, format="json"), 400,  # a new one: taken
                     f"TCP port {port} is already used by integration 'Gate'")
    finally:
        sockets.release("tcp", port, stored)


def test_a_port_held_by_another_enabled_integration_is_refused_at_save_time(api, mallory_api, tenant, other_tenant):
    from integrations.tests.factories import make_uplink_converter

    port = free_port()
    first = api.post("/api/integration", api_body(make_uplink_converter(tenant), "TCP",
                                                  tcp_config(port, handlerType="TEXT"), name="Gate"), format="json")
    assert first.status_code == 200, first.content
    second = api_body(make_uplink_converter(tenant, "second decoder"), "TCP", tcp_config(port, handlerType="JSON"),
                      name="Gate 2")
    assert_error(api.post("/api/integration", second, format="json"), 400,
                 f"TCP port {port} is already used by integration 'Gate'")
    # another tenant is refused too (ports are the host's), without learning the name
    theirs = api_body(make_uplink_converter(other_tenant, "theirs"), "TCP", tcp_config(port, handlerType="TEXT"),
                      name="Mallory gate")
    assert_error(mallory_api.post("/api/integration", theirs, format="json"), 400,
                 f"TCP port {port} is already used by another integration")
    # UDP on the same number is another port; a disabled integration holds nothing
    assert api.post("/api/integration", api_body(make_uplink_converter(tenant, "udp decoder"), "UDP",
                    {"clientConfiguration": {"port": port, "handlerConfiguration": {"handlerType": "TEXT"}}},
                    name="Datagrams"), format="json").status_code == 200
    assert api.post("/api/integration", {**second, "enabled": False}, format="json").status_code == 200
    saved = first.json()  # saving the holder again is no conflict with itself
    assert api.post("/api/integration", {**saved, "name": "Gate renamed"}, format="json").status_code == 200
