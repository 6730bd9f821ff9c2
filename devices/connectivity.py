"""ThingsBoard's device "Check connectivity" dialog and gateway launch file, for the transports this server has.

Devices reach this server over HTTP only (ThingsBoard's device HTTP API, /api/v1/{accessToken}/...): no
MQTT, CoAP or LwM2M transport runs here, so a DEFAULT profile's device gets the HTTP command (ThingsBoard's
``{"http": {"http"|"https": "curl ..."}}``, for an access token only) and a profile of another transport
ThingsBoard's ``{<transportType>: "Check documentation"}``. The host and port are DEVICE_CONNECTIVITY_HOST's
or the server's base URL's (the general settings' / PUBLIC_BASE_URL, else the request's); the scheme the
base URL's. The gateway's docker-compose file is ThingsBoard's, built from the device's credentials.
"""

import json
import shlex
from urllib.parse import quote, urlsplit

from django.conf import settings

from devices.choices import CredentialsType

__all__ = ["publish_commands", "gateway_docker_compose", "CHECK_DOCUMENTATION", "PAYLOAD"]

CHECK_DOCUMENTATION = "Check documentation"
PAYLOAD = '"{temperature:25}"'
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCAL = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def _endpoint(base_url: str) -> tuple[str, str, str]:
    """(scheme, host, ":port" or "") devices use."""
    parts = urlsplit(base_url)
    scheme = parts.scheme if parts.scheme in ("http", "https") else "http"
    host = settings.DEVICE_CONNECTIVITY_HOST or parts.hostname or "localhost"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    port = parts.port
    return scheme, host, f":{port}" if port and port != _DEFAULT_PORTS[scheme] else ""


def publish_commands(device, credentials, base_url: str) -> dict:
    transport = (device.profile.additional_info or {}).get("transportType") or "DEFAULT"
    if transport != "DEFAULT":
        return {transport: CHECK_DOCUMENTATION}
    if credentials is None or credentials.credentials_type != CredentialsType.ACCESS_TOKEN:
        return {}
    scheme, host, port = _endpoint(base_url)
    url = f"{scheme}://{host}{port}/api/v1/{quote(credentials.credentials_id, safe='')}/telemetry"
    command = f"curl -v -X POST {shlex.quote(url)} --header Content-Type:application/json --data {PAYLOAD}"
    return {"http": {scheme: command}}


def _gateway_credentials(credentials) -> list[str]:
    if credentials is None:
        return []
    if credentials.credentials_type == CredentialsType.ACCESS_TOKEN:
        return ["TB_GW_SECURITY_TYPE=accessToken", f"TB_GW_ACCESS_TOKEN={credentials.credentials_id}"]
    if credentials.credentials_type == CredentialsType.MQTT_BASIC:
        try:
            basic = json.loads(credentials.credentials_value or "{}")
        except ValueError:
            basic = {}
        basic = basic if isinstance(basic, dict) else {}
        lines = ["TB_GW_SECURITY_TYPE=usernamePassword"]
        for env, key in (("TB_GW_CLIENT_ID", "clientId"), ("TB_GW_USERNAME", "userName"),
                         ("TB_GW_PASSWORD", "password")):
            if basic.get(key):
                lines.append(f"{env}={basic[key]}")
        return lines
    return []


def _scalar(line: str) -> str:
    """An environment entry as a double-quoted YAML scalar (JSON's escapes are YAML's), ``$`` doubled so that
    docker compose does not interpolate it: a credential cannot add keys to the file or read the host's env."""
    return json.dumps(line.replace("$", "$$"))


def gateway_docker_compose(credentials, base_url: str) -> str:
    """ThingsBoard's docker-compose.yml for its IoT gateway with this device's credentials."""
    host = settings.DEVICE_CONNECTIVITY_HOST or urlsplit(base_url).hostname or "localhost"
    host = "host.docker.internal" if host in _LOCAL else host
    environment = [f"TB_GW_HOST={host}", "TB_GW_PORT=1883", *_gateway_credentials(credentials)]
    lines = [
        "version: '3.4'",
        "services:",
        "  # ThingsBoard IoT Gateway Service Configuration",
        "  tb-gateway:",
        f"    image: thingsboard/tb-gateway:{settings.GATEWAY_IMAGE_VERSION}",
        "    container_name: tb-gateway",
        "    restart: always",
        "",
        "    # Ports bindings - required by some connectors",
        "    ports:",
        "        - \"5000:5000\" # Comment if you don't use REST connector and change if you use another port",
        "        # Uncomment and modify the following ports based on connector usage:",
        "#        - \"1052:1052\" # BACnet connector",
        "#        - \"5026:5026\" # Modbus TCP connector (Modbus Slave)",
        "#        - \"50000:50000/tcp\" # Socket connector with type TCP",
        "#        - \"50000:50000/udp\" # Socket connector with type UDP",
        "",
        "    # Necessary mapping for Linux",
        "    extra_hosts:",
        "      - \"host.docker.internal:host-gateway\"",
        "",
        "    # Environment variables",
        "    environment:",
        *[f"      - {_scalar(line)}" for line in environment],
        "",
        "    # Volumes bind",
        "    volumes:",
        "      - tb-gw-config:/thingsboard_gateway/config",
        "      - tb-gw-logs:/thingsboard_gateway/logs",
        "      - tb-gw-extensions:/thingsboard_gateway/extensions",
        "",
        "# Volumes declaration for configurations, extensions and configuration",
        "volumes:",
        "  tb-gw-config:",
        "    name: tb-gw-config",
        "  tb-gw-logs:",
        "    name: tb-gw-logs",
        "  tb-gw-extensions:",
        "    name: tb-gw-extensions",
    ]
    return "\n".join(lines) + "\n"
