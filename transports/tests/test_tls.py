"""MQTT over TLS (transports/mqtt/tls.py) as ThingsBoard's MQTT_SSL: an access token over one-way TLS, a device's
X.509 certificate (self-signed or from a CA the server does not know) as its credentials, an unknown one
answered CONNACK 5 (so is one outside its dates), another tenant's certificate naming only its own device,
and what is no TLS (a plaintext client, garbage) closing only its own connection, and rundevicemqtt doing it
from the environment (PostgreSQL).
Certificates are made here with `cryptography`; real sockets, a real client (gmqtt) over TLS."""

import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from gmqtt.mqtt.constants import MQTTv311
from gmqtt.mqtt.handler import MQTTConnectError

from devices.models import DeviceCredentials
from integrations.tests.brokers import free_port
from integrations.tests.processes import ROOT
from tbproject.testing.factories import make_device
from transports.mqtt import auth, tls
from transports.mqtt.server import TransportThread
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND, DeviceClient
from transports.tests.test_processes import _database_url
from transports.tests.test_sessions import _connect_packet

PASSWORD = "key-pass"  # the server key's; never in a log line


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, issuer=None, *, ca=False, days=(-1, 30), ip=None):
    """(certificate, key): signed by ``issuer`` ((certificate, key)) or self-signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_cert, issuer_key = issuer or (None, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(issuer_cert.subject if issuer_cert else _name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=days[0]))
               .not_valid_after(now + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _write_pair(directory, stem: str, cert, key, password: str | None = None):
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}_key.pem"
    cert_path.write_text(_pem(cert))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           encryption))
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, the server's certificate (127.0.0.1) from it with an encrypted key, and the files of both."""
    directory = tmp_path_factory.mktemp("pki")
    ca = _certificate("Test CA", ca=True)
    server = _certificate("mqtt.test", ca, ip="127.0.0.1")
    cert_path, key_path = _write_pair(directory, "server", *server, password=PASSWORD)
    ca_path = directory / "ca.pem"
    ca_path.write_text(_pem(ca[0]))
    return {"dir": directory, "ca": ca, "cert": cert_path, "key": key_path, "ca_path": str(ca_path)}


@pytest.fixture
def tls_transport(committed, pki, settings, caplog):
    """The transport with its TLS listener from the settings (conf.py), both on free ports."""
    settings.DEVICE_MQTT_SSL_ENABLED, settings.DEVICE_MQTT_SSL_PORT = True, 0
    settings.DEVICE_MQTT_SSL_CERT, settings.DEVICE_MQTT_SSL_KEY = pki["cert"], pki["key"]
    settings.DEVICE_MQTT_SSL_KEY_PASSWORD = PASSWORD
    auth._CACHE.forget()
    host = TransportThread("127.0.0.1", 0).start()
    assert host.error is None and host.server.ssl_port
    yield host
    host.stop()
    assert PASSWORD not in caplog.text


def _client_context(pki, device_pair=None, directory=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki["ca_path"])  # the server is verified (its CA, its IP)
    if device_pair is not None:
        context.load_cert_chain(*_write_pair(directory or pki["dir"], f"dev-{id(device_pair)}", *device_pair))
    return context


class TlsClient(DeviceClient):
    def __init__(self, port, context, username=None, password=None, client_id=None):
        super().__init__(port, username, password, client_id)
        self.context = context

    def connect(self) -> "TlsClient":
        self.client.set_config({"reconnect_retries": 0})
        self._call(self.client.connect("127.0.0.1", self.port, ssl=self.context, version=MQTTv311, keepalive=60))
        return self


@pytest.fixture
def tls_clients(tls_transport):
    made = []

    def connect(context, username=None, password=None, client_id=None):
        client = TlsClient(tls_transport.server.ssl_port, context, username, password, client_id)
        made.append(client)
        return client.connect()

    yield connect
    for client in made:
        client.close()


def _use_certificate(api, device, cert) -> None:
    credentials = api.get(f"/api/device/{device.pk}/credentials").json()
    body = {**credentials, "credentialsType": "X509_CERTIFICATE", "credentialsValue": _pem(cert)}
    assert api.post("/api/device/credentials", body, format="json").status_code == 200


def _telemetry(api, device, key: str):
    return api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries", {"keys": key}).json().get(key)


def test_an_access_token_connects_over_one_way_tls_and_a_wrong_one_gets_connack_5(api, tenant, pki, tls_clients):
    device = make_device(tenant, "tls-token")
    client = tls_clients(_client_context(pki), token(device))
    client.publish("v1/devices/me/telemetry", {"over_tls": 1})
    assert client.request_attributes() == {}
    assert _telemetry(api, device, "over_tls")[0]["value"] == "1"
    with pytest.raises(MQTTConnectError) as refused:
        tls_clients(_client_context(pki), "not-a-token")
    assert refused.value._code == 5


