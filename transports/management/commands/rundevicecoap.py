"""`python manage.py rundevicecoap`: ThingsBoard's device CoAP transport as its own process (transports/coap/)."""

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from tbproject import gc_tuning
from transports.coap.server import DeviceCoapServer

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Serve ThingsBoard's device CoAP API (DEVICE_COAP_BIND_ADDRESS:DEVICE_COAP_PORT, UDP); stop with SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="Address to bind (default: DEVICE_COAP_BIND_ADDRESS).")
        parser.add_argument("--port", type=int, default=None, help="UDP port (default: DEVICE_COAP_PORT, 5683).")

    def handle(self, *args, host: str | None, port: int | None, **options):
        gc_tuning.tune()
        asyncio.run(self._serve(host, port))
        self.stdout.write("Device CoAP transport stopped")

    async def _serve(self, host, port) -> None:
        server = DeviceCoapServer(host, port)
        try:
            await server.start()
        except OSError as e:
            raise CommandError(f"cannot listen on {server.host}:{server.port} (UDP): {e}") from e
        self.stdout.write(f"Device CoAP transport on {server.host}:{server.port} (UDP); stop with SIGTERM or Ctrl+C")
        loop = asyncio.get_running_loop()
        serving = loop.create_task(server.serve_forever())
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, serving.cancel)
        await serving
