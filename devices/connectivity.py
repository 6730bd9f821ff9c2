"""ThingsBoard's device "Check connectivity" dialog and gateway launch file, for the transports this server has.

Devices reach this server over HTTP (ThingsBoard's device HTTP API, /api/v1/{accessToken}/...) and MQTT
(its device MQTT API, served by transports/mqtt/ on DEVICE_MQTT_PORT); no CoAP or LwM2M transport runs
here. So a DEFAULT profile's device gets the HTTP command (``{"http": {"http"|"https": "curl ..."}}``, for an
access token only) and the MQTT ones (``{"mqtt": {"mqtt": "mosquitto_pub ...", "docker": {"mqtt": "docker run
... thingsboard/mosquitto-clients mosquitto_pub ..."}}}``, for an access token or MQTT_BASIC credentials), an
MQTT profile's device the MQTT ones only, and a profile of another transport ThingsBoard's
``{<transportType>: "Check documentation"}``.

As ThingsBoard's, the commands follow the system administrator's ``connectivity`` settings
(``POST /api/admin/settings``, tenants/system/admin_settings.py): per protocol ``enabled``, ``host`` (empty: the
server's base URL's, the general settings' / PUBLIC_BASE_URL, else the request's) and ``port``. Where none are
stored, or a field is missing or unusable, MQTT takes DEVICE_CONNECTIVITY_MQTT_ENABLED (false where no
``rundevicemqtt`` runs), DEVICE_CONNECTIVITY_HOST and DEVICE_CONNECTIVITY_MQTT_PORT (default DEVICE_MQTT_PORT,
1883), and HTTP the base URL's scheme, host (or DEVICE_CONNECTIVITY_HOST) and port; with stored settings each
of ``http`` and ``https`` enabled there gets its command. Every value put in a command is shell-quoted.
The gateway's docker-compose file is ThingsBoard's, built from the device's credentials and the MQTT host/port.

MQTT over TLS (``mqtts``: enabled in the settings, else DEVICE_MQTT_SSL_ENABLED; port DEVICE_MQTT_SSL_PORT, 8883)
adds ``"mqtts": [curl that downloads ca-root.pem, mosquitto_pub -d -q 1 --cafile ca-root.pem ...]`` under
``mqtt``, for an access token or MQTT_BASIC credentials. An X.509 certificate's device gets ThingsBoard's
``{"mqtt": {"mqtts": "Check documentation"}}`` (enabled or not). No docker form of it yet.
"""

import json
import shlex
from urllib.parse import quote, urlsplit

from django.conf import settings

from devices.choices import CredentialsType
from devices.conf import mqtt_enabled, mqtt_port, mqtts_enabled, mqtts_port
from tenants.system import store

__all__ = ["publish_commands", "gateway_docker_compose", "CHECK_DOCUMENTATION", "PAYLOAD"]

CHECK_DOCUMENTATION = "Check documentation"
PAYLOAD = '"{temperature:25}"'
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCAL = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
MQTT_TELEMETRY_TOPIC = "v1/devices/me/telemetry"
MQTT_IMAGE = "thingsboard/mosquitto-clients"
CA_ROOT = "ca-root.pem"


def _stored() -> dict | None:
    """The system administrator's ``connectivity`` document, None when none is stored."""
    document = store.read("connectivity", copy=False)
    return document if isinstance(document, dict) else None


def _entry(document: dict | None, protocol: str) -> dict:
    entry = (document or {}).get(protocol)
    return entry if isinstance(entry, dict) else {}


def _enabled(entry: dict, default: bool) -> bool:
    value = entry.get("enabled")
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value if isinstance(value, bool) else default


def _host(entry: dict, base_url: str) -> str:
    """The protocol's host, else DEVICE_CONNECTIVITY_HOST, else the base URL's (ThingsBoard's getHost)."""
    host = entry.get("host")
    if isinstance(host, str) and host.strip():
        return host.strip()
    return settings.DEVICE_CONNECTIVITY_HOST or urlsplit(base_url).hostname or "localhost"


def _port(entry: dict, default: int | None) -> int | None:
    value = entry.get("port")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536 else default


def _mqtt(base_url: str) -> tuple[bool, str, int]:
    """(enabled, host, port) of the MQTT commands."""
    entry = _entry(_stored(), "mqtt")
    return _enabled(entry, mqtt_enabled()), _host(entry, base_url), _port(entry, None) or mqtt_port()


def _mqtts(base_url: str) -> tuple[bool, str, int]:
    """(enabled, host, port) of the MQTT over TLS commands."""
    entry = _entry(_stored(), "mqtts")
    return _enabled(entry, mqtts_enabled()), _host(entry, base_url), _port(entry, None) or mqtts_port()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host  # an IPv6 address in a URL


