"""The "azure iot hub" node (ThingsBoard's ``mqtt.azure.TbAzureIotHubNode``): publishes each
message's data as the device ``clientId`` (ThingsBoard's "Device ID") to Azure IoT Hub over MQTT.

Azure IoT Hub speaks MQTT 3.1.1 over TLS on port 8883 to devices: the client id is the device
id, the user name ``{host}/{deviceId}/?api-version=2018-06-30``, the password a shared access
signature made from the device's key (credentials ``sas``), or none with a client certificate
(credentials ``cert.PEM``); device-to-cloud messages go to ``devices/{deviceId}/messages/events/``.
The server certificate is checked against ``caCert`` or, when empty, the system's CAs (which hold
DigiCert Global Root G2, the CA ThingsBoard bundles for Azure).

``port`` and ``ssl`` are ThingsBoard's own keys, 8883 and true in its defaults and exports
(ThingsBoard forces 8883); this node honours them so that a test, a local gateway or an emulator
can be reached on another port or without TLS.
"""

import base64
import binascii
import time
from types import SimpleNamespace

from integrations.listeners import mqtt as mqtt_client
from integrations.types.azure_iot_hub import sas_token
from integrations.types.base import MASK
from rulechains.nodes.base import ConfigError, bool_option, field, text_option
from rulechains.nodes.brokers import _PublishNode, publish_and_close

__all__ = ["AzureIotHubNode", "sas_token", "username", "check_key", "expiry", "API_VERSION", "SAS_VALIDITY"]

API_VERSION = "2018-06-30"
#: ThingsBoard's tokens are valid for a year from the connection
SAS_VALIDITY = 365 * 24 * 3600
CREDENTIAL_TYPES = ("sas", "cert.PEM")


