"""The "Check connectivity" MQTT over TLS commands and the CA certificate they download (devices/connectivity.py,
devices/api/connectivity.py): ThingsBoard's ``mqtts`` entry, its "Check documentation" for an X.509 device, and
the certificate download, open to anyone, giving every certificate of the file and never a key it holds."""

import pytest
from django.test import override_settings

from devices.models import DeviceCredentials
from tbproject.testing.factories import make_device
from tenants.system import store

PEM = "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVU\n-----END PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    store.forget()
    yield
    store.forget()


@override_settings(PUBLIC_BASE_URL="https://iot.example.com", DEVICE_MQTT_SSL_ENABLED=True)
def test_mqtts_commands_for_a_token_and_check_documentation_for_an_x509_certificate(tenant, api):
    device = make_device(tenant, "mqtts-1")
    token = DeviceCredentials.objects.get(device=device).credentials_id
    download = "curl -f -S -o ca-root.pem https://iot.example.com/api/device-connectivity/mqtts/certificate/download"
    mqtt = api.get(f"/api/device-connectivity/{device.pk}").json()["mqtt"]
    assert mqtt["mqtts"] == [download, "mosquitto_pub -d -q 1 --cafile ca-root.pem -h iot.example.com -p 8883 "
                                       f"-t v1/devices/me/telemetry -u {token} -m \"{{temperature:25}}\""]
    assert mqtt["mqtt"].startswith("mosquitto_pub -d -q 1 -h iot.example.com -p 1883 ")
    DeviceCredentials.objects.filter(device=device).update(credentials_type="X509_CERTIFICATE",
                                                           credentials_id="a" * 64, credentials_value="MIIB")
    # ThingsBoard's answer for an X.509 device, whether MQTT over TLS is enabled or not
    assert api.get(f"/api/device-connectivity/{device.pk}").json() == {"mqtt": {"mqtts": "Check documentation"}}
    with override_settings(DEVICE_MQTT_SSL_ENABLED=False):
        assert api.get(f"/api/device-connectivity/{device.pk}").json() == {"mqtt": {"mqtts": "Check documentation"}}


URL = "/api/device-connectivity/{}/certificate/download"


@pytest.mark.parametrize("protocol", ["mqtts", "https"])
def test_the_certificate_is_every_certificate_of_the_file_and_never_its_key(api, tmp_path, protocol):
    pem = tmp_path / "server.pem"
    pem.write_text(PEM.format("U0VSVkVS") + KEY + PEM.format("Q0E="))
    with override_settings(DEVICE_MQTT_SSL_CERT=str(pem), DEVICE_CONNECTIVITY_HTTPS_PEM_FILE=str(pem)):
        answer = api.get(URL.format(protocol))
    assert answer.status_code == 200 and answer.content.decode() == PEM.format("U0VSVkVS") + PEM.format("Q0E=")
    assert answer["Content-Disposition"] == "attachment; filename=ca-root.pem"
    pem.write_text(KEY)
    with override_settings(DEVICE_MQTT_SSL_CERT=str(pem), DEVICE_CONNECTIVITY_HTTPS_PEM_FILE=str(pem)):
        assert api.get(URL.format(protocol)).status_code == 404
    with override_settings(DEVICE_MQTT_SSL_CERT=str(tmp_path / "missing.pem"),
                           DEVICE_CONNECTIVITY_HTTPS_PEM_FILE=str(tmp_path / "missing.pem")):
        assert api.get(URL.format(protocol)).status_code == 404


def test_anyone_downloads_the_certificate_even_with_a_bad_token(anon, tmp_path):
    """ThingsBoard's dialog's first mqtts command is a curl without credentials."""
    pem = tmp_path / "server.pem"
    pem.write_text(PEM.format("Q0E="))
    with override_settings(DEVICE_MQTT_SSL_CERT=str(pem)):
        answer = anon.get(URL.format("mqtts"))
        assert answer.status_code == 200 and answer.content.decode() == PEM.format("Q0E=")
        anon.credentials(HTTP_X_AUTHORIZATION="Bearer not.a.valid-token")
        assert anon.get(URL.format("mqtts")).status_code == 200
        anon.credentials(HTTP_AUTHORIZATION="Bearer expired.or.forged")
        assert anon.get(URL.format("mqtts")).status_code == 200
    assert anon.get(URL.format("gopher")).status_code == 400
    assert anon.get(URL.format("coaps")).status_code == 404