@pytest.mark.parametrize("issued_by_ca", [False, True], ids=["self-signed", "from-an-unknown-ca"])
def test_a_device_certificate_authenticates_its_device_and_stores_telemetry(api, tenant, pki, tls_clients,
                                                                             issued_by_ca):
    device = make_device(tenant, "tls-x509")
    pair = _certificate("device-1", _certificate("Device CA", ca=True) if issued_by_ca else None)
    _use_certificate(api, device, pair[0])
    stored = DeviceCredentials.objects.get(device=device)
    assert stored.credentials_id == auth.certificate_credentials(pair[0].public_bytes(serialization.Encoding.DER))[0]
    client = tls_clients(_client_context(pki, pair), "ignored-user-name", "ignored")  # the certificate decides
    client.publish("v1/devices/me/telemetry", {"x509": 42})
    assert client.request_attributes() == {}
    assert _telemetry(api, device, "x509")[0]["value"] == "42"


def test_an_unknown_certificate_gets_connack_5_even_with_a_valid_token(tenant, pki, tls_clients):
    device = make_device(tenant, "tls-token-2")
    with pytest.raises(MQTTConnectError) as refused:  # ThingsBoard: a certificate alone decides
        tls_clients(_client_context(pki, _certificate("stranger")), token(device))
    assert refused.value._code == 5
    assert tls_clients(_client_context(pki), token(device)).request_attributes() == {}


@pytest.mark.parametrize("days, why", [((-30, -1), "expired at"), ((1, 30), "not valid before")],
                         ids=["expired", "not-yet-valid"])
def test_a_certificate_outside_its_dates_passes_the_handshake_and_gets_connack_5(api, tenant, pki, tls_clients,
                                                                                 caplog, days, why):
    device = make_device(tenant, "tls-dates")
    pair = _certificate("dated", days=days)
    _use_certificate(api, device, pair[0])  # its own device's credentials: only the dates refuse it
    with pytest.raises(MQTTConnectError) as refused:  # ThingsBoard: checkValidity at CONNECT
        tls_clients(_client_context(pki, pair), token(device))
    assert refused.value._code == 5
    assert "client certificate refused" in caplog.text and why in caplog.text


def test_another_tenants_certificate_authenticates_only_that_device(api, mallory_api, tenant, other_tenant, pki,
                                                                     tls_clients):
    mine, theirs = make_device(tenant, "tls-mine"), make_device(other_tenant, "tls-theirs")
    their_pair = _certificate("theirs")
    _use_certificate(mallory_api, theirs, their_pair[0])
    client = tls_clients(_client_context(pki, their_pair), token(mine))  # with my token as user name
    client.publish("v1/devices/me/telemetry", {"whose": 1})
    assert client.request_attributes() == {}
    assert _telemetry(mallory_api, theirs, "whose")[0]["value"] == "1"
    assert _telemetry(api, mine, "whose") is None
    assert mallory_api.get(f"/api/plugins/telemetry/DEVICE/{mine.pk}/values/timeseries",
                           {"keys": "whose"}).status_code == 404


def test_a_certificate_whose_credentials_are_replaced_disconnects_its_session(api, tenant, pki, tls_clients):
    device = make_device(tenant, "tls-rotated")
    pair = _certificate("rotated")
    _use_certificate(api, device, pair[0])
    client = tls_clients(_client_context(pki, pair))
    _use_certificate(api, device, _certificate("new")[0])
    client.publish("v1/devices/me/telemetry", {"after": 1})
    assert client.disconnected.wait(BOUND)
    with pytest.raises(MQTTConnectError) as refused:
        tls_clients(_client_context(pki, pair))
    assert refused.value._code == 5