def check_key(key: str) -> None:
    """ValueError unless ``key`` is base64 text, as the device keys Azure shows are."""
    try:
        base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the SAS key is not base64 text (copy the device's primary key from Azure)") from None


def expiry() -> int:
    """When a token made now expires (seconds since the epoch)."""
    return int(time.time()) + SAS_VALIDITY


def username(host: str, device_id: str) -> str:
    return f"{host}/{device_id}/?api-version={API_VERSION}"


class AzureIotHubNode(_PublishNode):
    """Publishes each message's data with QoS 1 to ``topicPattern`` (``${metadataKey}``,
    ``$[dataKey]``; Azure takes ``devices/{deviceId}/messages/events/``, with message properties
    appended URL-encoded) on the IoT hub ``host`` as device ``clientId``, with ``credentials``
    ``{"type": "sas", "sasKey", "caCert"}`` (the SAS token is ThingsBoard's: resource the host
    name, valid for a year) or ``{"type": "cert.PEM", "cert", "privateKey", "password",
    "caCert"}``. A message the hub took leaves by Success unchanged; one it did not, or every
    message of the batch when the connection is refused, by Failure with ``error`` in the
    metadata. The SAS key, the private key and its password are write-only in the API."""

    label = "azure iot hub"
    defaults = {"topicPattern": "devices/<device_id>/messages/events/", "host": "<iot-hub-name>.azure-devices.net",
                "port": 8883, "connectTimeoutSec": 10, "clientId": None, "appendClientIdSuffix": False,
                "retainedMessage": False, "cleanSession": True, "ssl": True, "parseToPlainText": False,
                "protocolVersion": "MQTT_3_1_1", "credentials": {"type": "sas", "sasKey": None, "caCert": None}}
    fields = (field("topicPattern", "text", "Topic", help="devices/{deviceId}/messages/events/"),
              field("host", "text", "Hostname", help="<iot-hub-name>.azure-devices.net"),
              field("clientId", "text", "Device ID"), field("credentials", "json", "Credentials",
                                                             help='{"type": "sas", "sasKey": ...} or cert.PEM'))
    secret_fields = ("credentials.sasKey", "credentials.privateKey", "credentials.password",
                     "credentials.privateKeyPassword")
    group = "EXTERNAL"
    side_effects = True

    @classmethod
    def clean_config(cls, configuration):
        topic, host = text_option(configuration, "topicPattern"), text_option(configuration, "host")
        if not topic or not topic.strip():
            raise ConfigError("topicPattern must be a topic name or pattern (devices/{deviceId}/messages/events/)")
        if not host or not host.strip():
            raise ConfigError("host must be the IoT hub's host name (<iot-hub-name>.azure-devices.net)")
        port = configuration.get("port")
        port = 8883 if port is None else port
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(f"port must be a TCP port number, got {str(port)[:20]!r}")
        timeout = configuration.get("connectTimeoutSec")
        timeout = 10 if timeout is None else timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 120:
            raise ConfigError("connectTimeoutSec must be a whole number of seconds from 1 to 120")
        credentials = configuration.get("credentials")
        credentials = {"type": "sas"} if credentials is None else credentials
        if not isinstance(credentials, dict) or credentials.get("type") not in CREDENTIAL_TYPES:
            raise ConfigError('credentials must be {"type": "sas", "sasKey": ...} or {"type": "cert.PEM", ...}')
        texts = {k: text_option(credentials, k) or "" for k in
                 ("sasKey", "caCert", "cert", "privateKey", "password", "privateKeyPassword")}
        if credentials["type"] == "sas" and texts["sasKey"] and texts["sasKey"] != MASK:
            try:  # a MASK is the API's stand-in for the stored key: checked before that replaces it
                check_key(texts["sasKey"])
            except ValueError as e:
                raise ConfigError(f"credentials.sasKey: {e}") from None
        return {"topic": topic, "host": host.strip(), "port": port, "ssl": bool_option(configuration, "ssl", True),
                "timeout": timeout, "device": (text_option(configuration, "clientId") or "").strip(),
                "retain": bool_option(configuration, "retainedMessage", False),
                "plain": bool_option(configuration, "parseToPlainText", False),
                "credentials": SimpleNamespace(type=credentials["type"], **texts)}

    def password(self) -> str | None:
        credentials = self.config["credentials"]
        if credentials.type != "sas":
            return None
        if not credentials.sasKey:
            raise ValueError("credentials.sasKey is not set: copy the device's primary key from Azure")
        check_key(credentials.sasKey)
        return sas_token(self.config["host"].lower(), credentials.sasKey, expiry())

    async def publish(self, msgs):
        config, credentials = self.config, self.config["credentials"]
        if not config["device"]:
            raise ValueError("clientId (the Device ID) is not set: Azure IoT Hub needs the device's id")
        password = self.password()
        tls = SimpleNamespace(type=credentials.type, caCert=credentials.caCert, cert=credentials.cert,
                              privateKey=credentials.privateKey,
                              privateKeyPassword=credentials.password or credentials.privateKeyPassword)
        settings = SimpleNamespace(clientConfiguration=SimpleNamespace(
            host=config["host"], port=config["port"], ssl=config["ssl"], cleanSession=True,
            connectTimeoutSec=config["timeout"], protocolVersion="MQTT_3_1_1", credentials=tls))
        client = mqtt_client._new_client(settings, config["device"])
        client.set_auth_credentials(username(config["host"], config["device"]), password)
        try:
            await mqtt_client._connect(client, settings)
        except Exception as exc:
            await mqtt_client._close(client)
            reason = "timed out" if isinstance(exc, TimeoutError) else (getattr(exc, "message", None) or str(exc)
                                                                        or type(exc).__name__)
            raise ConnectionError(f"Azure IoT Hub {config['host']}:{config['port']} refused or did not answer "
                                  f"device {config['device']!r}: {reason}") from None
        return await publish_and_close(client, msgs, config["topic"], plain=config["plain"], retain=config["retain"])
