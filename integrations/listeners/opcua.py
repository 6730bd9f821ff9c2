"""The OPC-UA client behind the OPC_UA integration: asyncua, one session at a time.

- Every connection attempt uses a fresh asyncua client; its own reconnect is off. The listener
  reconnects with exponential back-off and jitter, as the MQTT listener does.
- After connecting, and then every ``scanPeriodInSeconds``, the Objects tree is browsed for
  device nodes (integrations/listeners/opcua_nodes.py). Tags of new devices are added to the one
  subscription of the session; tags of devices that disappeared are removed.
- Data changes that arrive in one publish response are grouped per device: one uplink per device
  with ``{key: "value", ...}``. OPC-UA has no acknowledgement to hold back, so uplinks are offered
  to the batcher like MQTT QoS 0 messages (counted when the queue is unavailable for long).
- Security ``None`` or, with a PKCS12 keystore (``keystore.fileContent``, base64), the policies
  Basic128Rsa15 / Basic256 / Basic256Sha256 in SignAndEncrypt mode. JKS keystores are refused
  with a message saying so.
"""

import asyncio
import base64
import json
import logging
import random

from asyncua import Client, ua
from asyncua.crypto import security_policies

from integrations.listeners import opcua_nodes as nodes
from integrations.listeners.batching import UplinkBatcher
from integrations.messages import RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["OpcUaListener", "probe", "endpoint"]

log = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
PUBLISHING_INTERVAL_MS = 250
STOP_TIMEOUT = 5.0
#: Status codes of a refusal that no retry fixes (wrong user or password, certificate refused).
PERMANENT = {"BadUserAccessDenied", "BadIdentityTokenInvalid", "BadIdentityTokenRejected",
             "BadSecurityPolicyRejected", "BadCertificateInvalid", "BadCertificateUntrusted",
             "BadSecurityChecksFailed"}


def endpoint(config) -> str:
    cc = config.clientConfiguration
    return f"opc.tcp://{cc.host}:{cc.port}"


