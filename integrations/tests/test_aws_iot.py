"""AWS IoT against a private Mosquitto that stands in for AWS IoT Core's device data endpoint:
TLS only, a client certificate from the account's CA required (``require_certificate true``), no
username or password. The test plays the devices (publishes with its own certificate) and reads
what ThingsBoard publishes. The listener host runs in a thread, the pipeline stores real telemetry."""

import json
import ssl

import pytest

from devices.models import Device
from devices.telemetry import latest
from integrations.downlinks import submit
from integrations.models import Integration
from integrations.tests.brokers import Certificates, publish_sync, unique_topic, wait_until
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.mqtt_clouds import AuthSubscriber, connected, forget_telemetry, start_host
from integrations.types.base import MASK
from tbproject.testing.api import assert_error
from tenants.models import Tenant


@pytest.fixture
def certs(tmp_path):
    return Certificates(tmp_path / "certs")


@pytest.fixture
def aws(make_broker, certs):
    """AWS IoT Core's endpoint: mutual TLS, the client certificate is the identity."""
    return make_broker(certs.mosquitto_conf(require_certificate=True)).start()


@pytest.fixture
def device_tls(certs, tmp_path):
    context = ssl.create_default_context(cadata=certs.ca)
    (tmp_path / "device.pem").write_text(certs.client)
    (tmp_path / "device.key").write_text(certs.client_key)
    context.load_cert_chain(tmp_path / "device.pem", tmp_path / "device.key")
    return context


@pytest.fixture
def cloud_tenant(transactional_db):
    tenant = Tenant.objects.create(title="AWS Co")
    yield tenant
    forget_telemetry(tenant)


@pytest.fixture
def host():
    threads = []
    yield lambda: threads.append(start_host())
    for thread in threads:
        thread.stop()


def configuration(broker, certs, topic_filter="dt/#", **extra) -> dict:
    return {"clientConfiguration": {"host": broker.host, "port": broker.port, "connectTimeoutSec": 3,
                                    "clientId": "thingsboard-bridge",
                                    "credentials": {"type": "cert.PEM", "caCert": certs.ca, "cert": certs.client,
                                                    "privateKey": certs.client_key}},
            "topicFilters": [{"filter": topic_filter, "qos": 1}], **extra}


@pytest.mark.django_db(transaction=True)
def test_uplinks_become_telemetry_and_downlinks_are_published_over_mutual_tls(cloud_tenant, aws, certs, device_tls,
                                                                             host):
    prefix = unique_topic("dt")
    encoder = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {thing: metadata.deviceName}};"
    integration = make_integration(cloud_tenant, "AWS meters", kind="AWS_IOT",
                                   converter=make_uplink_converter(cloud_tenant),
                                   downlink_converter=make_encoder(cloud_tenant, encoder),
                                   configuration=configuration(aws, certs, f"{prefix}/+",
                                                               downlinkTopicPattern="cmd/${thing}/set"))
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    publish_sync(aws, [(f"{prefix}/meter-1", json.dumps({"id": "meter-1", "t": 7.5}).encode())], ssl=device_tls)
    device = wait_until(lambda: Device.objects.filter(tenant=cloud_tenant, name="meter-1").first(),
                        message="the device")
    stored = wait_until(lambda: latest(device.pk, ["t"]), message="the telemetry")
    assert {key: value for key, (_, value) in stored.items()} == {"t": 7.5}

    with AuthSubscriber(aws, "cmd/#", auth=None, ssl=device_tls) as subscriber:
        submit(cloud_tenant.pk, integration.pk, attributes_msg(cloud_tenant, "meter-1", {"interval": 60}))
        wait_until(lambda: subscriber.received, message="the downlink publish")
    assert subscriber.received == [("cmd/meter-1/set", b'{"interval":60}')]


