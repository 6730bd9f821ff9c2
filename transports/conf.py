"""The device MQTT transport's settings: Django settings when set there, else the environment.

- DEVICE_MQTT_BIND_ADDRESS: the address the transport listens on (ThingsBoard's MQTT_BIND_ADDRESS): when unset,
  0.0.0.0 for ``rundevicemqtt`` and the web server's --host (127.0.0.1) for ``manage.py serve`` (make run).
- DEVICE_MQTT_PORT: its port (ThingsBoard's MQTT_BIND_PORT, 1883); 0 picks a free one (tests).
- DEVICE_MQTT_MAX_PAYLOAD_BYTES: the largest MQTT packet a device may send (ThingsBoard's
  NETTY_MAX_PAYLOAD_SIZE, 65536); a larger one closes the connection.
- DEVICE_MQTT_OTA_MAX_WHOLE_FILE_BYTES: the largest OTA package a device may ask for whole, at any chunk size
  over the largest packet (64 MiB; an empty chunk request, transports/mqtt/ota.py); past it, in chunks.
- DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS: how long a new connection may take to send its CONNECT (10).
- DEVICE_MQTT_DB_THREADS: the threads that do the sessions' database work (8).
- DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE: the devices one gateway message may name (1000); past it the
  message is dropped whole. DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION: the devices one gateway session may serve
  at once (10000); a message that would name more is dropped whole (transports/mqtt/gateway.py).
- DEVICE_MQTT_SSL_ENABLED: whether the transport also listens for MQTT over TLS (ThingsBoard's MQTT_SSL_ENABLED,
  false), on DEVICE_MQTT_SSL_PORT (its MQTT_SSL_BIND_PORT, 8883) with the server certificate (and chain) of the
  PEM file DEVICE_MQTT_SSL_CERT and the private key of DEVICE_MQTT_SSL_KEY (unset: in the certificate's file),
  encrypted with DEVICE_MQTT_SSL_KEY_PASSWORD (a secret; ``_FILE`` form read too) when set.
- RUN_DEVICE_MQTT_IN_WEB: whether ``manage.py serve`` (make run) runs the transport in its own process
  (true); production runs ``manage.py rundevicemqtt`` instead.
- DEVICE_COAP_BIND_ADDRESS, DEVICE_COAP_PORT (5683; 0 picks a free one), DEVICE_COAP_MAX_PAYLOAD_BYTES (65536),
  RUN_DEVICE_COAP_IN_WEB (true): the same for the device CoAP transport (transports/coap/, ``rundevicecoap``).
"""

from django.conf import settings

from tbproject.env import env_bool, env_int, env_secret, env_str

__all__ = ["bind_address", "port", "max_payload_bytes", "connect_timeout", "db_threads", "run_in_web", "ssl_enabled",
           "ssl_port", "ssl_cert", "ssl_key", "ssl_key_password", "coap_bind_address", "coap_port",
           "coap_max_payload_bytes", "run_coap_in_web", "ota_max_whole_file_bytes",
           "gateway_max_devices_per_message", "gateway_max_devices_per_session"]


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


def ota_max_whole_file_bytes() -> int:
    return int(_get("DEVICE_MQTT_OTA_MAX_WHOLE_FILE_BYTES", lambda: env_int("DEVICE_MQTT_OTA_MAX_WHOLE_FILE_BYTES",
                                                                             64 * 1024 * 1024, minimum=1024)))


def connect_timeout() -> float:
    return float(_get("DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS",
                      lambda: env_int("DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS", 10, minimum=1)))


def db_threads() -> int:
    return int(_get("DEVICE_MQTT_DB_THREADS", lambda: env_int("DEVICE_MQTT_DB_THREADS", 8, minimum=1)))


def gateway_max_devices_per_message() -> int:
    return int(_get("DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE",
                    lambda: env_int("DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE", 1000, minimum=1)))


def gateway_max_devices_per_session() -> int:
    return int(_get("DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION",
                    lambda: env_int("DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION", 10000, minimum=1)))


def run_in_web() -> bool:
    return bool(_get("RUN_DEVICE_MQTT_IN_WEB", lambda: env_bool("RUN_DEVICE_MQTT_IN_WEB", True)))


def ssl_enabled() -> bool:
    return bool(_get("DEVICE_MQTT_SSL_ENABLED", lambda: env_bool("DEVICE_MQTT_SSL_ENABLED", False)))


def ssl_port() -> int:
    return int(_get("DEVICE_MQTT_SSL_PORT", lambda: env_int("DEVICE_MQTT_SSL_PORT", 8883, minimum=0)))


def ssl_cert() -> str:
    return str(_get("DEVICE_MQTT_SSL_CERT", lambda: env_str("DEVICE_MQTT_SSL_CERT", "")))


def ssl_key() -> str:
    return str(_get("DEVICE_MQTT_SSL_KEY", lambda: env_str("DEVICE_MQTT_SSL_KEY", "")))


def ssl_key_password() -> str:
    return str(_get("DEVICE_MQTT_SSL_KEY_PASSWORD", lambda: env_secret("DEVICE_MQTT_SSL_KEY_PASSWORD", "")))


def coap_bind_address(default: str = "0.0.0.0") -> str:
    """DEVICE_COAP_BIND_ADDRESS when set, else ``default`` (serve passes its web server's host)."""
    return str(_get("DEVICE_COAP_BIND_ADDRESS", lambda: env_str("DEVICE_COAP_BIND_ADDRESS", default)))


def coap_port() -> int:
    return int(_get("DEVICE_COAP_PORT", lambda: env_int("DEVICE_COAP_PORT", 5683, minimum=0)))


def coap_max_payload_bytes() -> int:
    return int(_get("DEVICE_COAP_MAX_PAYLOAD_BYTES", lambda: env_int("DEVICE_COAP_MAX_PAYLOAD_BYTES", 65536,
                                                                      minimum=1024)))


def run_coap_in_web() -> bool:
    return bool(_get("RUN_DEVICE_COAP_IN_WEB", lambda: env_bool("RUN_DEVICE_COAP_IN_WEB", True)))