def _keystore(cc):
    """(certificate DER, private key DER, application URI in the certificate) from the keystore."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    keystore = cc.keystore
    if keystore is None or not keystore.fileContent:
        raise IntegrationError(f"Security {cc.security} needs a keystore (keystore.fileContent) with the client "
                               "certificate and its private key", permanent=True)
    if keystore.type != "PKCS12":
        raise IntegrationError("Keystore type JKS is not supported; convert it to PKCS12 "
                               "(keytool -importkeystore -deststoretype PKCS12)", permanent=True)
    try:
        data = base64.b64decode(keystore.fileContent, validate=False)
        key, cert, _ = pkcs12.load_key_and_certificates(data, keystore.password.encode() or None)
    except Exception as exc:
        raise IntegrationError(f"Cannot read the PKCS12 keystore: {exc}", permanent=True) from None
    if key is None or cert is None:
        raise IntegrationError("The PKCS12 keystore holds no private key with its certificate", permanent=True)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.DER), key_der, (uris[0] if uris else "")


async def _connect(config) -> Client:
    """A connected client with the configured security and identity; raises on failure."""
    cc = config.clientConfiguration
    timeout = cc.timeoutInMillis / 1000
    client = Client(endpoint(config), timeout=timeout)
    if cc.applicationName:
        client.name = client.description = cc.applicationName
    if cc.applicationUri:
        client.application_uri = cc.applicationUri
    if cc.identity.type == "username":
        client.set_user(cc.identity.username)
        client.set_password(cc.identity.password)

    async def connect():
        if cc.security != "None":
            cert, key, uri = _keystore(cc)
            if uri and not cc.applicationUri:
                client.application_uri = uri
            policy = getattr(security_policies, f"SecurityPolicy{cc.security}")
            await client.set_security(policy, cert, key, mode=ua.MessageSecurityMode.SignAndEncrypt)
        await client.connect()

    try:
        await asyncio.wait_for(connect(), timeout * 3)
    except BaseException:
        try:  # no session to close: asyncua already closed what it opened, except maybe the socket
            client.disconnect_socket()
        except Exception:
            pass
        raise
    return client


async def _close(client: Client | None) -> None:
    if client is None:
        return
    try:
        await asyncio.wait_for(client.disconnect(), 2.0)
    except Exception as exc:  # a broken connection: nothing left to save
        log.debug("closing OPC-UA connection: %s", exc)
        try:
            client.disconnect_socket()
        except Exception:
            pass


def _describe(config, exc: BaseException) -> tuple[str, bool]:
    address, permanent = endpoint(config), type(exc).__name__ in PERMANENT
    if isinstance(exc, IntegrationError):
        reason, permanent = exc.message, exc.permanent
    elif isinstance(exc, TimeoutError):
        reason = "timed out"
    elif "No matching endpoints" in str(exc):
        reason = (f"the server offers no endpoint with security {config.clientConfiguration.security} "
                  "(SignAndEncrypt where not None)")
        permanent = True
    else:
        reason = str(exc) or type(exc).__name__
    return f"Failed to connect to OPC-UA server at {address}: {reason}", permanent


async def probe(config) -> None:
    """Connect once with ``config`` (security, identity) and disconnect; IntegrationError if not."""
    try:
        client = await _connect(config)
    except Exception as exc:
        message, permanent = _describe(config, exc)
        raise IntegrationError(message, permanent=permanent) from None
    await _close(client)


class OpcUaListener:
    """One integration's session. ``sink`` is the host's UplinkSink (types/base.py)."""

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        self.config, self.sink = config, sink
        self.integration_id, self.metadata = integration_id, dict(metadata)
        self.address = endpoint(config)
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"))
        self.connected = asyncio.Event()
        self.devices: dict[str, nodes.DeviceNode] = {}
        self._client: Client | None = None
        self._subscription = None
        self._handles: dict[str, list[int]] = {}  # device key -> monitored item handles
        self._watch: dict[ua.NodeId, list[tuple[str, str]]] = {}  # variable -> [(device key, tag key)]
        self._changes: dict[str, dict[str, str]] = {}
        self._flush_scheduled = False
        self._warned: set[str] = set()
        self._task: asyncio.Task | None = None
        self.stop_timeout = STOP_TIMEOUT

    async def start(self) -> None:
        self.batcher.start()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"opcua-{self.integration_id}")

    async def stop(self) -> None:
        """Queue what was received, then close the session. Idempotent."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self._flush()
        await self.batcher.close(self.stop_timeout)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await _close(self._client)
        self._client = None
        self.connected.clear()

    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while True:
            lost = asyncio.Event()
            try:
                client = await _connect(self.config)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                message, permanent = _describe(self.config, exc)
                log.warning("%s (retrying in %.0f s)", message, delay)
                self.sink.report(connected=False, error=message)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, BACKOFF_MAX * (4 if permanent else 1))
                continue

            async def on_lost(exc, lost=lost):
                lost.set()

            client.connection_lost_callback = on_lost
            self._client = client
            try:
                self._subscription = await client.create_subscription(PUBLISHING_INTERVAL_MS, self)
                await self._rescan(client)
                self.connected.set()
                self.sink.report(connected=True, error="")
                delay = BACKOFF_MIN
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), self.config.clientConfiguration.scanPeriodInSeconds)
                    except TimeoutError:
                        await self._rescan(client)
                message = f"Connection to OPC-UA server at {self.address} lost"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                message = f"OPC-UA server at {self.address}: {str(exc) or type(exc).__name__}"
            log.warning("%s; reconnecting", message)
            self.connected.clear()
            self.sink.report(connected=False, error=message)
            self._forget()
            await _close(client)
            self._client = None
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX)

    def _forget(self) -> None:
        self._flush()
        self.devices, self._handles, self._watch, self._subscription = {}, {}, {}, None

    async def _rescan(self, client: Client) -> None:
        found, browser = await nodes.scan(client, self.config.clientConfiguration.mapping)
        current = {device.key: device for device in found}
        gone = [key for key in self.devices if key not in current]
        for key in gone:
            handles = self._handles.pop(key, [])
            if handles:
                await self._subscription.unsubscribe(handles)
            self._unwatch(key)
            del self.devices[key]
        for key, device in current.items():
            if key in self.devices:
                continue
            missing = await nodes.resolve_tags(browser, device)
            if missing or not device.tags:
                if key not in self._warned:
                    self._warned.add(key)
                    log.warning("OPC-UA device node %s skipped: %s", device.fqn,
                                f"required tags not found: {', '.join(missing)}" if missing else "no tags found")
                continue
            await self._subscribe(device)

    async def _subscribe(self, device: nodes.DeviceNode) -> None:
        pairs = list(device.tags.items())
        for tag_key, node_id in pairs:
            self._watch.setdefault(node_id, []).append((device.key, tag_key))
        handles = await self._subscription.subscribe_data_change([self._client.get_node(n) for _, n in pairs])
        self._handles[device.key] = [h for h in handles if isinstance(h, int)]
        refused = [tag for (tag, _), h in zip(pairs, handles, strict=False) if not isinstance(h, int)]
        if refused:
            self.sink.report(error=f"OPC-UA server at {self.address} refused to monitor {', '.join(refused)} "
                                   f"of {device.fqn}", method="subscribe")
        self.devices[device.key] = device
        log.info("OPC-UA device node %s subscribed (%d tags)", device.fqn, len(self._handles[device.key]))

    def _unwatch(self, device_key: str) -> None:
        for node_id in list(self._watch):
            rest = [pair for pair in self._watch[node_id] if pair[0] != device_key]
            if rest:
                self._watch[node_id] = rest
            else:
                del self._watch[node_id]

    # --- asyncua subscription handler ---------------------------------------------------------------

    def datachange_notification(self, node, value, data) -> None:
        status = data.monitored_item.Value.StatusCode
        if status is not None and not status.is_good():
            return
        text = nodes.as_text(value)
        for device_key, tag_key in self._watch.get(node.nodeid, ()):
            self._changes.setdefault(device_key, {})[tag_key] = text
        if not self._flush_scheduled:
            # the notifications of one publish response are handled in a row: group them
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def status_change_notification(self, status) -> None:
        log.info("OPC-UA subscription status at %s: %s", self.address, status.Status)

    def _flush(self) -> None:
        self._flush_scheduled = False
        changes, self._changes = self._changes, {}
        for device_key, values in changes.items():
            device = self.devices.get(device_key)
            if device is None:
                continue
            payload = json.dumps(values).encode()
            metadata = {**self.metadata, **device.metadata()}
            uplink = RawUplink(self.integration_id, payload, metadata, now_ms(), "JSON")
            if not self.batcher.offer(uplink) and self.batcher.dropped % 1000 == 1:
                log.warning("OPC-UA integration %s: queue unavailable, %d uplinks dropped so far",
                            self.integration_id, self.batcher.dropped)

    # --- downlink -----------------------------------------------------------------------------------

    async def downlink(self, payload: bytes) -> None:
        """Carry out ``{"writeValues": [{nodeId, value}], "callMethods": [{objectId, methodId, args}]}``."""
        try:
            body = json.loads(payload)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            raise IntegrationError('OPC-UA downlink data must be a JSON object {"writeValues": [...], '
                                   '"callMethods": [...]}', permanent=True) from None
        client = self._client
        if client is None or not self.connected.is_set():
            raise IntegrationError(f"OPC-UA server at {self.address} is not connected")
        failures, transient = [], False
        operations = [("write", item, item.get("nodeId") if isinstance(item, dict) else None)
                      for item in body.get("writeValues") or []]
        operations += [("call", item, item.get("methodId") if isinstance(item, dict) else None)
                       for item in body.get("callMethods") or []]
        for verb, item, target in operations:
            try:
                if not isinstance(item, dict) or (verb == "write" and "value" not in item):
                    raise ValueError("each writeValues item needs nodeId and value; each callMethods item "
                                     "objectId, methodId and args")
                if verb == "write":
                    await nodes.write_value(client, target, item["value"])
                else:
                    await nodes.call_method(client, item.get("objectId"), target, item.get("args"))
            except Exception as exc:
                # a refused node, type or argument does not change on a retry; a lost connection may
                transient = transient or isinstance(exc, (ConnectionError, TimeoutError, OSError))
                failures.append(f"{verb} {target}: {str(exc) or type(exc).__name__}")
        if failures:
            raise IntegrationError(f"OPC-UA server at {self.address} refused: {'; '.join(failures)}",
                                   permanent=not transient)