def _closed(sock: socket.socket) -> bool:
    """The server closed the connection (EOF or reset) within the socket's timeout."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


def test_plaintext_mqtt_and_garbage_on_the_tls_port_close_only_their_connections(tenant, pki, tls_transport,
                                                                                 tls_clients):
    device = make_device(tenant, "tls-bystander")
    bystander = tls_clients(_client_context(pki), token(device))
    port = tls_transport.server.ssl_port
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as plain:
        plain.sendall(_connect_packet(token(device)))
        assert _closed(plain)
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as garbage:  # a TLS record header, then junk
        garbage.sendall(bytes([0x16, 0x03, 0x01, 0x00, 0x40]) + b"\xff" * 64)
        assert _closed(garbage)
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as cut:
        cut.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00]) + b"\x01\x00")  # a ClientHello cut short: EOF
    bystander.publish("v1/devices/me/attributes", {"still": True})
    assert bystander.request_attributes() == {"client": {"still": True}}
    # the plaintext port is still plain MQTT beside it
    plain_client = DeviceClient(tls_transport.port, token(device)).connect()
    try:
        assert plain_client.request_attributes() == {"client": {"still": True}}
    finally:
        plain_client.close()


def test_a_wrong_key_password_or_missing_file_is_a_clear_error_without_the_password(pki):
    with pytest.raises(tls.TlsConfigError) as wrong:
        tls.server_context(pki["cert"], pki["key"], "not-the-password")
    assert "not-the-password" not in str(wrong.value) and "wrong key password" in str(wrong.value)
    missing = str(pki["dir"] / "missing.pem")
    for args in ((missing,), (pki["cert"], missing, PASSWORD)):  # the configured path is named, cert or key
        with pytest.raises(tls.TlsConfigError, match="does not exist") as error:
            tls.server_context(*args)
        assert repr(missing) in str(error.value) and "None" not in str(error.value)


def test_a_key_password_over_1024_bytes_is_a_clear_error_and_the_thread_says_so(committed, pki, settings,
                                                                                caplog):
    long_password = "p" * 2000
    with pytest.raises(tls.TlsConfigError, match="longer") as error:
        tls.server_context(pki["cert"], pki["key"], long_password)
    assert long_password not in str(error.value) and pki["key"] in str(error.value)
    settings.DEVICE_MQTT_SSL_ENABLED, settings.DEVICE_MQTT_SSL_PORT = True, 0
    settings.DEVICE_MQTT_SSL_CERT, settings.DEVICE_MQTT_SSL_KEY = pki["cert"], pki["key"]
    settings.DEVICE_MQTT_SSL_KEY_PASSWORD = long_password
    host = TransportThread("127.0.0.1", 0).start()
    host.stop()
    assert isinstance(host.error, tls.TlsConfigError)
    assert "device MQTT transport NOT started" in caplog.text and long_password not in caplog.text


def test_the_server_context_asks_for_client_certificates_without_requiring_them(pki):
    context = tls.server_context(pki["cert"], pki["key"], PASSWORD)
    assert tls.wants_client_certificates(context) and context.verify_mode == ssl.CERT_OPTIONAL


def test_the_certificate_id_is_the_one_an_uploaded_pem_gets(api, tenant):
    device = make_device(tenant, "hash-rule")
    cert = _certificate("hash")[0]
    _use_certificate(api, device, cert)
    stored = DeviceCredentials.objects.get(device=device)
    credentials_id, value = auth.certificate_credentials(cert.public_bytes(serialization.Encoding.DER))
    assert (stored.credentials_id, stored.credentials_value) == (credentials_id, value)
    assert "\n" not in value and "BEGIN" not in value and json.dumps(value)


def test_unusable_tls_files_stop_the_command_and_the_thread_with_a_clear_error(committed, pki, settings, caplog):
    settings.DEVICE_MQTT_SSL_ENABLED, settings.DEVICE_MQTT_SSL_PORT = True, 0
    settings.DEVICE_MQTT_SSL_CERT, settings.DEVICE_MQTT_SSL_KEY = pki["cert"], pki["key"]
    settings.DEVICE_MQTT_SSL_KEY_PASSWORD = "wrong-secret"
    with pytest.raises(CommandError, match="MQTT over TLS: cannot load"):
        call_command("rundevicemqtt", "--host", "127.0.0.1", "--port", "0")
    host = TransportThread("127.0.0.1", 0).start()
    host.stop()
    assert isinstance(host.error, tls.TlsConfigError)
    assert "DEVICE_MQTT_SSL_ENABLED=false" in caplog.text and "wrong-secret" not in caplog.text


# --- rundevicemqtt as its own process (PostgreSQL: the processes share the database) ---------------------

def _listening(process, port: int) -> None:
    deadline = time.monotonic() + BOUND
    while True:  # until it listens (a bound on attempts, not a measured time)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "rundevicemqtt never listened"
            time.sleep(0.05)


@pytest.mark.server
@pytest.mark.skipif(not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                    reason="the processes need a shared database server (PostgreSQL; set DATABASE_URL)")
def test_rundevicemqtt_serves_x509_devices_over_tls_from_the_environment(committed, api, tenant, pki, tmp_path):
    password_file = tmp_path / "key_password"
    password_file.write_text(PASSWORD + "\n")
    port, ssl_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DB_POOL_SIZE": "0", "DEVICE_MQTT_SSL_ENABLED": "true",
           "DEVICE_MQTT_SSL_PORT": str(ssl_port), "DEVICE_MQTT_SSL_CERT": pki["cert"],
           "DEVICE_MQTT_SSL_KEY": pki["key"], "DEVICE_MQTT_SSL_KEY_PASSWORD_FILE": str(password_file)}
    env.pop("DEVICE_MQTT_SSL_KEY_PASSWORD", None)
    device, plain = make_device(tenant, "proc-x509"), make_device(tenant, "proc-plain")
    pair = _certificate("proc-device")
    _use_certificate(api, device, pair[0])
    process = subprocess.Popen([sys.executable, "manage.py", "rundevicemqtt", "--host", "127.0.0.1", "--port",
                                str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    clients = []
    try:
        _listening(process, port)
        _listening(process, ssl_port)
        clients.append(TlsClient(ssl_port, _client_context(pki, pair)).connect())
        clients.append(DeviceClient(port, token(plain)).connect())
        clients[0].publish("v1/devices/me/telemetry", {"proc": 5})
        assert clients[0].request_attributes() == {} and clients[1].request_attributes() == {}
        assert _telemetry(api, device, "proc")[0]["value"] == "5"
    finally:
        for client in clients:
            client.close()
        process.send_signal(signal.SIGTERM)
        try:
            output = process.communicate(timeout=BOUND)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0 and f"MQTT over TLS on port {ssl_port}" in output, output[-3000:]
    assert PASSWORD not in output
