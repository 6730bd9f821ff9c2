"""GET /api/device-connectivity/... (devices/connectivity.py) and the two LwM2M routes: ThingsBoard's answers for
the transports this server has (HTTP, MQTT), tenancy, the credentials right, bad input."""

import json

import pytest
from django.test import override_settings
from tb_pe_client.models import Device as ClientDevice
from tb_pe_client.models import LwM2MServerSecurityConfigDefault

from devices.models import Device, DeviceCredentials
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as
from tenants.system import store

LWM2M_VALUE = {"client": {"endpoint": "lwm2m-ep-1", "securityConfigClientMode": "NO_SEC"},
               "bootstrap": {"bootstrapServer": {"securityMode": "NO_SEC"}, "lwm2mServer": {"securityMode": "NO_SEC"}}}


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    store.forget()  # the connectivity settings document, cached per process
    yield
    store.forget()


def _token(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


@override_settings(PUBLIC_BASE_URL="https://iot.example.com:8443")
def test_an_access_token_device_gets_thingsboards_http_command(tenant, customer, api, customer_api, mallory_api):
    device = make_device(tenant, customer=customer)
    commands = api.get(f"/api/device-connectivity/{device.pk}").json()
    mqtt = f"mosquitto_pub -d -q 1 -h iot.example.com -p 1883 -t v1/devices/me/telemetry -u {_token(device)} " \
           '-m "{temperature:25}"'
    assert commands == {"http": {"https": f"curl -v -X POST https://iot.example.com:8443/api/v1/{_token(device)}"
                                          "/telemetry --header Content-Type:application/json --data "
                                          '"{temperature:25}"'},
                        "mqtt": {"mqtt": mqtt, "docker": {"mqtt": f"docker run --rm -it thingsboard/mosquitto-clients "
                                                                  f"{mqtt}"}}}
    assert customer_api.get(f"/api/device-connectivity/{device.pk}").status_code == 200  # its customer's device
    assert mallory_api.get(f"/api/device-connectivity/{device.pk}").status_code == 404
    with override_settings(PUBLIC_BASE_URL="http://iot.example.com", DEVICE_CONNECTIVITY_HOST="10.0.0.5"):
        assert api.get(f"/api/device-connectivity/{device.pk}").json()["http"]["http"].startswith(
            "curl -v -X POST http://10.0.0.5/api/v1/")


@override_settings(PUBLIC_BASE_URL="http://localhost:8080", DEVICE_CONNECTIVITY_MQTT_PORT=11883)
def test_mqtt_basic_credentials_get_the_mqtt_command_only_and_other_transports_none(tenant, api):
    device = make_device(tenant, name="basic")
    DeviceCredentials.objects.filter(device=device).update(credentials_type="MQTT_BASIC", credentials_id="u1",
                                                           credentials_value='{"clientId": "c1", "userName": "u1", '
                                                                             '"password": "p w"}')
    tail = "-t v1/devices/me/telemetry -i c1 -u u1 -P 'p w' -m \"{temperature:25}\""
    expected = {"mqtt": {"mqtt": f"mosquitto_pub -d -q 1 -h localhost -p 11883 {tail}",
                         "docker": {"mqtt": "docker run --rm -it --add-host=host.docker.internal:host-gateway "
                                            "thingsboard/mosquitto-clients mosquitto_pub -d -q 1 "
                                            f"-h host.docker.internal -p 11883 {tail}"}}}
    assert api.get(f"/api/device-connectivity/{device.pk}").json() == expected
    profile = device.profile
    profile.additional_info = {**profile.additional_info, "transportType": "MQTT"}
    profile.save()
    assert api.get(f"/api/device-connectivity/{device.pk}").json() == expected
    with override_settings(DEVICE_CONNECTIVITY_MQTT_ENABLED=False):
        assert api.get(f"/api/device-connectivity/{device.pk}").json() == {}
    profile.additional_info = {**profile.additional_info, "transportType": "COAP"}
    profile.save()
    assert api.get(f"/api/device-connectivity/{device.pk}").json() == {"COAP": "Check documentation"}


@override_settings(PUBLIC_BASE_URL="http://localhost:8080")
def test_the_gateway_compose_file_carries_the_devices_token(tenant, api, customer_api):
    device = make_device(tenant, name="gateway-1")
    answer = api.get(f"/api/device-connectivity/gateway-launch/{device.pk}/docker-compose/download")
    assert answer.status_code == 200 and answer["Content-Disposition"] == "attachment; filename=docker-compose.yml"
    text = answer.content.decode()
    assert "image: thingsboard/tb-gateway:latest" in text and "TB_GW_SECURITY_TYPE=accessToken" in text
    assert f"TB_GW_ACCESS_TOKEN={_token(device)}" in text and "TB_GW_HOST=host.docker.internal" in text
    assert customer_api.get(f"/api/device-connectivity/gateway-launch/{device.pk}/docker-compose/download") \
        .status_code == 404  # not its customer's


def test_bad_ids_protocols_and_flags_are_a_400(tenant, api, tmp_path):
    assert api.get("/api/device-connectivity/not-a-uuid").status_code == 400
    assert api.get("/api/device-connectivity/gopher/certificate/download").status_code == 400
    assert api.get("/api/device-connectivity/mqtts/certificate/download").status_code == 404  # no MQTT over TLS here
    assert api.get("/api/device-connectivity/https/certificate/download").status_code == 404  # none configured
    pem = tmp_path / "server.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with override_settings(DEVICE_CONNECTIVITY_HTTPS_PEM_FILE=str(pem)):
        answer = api.get("/api/device-connectivity/https/certificate/download")
    assert answer.status_code == 200 and answer.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert api.get("/api/lwm2m/deviceProfile/bootstrap/maybe").status_code == 400


def test_lwm2m_server_info_and_device_with_credentials(tenant, api, customer_api):
    server = LwM2MServerSecurityConfigDefault.from_dict(api.get("/api/lwm2m/deviceProfile/bootstrap/false").json())
    assert (server.short_server_id, server.port, server.security_port, server.bootstrap_server_is) == \
        (123, 5685, 5686, False)
    bootstrap = customer_api.get("/api/lwm2m/deviceProfile/bootstrap/true").json()
    assert (bootstrap["port"], bootstrap["bootstrapServerIs"]) == (5687, True)

    body = {"device": {"name": "lwm2m-1", "type": "lwm2m"},
            "credentials": {"credentialsType": "LWM2M_CREDENTIALS", "credentialsValue": json.dumps(LWM2M_VALUE)}}
    saved = api.post("/api/lwm2m/device-credentials", body, format="json")
    assert saved.status_code == 200 and ClientDevice.from_dict(saved.json()).name == "lwm2m-1"
    device = Device.objects.get(tenant=tenant, name="lwm2m-1")
    assert (device.credentials.credentials_type, device.credentials.credentials_id) == \
        ("LWM2M_CREDENTIALS", "lwm2m-ep-1")
    bad = {"device": {"name": "lwm2m-2", "type": "lwm2m"},
           "credentials": {"credentialsType": "LWM2M_CREDENTIALS", "credentialsValue": "{}"}}
    assert api.post("/api/lwm2m/device-credentials", bad, format="json").status_code == 400
    assert not Device.objects.filter(name="lwm2m-2").exists()
    assert customer_api.post("/api/lwm2m/device-credentials", body, format="json").status_code == 403


# --- what a device's credentials may not smuggle into the generated text (review fixes) -------------

@override_settings(PUBLIC_BASE_URL="http://localhost:8080")
def test_mqtt_basic_values_cannot_add_yaml_to_the_gateway_compose_file(tenant, api):
    import yaml

    device = make_device(tenant, name="gateway-2")
    value = {"clientId": "c1\n    privileged: true", "userName": "u: x # y", "password": "p$HOME'\"\\"}
    DeviceCredentials.objects.filter(device=device).update(credentials_type="MQTT_BASIC", credentials_id="u-x",
                                                           credentials_value=json.dumps(value))
    text = api.get(f"/api/device-connectivity/gateway-launch/{device.pk}/docker-compose/download").content.decode()
    service = yaml.safe_load(text)["services"]["tb-gateway"]
    assert "privileged" not in service
    assert service["environment"][2:] == ["TB_GW_SECURITY_TYPE=usernamePassword",
                                          "TB_GW_CLIENT_ID=c1\n    privileged: true", "TB_GW_USERNAME=u: x # y",
                                          "TB_GW_PASSWORD=p$$HOME'\"\\"]  # compose reads $$ as one $


@pytest.mark.parametrize("bad", ["u\nx", "u\rx", "u\tx", "u\x1bx", "u\x7fx"])
def test_control_characters_in_mqtt_basic_credentials_are_a_400(tenant, api, bad):
    device = make_device(tenant, name="ctl")
    for key in ("clientId", "userName", "password"):
        value = {"clientId": "c", "userName": "u", "password": "p", key: bad}
        answer = api.post("/api/device/credentials", {**api.get(f"/api/device/{device.pk}/credentials").json(),
                                                      "credentialsType": "MQTT_BASIC",
                                                      "credentialsValue": json.dumps(value)}, format="json")
        assert answer.status_code == 400 and "control characters" in answer.json()["message"]
    assert DeviceCredentials.objects.get(device=device).credentials_type == "ACCESS_TOKEN"


@override_settings(PUBLIC_BASE_URL="http://iot.example.com")
def test_the_curl_command_quotes_what_it_interpolates(tenant, api):
    import shlex

    device = make_device(tenant, name="shell")
    DeviceCredentials.objects.filter(device=device).update(credentials_id="a;id$(x)'`b")
    command = api.get(f"/api/device-connectivity/{device.pk}").json()["http"]["http"]
    assert shlex.split(command) == ["curl", "-v", "-X", "POST",
                                    "http://iot.example.com/api/v1/a%3Bid%24%28x%29%27%60b/telemetry",
                                    "--header", "Content-Type:application/json", "--data", "{temperature:25}"]
    mqtt = api.get(f"/api/device-connectivity/{device.pk}").json()["mqtt"]["mqtt"]
    assert shlex.split(mqtt)[-3:] == ["a;id$(x)'`b", "-m", "{temperature:25}"] and shlex.split(mqtt)[-4] == "-u"
    with override_settings(DEVICE_CONNECTIVITY_HOST="h;rm -rf ~"):
        commands = api.get(f"/api/device-connectivity/{device.pk}").json()
    assert shlex.split(commands["http"]["http"])[4].startswith("http://h;rm -rf ~/api/v1/")
    assert shlex.split(commands["mqtt"]["mqtt"])[4:6] == ["-h", "h;rm -rf ~"]
    assert shlex.split(commands["mqtt"]["docker"]["mqtt"])[:5] == ["docker", "run", "--rm", "-it",
                                                                   "thingsboard/mosquitto-clients"]


# --- the system administrator's connectivity settings (review fix) ----------------------------------

def _save_connectivity(sysadmin, value: dict) -> None:
    answer = api_as(sysadmin).post("/api/admin/settings", {"key": "connectivity", "jsonValue": value}, format="json")
    assert answer.status_code == 200, answer.content


@override_settings(PUBLIC_BASE_URL="https://iot.example.com", DEVICE_CONNECTIVITY_MQTT_PORT=11883)
def test_the_commands_follow_the_system_administrators_connectivity_settings(tenant, api, sysadmin):
    device = make_device(tenant, name="follows")
    token = _token(device)
    _save_connectivity(sysadmin, {"http": {"enabled": True, "host": "", "port": 8080},
                                  "https": {"enabled": True, "host": "secure.example.com", "port": "443"},
                                  "mqtt": {"enabled": False, "host": "", "port": 1883}})
    commands = api.get(f"/api/device-connectivity/{device.pk}").json()
    assert commands == {"http": {
        "http": f"curl -v -X POST http://iot.example.com:8080/api/v1/{token}/telemetry --header "
                'Content-Type:application/json --data "{temperature:25}"',
        "https": f"curl -v -X POST https://secure.example.com/api/v1/{token}/telemetry --header "
                 'Content-Type:application/json --data "{temperature:25}"'}}  # no MQTT: disabled there

    _save_connectivity(sysadmin, {"http": {"enabled": False}, "mqtt": {"enabled": True, "host": "mqtt.example.com",
                                                                       "port": "1884"}})
    commands = api.get(f"/api/device-connectivity/{device.pk}").json()
    assert set(commands) == {"mqtt"}
    assert commands["mqtt"]["mqtt"].startswith("mosquitto_pub -d -q 1 -h mqtt.example.com -p 1884 -t ")
    text = api.get(f"/api/device-connectivity/gateway-launch/{device.pk}/docker-compose/download").content.decode()
    assert "TB_GW_HOST=mqtt.example.com" in text and "TB_GW_PORT=1884" in text

    # what the document leaves out or holds unusable falls back to DEVICE_CONNECTIVITY_*
    _save_connectivity(sysadmin, {"mqtt": {"enabled": "maybe", "host": 7, "port": "70000"}})
    commands = api.get(f"/api/device-connectivity/{device.pk}").json()
    assert commands["mqtt"]["mqtt"].startswith("mosquitto_pub -d -q 1 -h iot.example.com -p 11883 -t ")
    with override_settings(DEVICE_CONNECTIVITY_MQTT_ENABLED=False):
        assert "mqtt" not in api.get(f"/api/device-connectivity/{device.pk}").json()
