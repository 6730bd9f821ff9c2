"""A real OPC-UA server for tests: asyncua's Server in a thread with its own loop, on a free port.

The address space imitates a small plant::

    Objects/Plant/Pump_<n>            ns=2;s=Pump_<n>           (device nodes)
        Temperature   Double          ns=2;s=Pump_<n>.Temperature
        Running       Boolean         ns=2;s=Pump_<n>.Running
        SetPoint      Int32           ns=2;s=Pump_<n>.SetPoint
        Motor/Speed   UInt16          ns=2;s=Pump_<n>.Motor.Speed
        Stop(Int32) -> Int32          ns=2;s=Pump_<n>.Stop      (records its argument in ``calls``)

Anonymous sessions and the user ``op`` / ``pw`` are accepted; any other user is refused.
"""

import asyncio
import logging
import threading

from asyncua import Server, ua, uamethod
from asyncua.crypto.permission_rules import User, UserRole

from integrations.tests.brokers import free_port

__all__ = ["OpcServer", "USER", "PASSWORD", "SERVER_URI", "certificate"]

USER, PASSWORD = "op", "pw"
NAMESPACE = "urn:tbproject:test-plant"
SERVER_URI = "urn:tbproject:test-server"

logging.getLogger("asyncua").setLevel(logging.ERROR)


class _Users:
    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username is None:
            return User(role=UserRole.User)
        if (username, password) == (USER, PASSWORD):
            return User(role=UserRole.User, name=username)
        return None


class OpcServer:
    """``start()`` / ``stop()``; ``add_pump(n)``, ``set(node, value)``, ``get(node)`` from any thread."""

    def __init__(self, *, policies=None, certificate: bytes | None = None, private_key: bytes | None = None,
                 port: int | None = None):
        self.port = port or free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}"
        self.policies = policies or [ua.SecurityPolicyType.NoSecurity]
        self.certificate, self.private_key = certificate, private_key
        self.calls: list = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="opcua-test-server", daemon=True)
        self.server: Server | None = None
        self.idx = 0
        self.plant = None

    def _do(self, coroutine, timeout: float = 20.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> "OpcServer":
        self.thread.start()
        self._do(self._start())
        return self

    async def _start(self) -> None:
        server = Server(user_manager=_Users())
        await server.init()
        server.set_endpoint(f"{self.url}/")
        server.set_security_policy(self.policies)
        server.set_identity_tokens([ua.AnonymousIdentityToken, ua.UserNameIdentityToken])
        if self.certificate is not None:
            await server.set_application_uri(SERVER_URI)
            await server.load_certificate(self.certificate, format="der")
            await server.load_private_key(self.private_key, None, "der")
        self.idx = await server.register_namespace(NAMESPACE)
        self.plant = await server.nodes.objects.add_object(ua.NodeId("Plant", self.idx), "Plant")
        self.server = server
        await self._add_pump(1)
        await server.start()

    def stop(self) -> None:
        if self.server is not None:
            self._do(self._stop())
            self.server = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _stop(self) -> None:
        await self.server.stop()
        rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in rest:  # the sessions' timers: end them rather than leave them pending
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def add_pump(self, n: int) -> None:
        self._do(self._add_pump(n))

    async def _add_pump(self, n: int) -> None:
        name, idx = f"Pump_{n}", self.idx
        pump = await self.plant.add_object(ua.NodeId(name, idx), name)
        for tag, value, kind in (("Temperature", 20.5, ua.VariantType.Double),
                                 ("Running", False, ua.VariantType.Boolean),
                                 ("SetPoint", 40, ua.VariantType.Int32)):
            variable = await pump.add_variable(ua.NodeId(f"{name}.{tag}", idx), tag, ua.Variant(value, kind))
            await variable.set_writable()
        motor = await pump.add_object(ua.NodeId(f"{name}.Motor", idx), "Motor")
        await motor.add_variable(ua.NodeId(f"{name}.Motor.Speed", idx), "Speed", ua.Variant(0, ua.VariantType.UInt16))

        @uamethod
        def stop(parent, delay):
            self.calls.append((name, delay))
            return delay * 2

        await pump.add_method(ua.NodeId(f"{name}.Stop", idx), "Stop", stop, [ua.VariantType.Int32],
                              [ua.VariantType.Int32])

    def node(self, text: str):
        return self.server.get_node(ua.NodeId.from_string(text.replace("ns=2;", f"ns={self.idx};")))

    def set(self, text: str, value) -> None:
        async def write():
            node = self.node(text)
            await node.write_value(ua.Variant(value, await node.read_data_type_as_variant_type()))

        self._do(write())

    def get(self, text: str):
        return self._do(self.node(text).read_value())

    def mapping(self, pattern: str = r"^Objects\.Plant\.Pump_\d+$", mapping_type: str = "FQN", tags=None,
                **extra) -> dict:
        tags = tags if tags is not None else [{"key": "temperature", "path": "Temperature", "required": True},
                                              {"key": "running", "path": "Running"},
                                              {"key": "speed", "path": "Motor.Speed"}]
        return {"deviceNodePattern": pattern, "mappingType": mapping_type, "subscriptionTags": tags, **extra}

    def config(self, mapping=None, **client) -> dict:
        """An OPC_UA integration configuration (ThingsBoard keys) for this server."""
        return {"clientConfiguration": {"applicationName": "tb-test", "applicationUri": "", "host": "127.0.0.1",
                                        "port": self.port, "scanPeriodInSeconds": 1, "timeoutInMillis": 3000,
                                        "security": "None", "identity": {"type": "anonymous"},
                                        "mapping": [mapping or self.mapping()], **client}}


def certificate(uri: str) -> tuple[bytes, bytes]:
    """A self-signed RSA certificate for an OPC-UA application ``uri``: (certificate DER, key DER)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, uri.rsplit(":", 1)[-1])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=True,
                                         data_encipherment=True, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.DER),
            key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
