"""An example CUSTOM integration: a TCP server whose clients send one text line per message.

Like ThingsBoard's remote-integration example (a custom class reading ``port`` from its
configuration), in Python. Configuration of the integration::

    {"clazz": "integrations.custom_examples.line_server.LineServerIntegration",
     "configuration": "{\\"port\\": 5000, \\"host\\": \\"0.0.0.0\\"}"}

Each line becomes one uplink (TEXT) with ``remoteAddress``/``remotePort`` metadata, answered
``OK`` once it is durably queued. A downlink is written, with a newline, to the connection that
last sent a line with the device name the downlink is for (the line's first word, ``name: ...``),
or to the connection its ``route`` names.
"""

import asyncio

from integrations.custom import CustomIntegrationBase
from integrations.types.base import IntegrationError

__all__ = ["LineServerIntegration"]


class LineServerIntegration(CustomIntegrationBase):
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.writers: dict[tuple[str, str], asyncio.StreamWriter] = {}
        self.devices: dict[str, tuple[str, str]] = {}
        self.server = await asyncio.start_server(self._serve, self.config.get("host", "127.0.0.1"),
                                                 int(self.config.get("port", 0)))
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.close()
        for writer in list(self.writers.values()):
            writer.close()
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        key = (str(host), str(port))
        self.writers[key] = writer
        try:
            while line := await reader.readline():
                text = line.decode("utf-8", "replace").strip()
                if not text:
                    continue
                self.devices[text.split(":", 1)[0].strip()] = key
                await self.publish(text, {"remoteAddress": key[0], "remotePort": key[1]})
                writer.write(b"OK\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.writers.pop(key, None)
            writer.close()

    async def on_downlink(self, downlink) -> None:
        key = self.devices.get(downlink.device_name) or (downlink.route.get("remoteAddress"),
                                                         downlink.route.get("remotePort"))
        writer = self.writers.get(key)
        if writer is None:
            raise IntegrationError(f"no open connection to device '{downlink.device_name}'")
        writer.write(downlink.payload + b"\n")
        await writer.drain()