def _endpoints(base_url: str) -> list[tuple[str, str, str]]:
    """(scheme, host, ":port" or "") of each HTTP command."""
    document = _stored()
    if document is None:  # the base URL's scheme and port
        parts = urlsplit(base_url)
        scheme = parts.scheme if parts.scheme in ("http", "https") else "http"
        port = parts.port
        return [(scheme, _url_host(_host({}, base_url)), f":{port}" if port and port != _DEFAULT_PORTS[scheme]
                 else "")]
    found = []
    for scheme in ("http", "https"):
        entry = _entry(document, scheme)
        if _enabled(entry, False):
            port = _port(entry, None)
            found.append((scheme, _url_host(_host(entry, base_url)), f":{port}" if port and port not in (80, 443)
                          else ""))
    return found


def publish_commands(device, credentials, base_url: str) -> dict:
    transport = (device.profile.additional_info or {}).get("transportType") or "DEFAULT"
    if transport not in ("DEFAULT", "MQTT"):
        return {transport: CHECK_DOCUMENTATION}
    if credentials is None:
        return {}
    if credentials.credentials_type == CredentialsType.X509_CERTIFICATE:  # ThingsBoard's, TLS enabled or not
        return {"mqtt": {"mqtts": CHECK_DOCUMENTATION}}
    commands = {}
    if transport == "DEFAULT" and credentials.credentials_type == CredentialsType.ACCESS_TOKEN:
        http = {}
        for scheme, host, port in _endpoints(base_url):
            url = f"{scheme}://{host}{port}/api/v1/{quote(credentials.credentials_id, safe='')}/telemetry"
            http[scheme] = f"curl -v -X POST {shlex.quote(url)} --header Content-Type:application/json --data {PAYLOAD}"
        if http:
            commands["http"] = http
    enabled, host, port = _mqtt(base_url)
    mqtt = _mqtt_commands(credentials, host, port) if enabled else None
    tls_enabled, tls_host, tls_port = _mqtts(base_url)
    tls_command = _mosquitto_pub(tls_host, tls_port, credentials, tls=True) if tls_enabled else None
    if tls_command is not None:
        url = f"{base_url.rstrip('/')}/api/device-connectivity/mqtts/certificate/download"
        mqtt = {**(mqtt or {}), "mqtts": [f"curl -f -S -o {CA_ROOT} {shlex.quote(url)}", tls_command]}
    if mqtt is not None:
        commands["mqtt"] = mqtt
    return commands


def _mosquitto_pub(host: str, port: int, credentials, *, tls: bool = False) -> str | None:
    """ThingsBoard's mosquitto_pub line (DeviceConnectivityUtil), each interpolated value shell-quoted."""
    q = shlex.quote
    cafile = f" --cafile {CA_ROOT}" if tls else ""
    command = f"mosquitto_pub -d -q 1{cafile} -h {q(host)} -p {port} -t {MQTT_TELEMETRY_TOPIC}"
    if credentials.credentials_type == CredentialsType.ACCESS_TOKEN:
        command += f" -u {q(credentials.credentials_id)}"
    elif credentials.credentials_type == CredentialsType.MQTT_BASIC:
        basic = _basic(credentials)
        for flag, key in (("-i", "clientId"), ("-u", "userName"), ("-P", "password")):
            if basic.get(key):
                command += f" {flag} {q(str(basic[key]))}"
    else:
        return None  # LwM2M is no MQTT (X.509: publish_commands answers "Check documentation")
    return f"{command} -m {PAYLOAD}"


def _mqtt_commands(credentials, host: str, port: int) -> dict | None:
    command = _mosquitto_pub(host, port, credentials)
    if command is None:
        return None
    local = host in _LOCAL
    docker = _mosquitto_pub("host.docker.internal" if local else host, port, credentials)
    add_host = "--add-host=host.docker.internal:host-gateway " if local else ""
    return {"mqtt": command, "docker": {"mqtt": f"docker run --rm -it {add_host}{MQTT_IMAGE} {docker}"}}


def _basic(credentials) -> dict:
    try:
        basic = json.loads(credentials.credentials_value or "{}")
    except ValueError:
        return {}
    return basic if isinstance(basic, dict) else {}


def _gateway_credentials(credentials) -> list[str]:
    if credentials is None:
        return []
    if credentials.credentials_type == CredentialsType.ACCESS_TOKEN:
        return ["TB_GW_SECURITY_TYPE=accessToken", f"TB_GW_ACCESS_TOKEN={credentials.credentials_id}"]
    if credentials.credentials_type == CredentialsType.MQTT_BASIC:
        basic = _basic(credentials)
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
    _, host, port = _mqtt(base_url)
    host = "host.docker.internal" if host in _LOCAL else host
    environment = [f"TB_GW_HOST={host}", f"TB_GW_PORT={port}", *_gateway_credentials(credentials)]
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
