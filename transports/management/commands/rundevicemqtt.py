"""`python manage.py rundevicemqtt`: ThingsBoard's device MQTT transport as its own process (transports/mqtt/)."""

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from tbproject import gc_tuning
from transports.mqtt.server import DeviceMqttServer
from transports.mqtt.tls import TlsConfigError

__all__ = ["Command"]


class Command(BaseCommand):
    help = ("Serve ThingsBoard's device MQTT API (DEVICE_MQTT_BIND_ADDRESS:DEVICE_MQTT_PORT, and MQTT over TLS on "
            "DEVICE_MQTT_SSL_PORT when DEVICE_MQTT_SSL_ENABLED); stop with SIGTERM.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="Address to bind (default: DEVICE_MQTT_BIND_ADDRESS).")
        parser.add_argument("--port", type=int, default=None, help="Port (default: DEVICE_MQTT_PORT, 1883).")

    def handle(self, *args, host: str | None, port: int | None, **options):
        gc_tuning.tune()
        asyncio.run(self._serve(host, port))
        self.stdout.write("Device MQTT transport stopped")

    async def _serve(self, host, port) -> None:
        server = DeviceMqttServer(host, port)
        try:
            await server.start()
        except TlsConfigError as e:
            raise CommandError(f"MQTT over TLS: {e}") from None
        except OSError as e:
            tls_port = f" or {server.ssl_port}" if server.ssl_port is not None else ""
            raise CommandError(f"cannot listen on {server.host}:{server.port}{tls_port}: {e}") from e
        over_tls = f", MQTT over TLS on port {server.ssl_port}" if server.ssl_port is not None else ""
        self.stdout.write(f"Device MQTT transport on {server.host}:{server.port}{over_tls}; stop with SIGTERM or "
                          "Ctrl+C")
        loop = asyncio.get_running_loop()
        serving = loop.create_task(server.serve_forever())
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, serving.cancel)
        await serving
