"""Device settings read outside the settings package: Django settings when set there, else the environment.
Both are defaults: the system administrator's ``connectivity`` settings win where they say (devices/connectivity.py).

- DEVICE_CONNECTIVITY_MQTT_ENABLED: whether the device "Check connectivity" commands include the MQTT ones
  (ThingsBoard's DEVICE_CONNECTIVITY_MQTT_ENABLED, true); false where no ``rundevicemqtt`` serves devices.
- DEVICE_CONNECTIVITY_MQTT_PORT: the MQTT port those commands and the gateway's docker-compose file name
  (ThingsBoard's DEVICE_CONNECTIVITY_MQTT_PORT); default DEVICE_MQTT_PORT, the port the device MQTT transport
  (transports/conf.py) listens on, 1883. Set it when devices reach that port through another one (NAT, a proxy).
- MQTT over TLS, where no ``connectivity`` settings say: its commands when DEVICE_MQTT_SSL_ENABLED, on
  DEVICE_MQTT_SSL_PORT (8883); the CA certificate devices check is the last one of DEVICE_MQTT_SSL_CERT's file
  (transports/conf.py reads the same variables for the transport itself).
"""

from django.conf import settings

from tbproject.env import env_bool, env_int, env_str

__all__ = ["mqtt_enabled", "mqtt_port", "mqtts_enabled", "mqtts_port", "mqtts_certificate_file"]


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default() if value is None else value


def mqtt_enabled() -> bool:
    return bool(_get("DEVICE_CONNECTIVITY_MQTT_ENABLED", lambda: env_bool("DEVICE_CONNECTIVITY_MQTT_ENABLED", True)))


def mqtt_port() -> int:
    def transport_port() -> int:
        return int(_get("DEVICE_MQTT_PORT", lambda: env_int("DEVICE_MQTT_PORT", 1883, minimum=0)))

    return int(_get("DEVICE_CONNECTIVITY_MQTT_PORT",
                    lambda: env_int("DEVICE_CONNECTIVITY_MQTT_PORT", transport_port(), minimum=1)))


def mqtts_enabled() -> bool:
    return bool(_get("DEVICE_MQTT_SSL_ENABLED", lambda: env_bool("DEVICE_MQTT_SSL_ENABLED", False)))


def mqtts_port() -> int:
    return int(_get("DEVICE_MQTT_SSL_PORT", lambda: env_int("DEVICE_MQTT_SSL_PORT", 8883, minimum=0)))


def mqtts_certificate_file() -> str:
    return str(_get("DEVICE_MQTT_SSL_CERT", lambda: env_str("DEVICE_MQTT_SSL_CERT", "")))
