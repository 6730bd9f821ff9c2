"""ThingsBoard's downlink example end to end (issue 6, section 5): a rule chain of that shape,
imported as JSON through the API and made root, turns a shared-attribute change saved through
the API into (a) an MQTT publish on a topic built from the device, seen by a subscriber of a real
Mosquitto, and (b) the body of the device's next HTTP uplink response."""


import pytest

pytest.importorskip("rulechains.services", reason="the rule engine (rulechains) is not there yet")


from devices.models import Device
from integrations.ingress import downlinks, routes
from integrations.models import DownlinkStatus, Integration, OutgoingDownlink
from integrations.runner import Runner, RunnerThread
from integrations.tests.brokers import unique_topic, wait_until
from integrations.tests.downlinks import Subscriber, make_encoder
from integrations.tests.factories import make_integration
from integrations.tests.test_http_ingress import post
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as
from tbproject.testing.telemetry import forget_tenant_telemetry
from tenants.choices import Authority
from tenants.models import Tenant, User

pytestmark = pytest.mark.django_db(transaction=True)

_TB = "org.thingsboard.rule.engine."
#: ThingsBoard's MQTT downlink converter example (integration guide), unchanged in spirit
ENCODER = """
var data = {};
data.version = msg.firmware;
var result = {
    contentType: "JSON",
    data: JSON.stringify(data),
    metadata: {
        topic: metadata['deviceType'] + '/' + metadata['deviceName'] + '/upload'
    }
};
return result;
"""


def downlink_chain(integration_id) -> dict:
    """The downlink example rule chain's shape (reference section 6), as ThingsBoard exports it."""
    node = lambda kind, name, configuration, x: {  # noqa: E731
        "type": _TB + kind, "name": name, "debugMode": False, "configuration": configuration,
        "additionalInfo": {"layoutX": x, "layoutY": 150}}
    return {
        "ruleChain": {"name": "Downlink example", "root": False, "debugMode": False, "configuration": None},
        "metadata": {
            "firstNodeIndex": 0,
            "nodes": [
                node("filter.TbMsgTypeSwitchNode", "Message Type Switch", {"version": 0}, 100),
                node("filter.TbJsFilterNode", "Check updated attributes",
                     {"jsScript": "return typeof msg.firmware !== 'undefined';"}, 300),
                node("metadata.TbGetOriginatorFieldsNode", "Get Device Name",
                     {"fieldsMapping": {"name": "deviceName", "type": "deviceType"}}, 500),
                node("metadata.TbGetAttributesNode", "Get Firmware Version",
                     {"clientAttributeNames": [], "sharedAttributeNames": ["firmware"], "serverAttributeNames": [],
                      "latestTsKeyNames": [], "tellFailureIfAbsent": False}, 700),
                node("integration.TbIntegrationDownlinkNode", "Push to Integration",
                     {"integrationId": str(integration_id)}, 900),
                node("telemetry.TbMsgTimeseriesNode", "Save Timeseries", {"defaultTTL": 0}, 300),
                node("action.TbLogNode", "Log Other", {"jsScript": "return 'Other: ' + JSON.stringify(msg);"}, 300),
            ],
            "connections": [
                {"fromIndex": 0, "toIndex": 1, "type": "Attributes Updated"},
                {"fromIndex": 1, "toIndex": 2, "type": "True"},
                {"fromIndex": 2, "toIndex": 3, "type": "Success"},
                {"fromIndex": 3, "toIndex": 4, "type": "Success"},
                {"fromIndex": 0, "toIndex": 5, "type": "Post telemetry"},
                {"fromIndex": 0, "toIndex": 6, "type": "Other"},
            ],
            "ruleChainConnections": None,
        },
    }


@pytest.fixture
def tenant(transactional_db):
    tenant = Tenant.objects.create(title="Downlink example Co")
    yield tenant
    forget_tenant_telemetry(tenant)


@pytest.fixture
def api(tenant):
    admin = User.objects.create_user("dl-admin@example.com", "secret-pass-1", authority=Authority.TENANT_ADMIN,
                                     tenant=tenant)
    return api_as(admin)


@pytest.fixture
def host():
    threads = []

    def start() -> Runner:
        runner = Runner(lease_seconds=3, poll_seconds=0.3)
        threads.append(RunnerThread(runner).start())
        assert runner.started.wait(10)
        return runner

    yield start
    for thread in threads:
        thread.stop()


def import_as_root(api, integration) -> None:
    res = api.post("/api/ruleChain/import", downlink_chain(integration.pk), format="json")
    assert res.status_code == 200, res.content
    chain_id = res.json()["ruleChain"]["id"]["id"]
    assert api.post(f"/api/ruleChain/{chain_id}/root").status_code == 200


def save_shared(api, device, **values) -> None:
    res = api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/attributes/SHARED_SCOPE", values, format="json")
    assert res.status_code == 200, res.content


def test_a_shared_attribute_change_reaches_the_mqtt_topic_built_from_the_device(tenant, api, broker, host):
    integration = make_integration(tenant, "MQTT downlink", kind="MQTT",
                                   configuration=broker.config(unique_topic("up") + "/+"),
                                   downlink_converter=make_encoder(tenant, ENCODER))
    import_as_root(api, integration)
    device = make_device(tenant, "thermostat-" + unique_topic("x").split("/")[1])
    host()
    wait_until(lambda: Integration.objects.filter(pk=integration.pk, connected=True).exists(),
               message="the integration to connect")
    with Subscriber(broker, f"{device.type}/+/upload") as subscriber:
        save_shared(api, device, firmware="2.1")
        wait_until(lambda: subscriber.received, message="the downlink publish")
        save_shared(api, device, other="x")  # the filter drops it: no firmware in the message
    assert subscriber.received == [(f"{device.type}/{device.name}/upload", b'{"version":"2.1"}')]
    row = OutgoingDownlink.objects.get(integration=integration)
    assert row.msg_type == "ATTRIBUTES_UPDATED" and row.device_name == device.name
    wait_until(lambda: OutgoingDownlink.objects.filter(pk=row.pk, status=DownlinkStatus.DELIVERED).exists(),
               message="DELIVERED")


def test_a_shared_attribute_change_is_the_body_of_the_devices_next_http_uplink_response(tenant, api):
    routes.CACHE.clear()
    downlinks.PENDING.clear()
    encoder = "return {contentType: 'TEXT', data: 'fw=' + msg.firmware, metadata: {}};"
    integration = make_integration(tenant, "HTTP downlink", routing_key=f"dl-{tenant.pk.hex[:8]}",
                                   downlink_converter=make_encoder(tenant, encoder))
    import_as_root(api, integration)
    key = integration.routing_key
    assert post("asgi", key=key, body=b'{"id": "meter-1", "t": 20}').status == 204  # provisions the device
    device = wait_until(lambda: Device.objects.filter(tenant=tenant, name="meter-1").first(), message="the device")
    save_shared(api, device, firmware="3.0")
    answer = post("asgi", key=key, body=b'{"id": "meter-1", "t": 21}')
    assert (answer.status, answer.body) == (200, b"fw=3.0"), answer.body
    assert answer.headers["content-type"].startswith("text/plain")
    assert post("asgi", key=key, body=b'{"id": "meter-1", "t": 22}').status == 204
