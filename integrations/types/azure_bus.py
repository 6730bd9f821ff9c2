"""What AZURE_EVENT_HUB and AZURE_SERVICE_BUS share: the namespace connection string.

    cs = ConnectionString.parse("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;"
                                "SharedAccessKey=...;EntityPath=hub")
    cs.host, cs.key_name, cs.entity_path, cs.generic

``Endpoint`` is ``sb://`` for an Azure namespace (the Azure SDK connects, over AMQP 1.0 with
claims-based security). ``amqp://host:port/`` or ``amqps://`` names a plain AMQP 1.0 broker
(this project's addition): the generic AMQP 1.0 transport connects with SASL PLAIN, user
``SharedAccessKeyName``, password ``SharedAccessKey``, and reads the node named by the entity.
"""

import urllib.parse
from dataclasses import dataclass

__all__ = ["ConnectionString", "connection_string"]


@dataclass(frozen=True)
class ConnectionString:
    scheme: str
    host: str
    port: int
    key_name: str = ""
    key: str = ""
    signature: str = ""
    entity_path: str = ""

    @classmethod
    def parse(cls, text: str) -> "ConnectionString":
        """ValueError naming what is wrong (never echoing the key)."""
        parts = {}
        for item in (text or "").strip().split(";"):
            if not item.strip():
                continue
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError("is not Key=Value pairs separated by ';' (a namespace's connection string)")
            parts[name.strip().lower()] = value.strip()
        endpoint = parts.get("endpoint", "")
        if not endpoint:
            raise ValueError("has no Endpoint=sb://<namespace>.servicebus.windows.net/")
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme not in ("sb", "amqp", "amqps") or not url.hostname:
            raise ValueError("Endpoint is not sb://<namespace>/ (or amqp[s]://host:port/)")
        port = url.port or {"sb": 5671, "amqps": 5671, "amqp": 5672}[url.scheme]
        if not (parts.get("sharedaccesskeyname") and parts.get("sharedaccesskey")) and not parts.get(
                "sharedaccesssignature"):
            raise ValueError("needs SharedAccessKeyName and SharedAccessKey (or SharedAccessSignature)")
        return cls(url.scheme, url.hostname, port, parts.get("sharedaccesskeyname", ""),
                   parts.get("sharedaccesskey", ""), parts.get("sharedaccesssignature", ""),
                   parts.get("entitypath", ""))

    @property
    def generic(self) -> bool:
        """A plain AMQP 1.0 broker rather than an Azure namespace."""
        return self.scheme in ("amqp", "amqps")

    def endpoint(self, label: str):
        """The generic transport's endpoint (integrations/listeners/amqp10.py)."""
        from integrations.listeners.amqp10 import Endpoint

        return Endpoint(self.host, self.port, self.scheme == "amqps", self.key_name, self.key, label)


def connection_string(value: str) -> str:
    """A pydantic validator body: the connection string parses."""
    ConnectionString.parse(value)
    return value
