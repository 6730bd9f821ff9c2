"""The device MQTT transport's settings: Django settings when set there, else the environment.

- DEVICE_MQTT_BIND_ADDRESS: the address the transport listens on (ThingsBoard's MQTT_BIND_ADDRESS): when unset,
  0.0.0.0 for ``rundevicemqtt`` and the web server's --host (127.0.0.1) for ``manage.py serve`` (make run).
- DEVICE_MQTT_PORT: its port (ThingsBoard's MQTT_BIND_PORT, 1883); 0 picks a free one (tests).
- DEVICE_MQTT_MAX_PAYLOAD_BYTES: the largest MQTT packet a device may send (ThingsBoard's
  NETTY_MAX_PAYLOAD_SIZE, 65536); a larger one closes the connection.
- DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS: how long a new connection may take to send its CONNECT (10).
- DEVICE_MQTT_DB_THREADS: the threads that do the sessions' database work (8).
- RUN_DEVICE_MQTT_IN_WEB: whether ``manage.py serve`` (make run) runs the transport in its own process
  (true); production runs ``manage.py rundevicemqtt`` instead.
"""

from django.conf import settings

from tbproject.env import env_bool, env_int, env_str

__all__ = ["bind_address", "port", "max_payload_bytes", "connect_timeout", "db_threads", "run_in_web"]


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default() if value is None else value


def bind_address(default: str = "0.0.0.0") -> str:
    """DEVICE_MQTT_BIND_ADDRESS when set, else ``default`` (serve passes its web server's host)."""
    return str(_get("DEVICE_MQTT_BIND_ADDRESS", lambda: env_str("DEVICE_MQTT_BIND_ADDRESS", default)))


def port() -> int:
    return int(_get("DEVICE_MQTT_PORT", lambda: env_int("DEVICE_MQTT_PORT", 1883, minimum=0)))


def max_payload_bytes() -> int:
    return int(_get("DEVICE_MQTT_MAX_PAYLOAD_BYTES", lambda: env_int("DEVICE_MQTT_MAX_PAYLOAD_BYTES", 65536,
                                                                      minimum=1024)))


def connect_timeout() -> float:
    return float(_get("DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS",
                      lambda: env_int("DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS", 10, minimum=1)))


def db_threads() -> int:
    return int(_get("DEVICE_MQTT_DB_THREADS", lambda: env_int("DEVICE_MQTT_DB_THREADS", 8, minimum=1)))


def run_in_web() -> bool:
    return bool(_get("RUN_DEVICE_MQTT_IN_WEB", lambda: env_bool("RUN_DEVICE_MQTT_IN_WEB", True)))
