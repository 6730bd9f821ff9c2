"""Credential expiry warnings (integrations/expiry.py): certificates generated here, read at save,
answered by the API, recorded as LC_EVENTs at save and by the periodic job."""

import datetime
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from converters.models import DebugEvent
from integrations import expiry
from integrations.models import Integration
from integrations.tasks import check_credential_expiry
from integrations.tests.factories import MQTT_CONFIG, make_uplink_converter
from tbproject.clock import now_ms
from tbproject.periodic import JOBS

DAY = expiry.DAY_MS


def certificate(days: float, name: str = "broker.example") -> tuple[str, str]:
    """(certificate PEM, key PEM): self-signed, valid until ``days`` from now (negative: expired)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def mqtt_tls(ca_days: float, cert_days: float) -> dict:
    ca, _ = certificate(ca_days, "Example CA")
    cert, key = certificate(cert_days, "device-17")
    client = {**MQTT_CONFIG["clientConfiguration"],
              "credentials": {"type": "cert.PEM", "caCert": ca, "cert": cert, "privateKey": key}}
    return {**MQTT_CONFIG, "clientConfiguration": client}


def body(tenant, configuration, kind="MQTT", name="expiring") -> dict:
    conv = make_uplink_converter(tenant, f"{name} decoder")
    return {"name": name, "type": kind, "defaultConverterId": {"entityType": "CONVERTER", "id": str(conv.pk)},
            "configuration": configuration}


def lc_events(pk) -> list[dict]:
    rows = DebugEvent.objects.filter(entity_id=pk, event_type="LC_EVENT").order_by("created_time", "id")
    return [e.body for e in rows if e.body["event"].startswith("CREDENTIALS_")]


def test_saving_reads_certificates_and_warns_at_7_and_30_days(api, tenant):
    res = api.post("/api/integration", body(tenant, mqtt_tls(ca_days=20, cert_days=5)), format="json")
    assert res.status_code == 200, res.json()
    saved = res.json()
    answer = saved["credentialExpiry"]
    assert [(c["path"], c["kind"], c["level"]) for c in answer] == [
        ("clientConfiguration.credentials.cert", "certificate", "7days"),
        ("clientConfiguration.credentials.caCert", "certificate", "30days")]
    assert answer[0]["subject"] == "CN=device-17" and "expires in 5 days" in answer[0]["message"]
    assert "expires in 20 days" in answer[1]["message"]
    assert abs(answer[0]["expiresTs"] - (now_ms() + 5 * DAY)) < 120_000
    assert saved["configuration"]["clientConfiguration"]["credentials"]["privateKey"] == "******"
    assert api.get(f"/api/integration/{saved['id']['id']}").json()["credentialExpiry"] == answer
    events = lc_events(saved["id"]["id"])
    assert [(e["event"], e["status"]) for e in events] == [("CREDENTIALS_EXPIRING", "Failure")] * 2
    errors = sorted(e["error"] for e in events)  # one save: the same created_time, any order
    assert errors[0].startswith("TLS certificate in configuration.clientConfiguration.credentials.caCert "
                                "(CN=Example CA) expires in 20 days")
    assert errors[1].startswith("TLS certificate in configuration.clientConfiguration.credentials.cert "
                                "(CN=device-17) expires in 5 days")
    # saved again unchanged (secrets posted back masked): no second warning for the same level
    assert api.post("/api/integration", saved, format="json").status_code == 200
    assert len(lc_events(saved["id"]["id"])) == 2


def test_an_expired_certificate_says_expired(api, tenant):
    saved = api.post("/api/integration", body(tenant, mqtt_tls(ca_days=-3, cert_days=400)), format="json").json()
    [credential] = saved["credentialExpiry"][:1]
    assert credential["level"] == "expired" and "expired on" in credential["message"]
    assert saved["credentialExpiry"][1]["level"] is None  # a year away: reported, no warning
    [event] = lc_events(saved["id"]["id"])
    assert event["event"] == "CREDENTIALS_EXPIRED" and "expired on" in event["error"]


def test_thingsboard_json_is_unchanged_without_expiring_credentials(api, tenant):
    saved = api.post("/api/integration", body(tenant, MQTT_CONFIG, name="plain"), format="json").json()
    assert "credentialExpiry" not in saved and lc_events(saved["id"]["id"]) == []


def test_the_periodic_job_warns_once_per_level(api, tenant):
    saved = api.post("/api/integration", body(tenant, mqtt_tls(ca_days=45, cert_days=400)), format="json").json()
    pk = saved["id"]["id"]
    assert lc_events(pk) == [] and expiry.check_all() == 0
    assert check_credential_expiry() == 0
    now = now_ms()
    assert expiry.check_all(now=now + 16 * DAY) == 1  # 29 days left
    assert expiry.check_all(now=now + 20 * DAY) == 0  # still the 30-day level: already warned
    assert expiry.check_all(now=now + 39 * DAY) == 1  # 6 days left
    assert expiry.check_all(now=now + 46 * DAY) == 1  # expired
    assert [e["event"] for e in lc_events(pk)] == ["CREDENTIALS_EXPIRING", "CREDENTIALS_EXPIRING",
                                                   "CREDENTIALS_EXPIRED"]
    assert Integration.objects.get(pk=pk).credential_expiry[0]["warned"] == "expired"
    assert "integrations.tasks.check_credential_expiry" in {job.path for job in JOBS}


def test_sas_tokens_carry_their_expiry(api, tenant):
    se = now_ms() // 1000 + 6 * 86400
    sr = urllib.parse.quote("ns.servicebus.windows.net/telemetry", safe="")
    connection = (f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature "
                  f"sr={sr}&sig=abc%2Bdef%3D&se={se}&skn=listen")
    configuration = {"clientConfiguration": {"connectionString": connection, "topicName": "telemetry"}}
    res = api.post("/api/integration", body(tenant, configuration, kind="AZURE_SERVICE_BUS", name="bus"),
                   format="json")
    assert res.status_code == 200, res.json()
    [credential] = res.json()["credentialExpiry"]
    assert (credential["path"], credential["kind"], credential["level"], credential["expiresTs"]) == (
        "clientConfiguration.connectionString", "sasToken", "7days", se * 1000)
    assert credential["subject"] == "ns.servicebus.windows.net/telemetry"
    assert "SAS token" in credential["message"] and "sig=" not in str(res.json())  # the secret stays masked


@pytest.mark.parametrize("text", [
    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----",  # not DER inside
    "SharedAccessSignature sr=x&sig=y",  # no se
    "SharedAccessSignature sr=x&se=soon",
])
def test_unreadable_credentials_are_skipped_and_the_save_goes_through(api, tenant, text):
    configuration = {**MQTT_CONFIG, "clientConfiguration": {**MQTT_CONFIG["clientConfiguration"], "note": text}}
    res = api.post("/api/integration", body(tenant, configuration, name="odd"), format="json")
    assert res.status_code == 200 and "credentialExpiry" not in res.json()


def test_a_certificate_in_a_json_escaped_string_and_in_a_list_is_found():
    cert, _ = certificate(3)
    found = expiry.scan({"servers": [{"tls": cert.replace("\n", "\\n")}]})
    assert [(c["path"], expiry.level(c["expiresTs"], now_ms())) for c in found] == [("servers[0].tls", "7days")]


def test_another_tenant_cannot_read_the_warnings(api, mallory_api, tenant):
    saved = api.post("/api/integration", body(tenant, mqtt_tls(5, 5)), format="json").json()
    assert mallory_api.get(f"/api/integration/{saved['id']['id']}").status_code == 404


def test_the_periodic_job_reads_integrations_saved_before_it_existed(tenant):
    cert, _ = certificate(4, "legacy")
    client = {**MQTT_CONFIG["clientConfiguration"], "credentials": {"type": "anonymous", "caCert": cert}}
    legacy = Integration.objects.create(tenant=tenant, name="legacy", type="MQTT",
                                        default_converter=make_uplink_converter(tenant, "legacy decoder"),
                                        configuration={**MQTT_CONFIG, "clientConfiguration": client})
    Integration.objects.filter(pk=legacy.pk).update(credential_expiry=[])  # as migrated rows are
    assert expiry.check_all() == 1
    [event] = lc_events(legacy.pk)
    assert "(CN=legacy) expires in 4 days" in event["error"]
    assert expiry.check_all() == 0  # warned once


def test_an_opcua_pkcs12_keystore_is_opened_with_its_password(api, tenant):
    import base64

    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, load_pem_private_key, pkcs12

    cert_pem, key_pem = certificate(25, "urn:plant:client")
    p12 = pkcs12.serialize_key_and_certificates(b"client", load_pem_private_key(key_pem.encode(), None),
                                                x509.load_pem_x509_certificate(cert_pem.encode()), None,
                                                BestAvailableEncryption(b"store-pass"))
    keystore = {"type": "PKCS12", "fileContent": base64.b64encode(p12).decode(), "password": "store-pass"}
    configuration = {"clientConfiguration": {"host": "127.0.0.1", "port": 4840, "security": "Basic256Sha256",
                                             "mapping": [{"deviceNodePattern": "Pump"}], "keystore": keystore}}
    res = api.post("/api/integration", body(tenant, configuration, kind="OPC_UA", name="opc"), format="json")
    assert res.status_code == 200, res.json()
    [credential] = res.json()["credentialExpiry"]
    assert (credential["path"], credential["subject"], credential["level"]) == (
        "clientConfiguration.keystore.fileContent", "CN=urn:plant:client", "30days")
    assert res.json()["configuration"]["clientConfiguration"]["keystore"]["fileContent"] == "******"
    wrong = {**keystore, "password": "not-it"}
    assert expiry.scan({"keystore": wrong}) == []  # unreadable: no warning, and the save is not refused