@pytest.mark.django_db(transaction=True)
def test_a_certificate_the_endpoint_does_not_trust_is_the_integrations_error(cloud_tenant, aws, certs, host, tmp_path):
    """AWS IoT drops the TLS handshake of a certificate not registered in the account; Mosquitto
    does the same for one its CA did not sign."""
    stranger = Certificates(tmp_path / "stranger")
    config = configuration(aws, certs)
    config["clientConfiguration"]["credentials"].update(cert=stranger.client, privateKey=stranger.client_key)
    integration = make_integration(cloud_tenant, "AWS stranger", kind="AWS_IOT", configuration=config)
    host()
    error = wait_until(lambda: Integration.objects.get(pk=integration.pk).last_error, message="the connect error")
    assert error.startswith(f"Failed to connect to MQTT broker at 127.0.0.1:{aws.port}: ")
    assert not connected(integration)


@pytest.mark.django_db
def test_check_connects_with_the_certificate_and_names_aws_when_it_cannot(api, tenant, aws, certs, tmp_path):
    converter = make_uplink_converter(tenant)
    body = {"name": "probe", "type": "AWS_IOT", "configuration": configuration(aws, certs),
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    assert api.post("/api/integration/check", body, format="json").status_code == 200, "the certificate is accepted"
    stranger = Certificates(tmp_path / "stranger")
    body["configuration"]["clientConfiguration"]["credentials"].update(cert=stranger.client,
                                                                       privateKey=stranger.client_key)
    assert_error(api.post("/api/integration/check", body, format="json"), 400,
                 f"Failed to connect to AWS IoT at 127.0.0.1:{aws.port}: ")


@pytest.mark.django_db
@pytest.mark.parametrize(("credentials", "message"), [
    ({"type": "cert.PEM", "cert": "x"}, "configuration.clientConfiguration.credentials.privateKey"),
    ({"type": "basic", "username": "u", "password": "p", "cert": "x", "privateKey": "y"},
     "configuration.clientConfiguration.credentials.type"),
    ({"type": "cert.PEM", "privateKey": "y"}, "configuration.clientConfiguration.credentials.cert"),
])
def test_configuration_errors_name_the_field(api, tenant, credentials, message):
    converter = make_uplink_converter(tenant)
    body = {"name": "bad", "type": "AWS_IOT",
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)},
            "configuration": {"clientConfiguration": {"host": "abc-ats.iot.eu-west-1.amazonaws.com",
                                                      "credentials": credentials},
                              "topicFilters": [{"filter": "dt/#", "qos": 1}]}}
    assert_error(api.post("/api/integration", body, format="json"), 400, message)


@pytest.mark.django_db
def test_the_private_key_is_write_only(api, tenant, certs, aws):
    converter = make_uplink_converter(tenant)
    body = {"name": "aws", "type": "AWS_IOT", "configuration": configuration(aws, certs),
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    saved = api.post("/api/integration", body, format="json")
    assert saved.status_code == 200, saved.content
    credentials = saved.json()["configuration"]["clientConfiguration"]["credentials"]
    assert credentials["privateKey"] == MASK and credentials["cert"] == certs.client
    stored = Integration.objects.get(pk=saved.json()["id"]["id"])
    assert stored.configuration["clientConfiguration"]["credentials"]["privateKey"] == certs.client_key


def test_the_connection_is_tls_on_8883_without_username():
    from integrations.types.aws_iot import AwsIotIntegration

    integration = Integration(name="a", type="AWS_IOT", configuration={
        "clientConfiguration": {"host": "abc-ats.iot.eu-west-1.amazonaws.com",
                                "credentials": {"type": "cert.PEM", "cert": "C", "privateKey": "K"}},
        "topicFilters": [{"filter": "dt/#"}]})
    cc = AwsIotIntegration(integration).connection_config().clientConfiguration
    assert (cc.port, cc.ssl, cc.credentials.type, cc.credentials.username) == (8883, True, "cert.PEM", "")
