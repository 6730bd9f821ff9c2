"""``python -m remote``: run one integration on this machine for the server (README, "Remote integrations").

The key and secret may come from the environment (INTEGRATION_ROUTING_KEY, INTEGRATION_SECRET,
as ThingsBoard's remote integrations read them) rather than the command line, where other users
of the machine could read them in the process list.
"""

import argparse
import asyncio
import faulthandler
import logging
import os
import signal
import sys

__all__ = ["main", "parser", "configure", "run"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m remote", description=__doc__.splitlines()[0])
    add_arguments(p)
    return p


def add_arguments(p) -> None:
    env = os.environ.get
    p.add_argument("--server", default=env("REMOTE_SERVER", ""), help="the server's URL (https://host, http://host:port)")
    p.add_argument("--routing-key", default=env("INTEGRATION_ROUTING_KEY", ""), help="the integration's key")
    p.add_argument("--secret", default=env("INTEGRATION_SECRET", ""), help="the integration's secret")
    p.add_argument("--ca-file", default=env("REMOTE_CA_FILE", ""),
                   help="PEM bundle of the CAs to trust for an https/wss server (default: the system's)")
    p.add_argument("--outbox", default=env("REMOTE_OUTBOX", ""),
                   help="SQLite file of the outbox (default: ./remote-outbox-<key prefix>.sqlite3)")
    p.add_argument("--max-outbox", type=int, default=int(env("REMOTE_MAX_OUTBOX", "100000")),
                   help="uplinks the outbox holds while the server is away; past it new ones are dropped and counted")
    p.add_argument("--reconnect-seconds", type=float, default=float(env("REMOTE_RECONNECT_SECONDS", "3")))
    p.add_argument("--http-host", default=env("REMOTE_HTTP_HOST", "0.0.0.0"),
                   help="interface HTTP-family integrations listen on here")
    p.add_argument("--http-port", type=int, default=int(env("REMOTE_HTTP_PORT", "8082")),
                   help="port HTTP-family integrations listen on here (ThingsBoard's remote HTTP: 8082)")
    p.add_argument("--allow-custom", action="append", default=None, metavar="PREFIX",
                   help="dotted-path prefix of CUSTOM integration classes this runner may load (repeatable)")
    p.add_argument("--log-level", default=env("LOG_LEVEL", "INFO"))


def configure(allow_custom: list[str] | None) -> None:
    """Settings the listener classes read (tbproject/conf.py); no database, no apps, no Django at
    all in the runner's own distribution (packaging/remote). Inside a Django project (manage.py
    runremote) its settings stay and only the allowed custom classes are set."""
    from tbproject import conf

    default = ["integrations.custom_examples."]
    if conf.django_settings() is None:
        # no REDIS_URL: the converter engine's metrics (tbproject/metrics.py) stay in memory
        conf.configure(UPLINK_BATCH_MS=int(os.environ.get("UPLINK_BATCH_MS", "5")),
                       LISTENER_BATCH_MS=int(os.environ.get("LISTENER_BATCH_MS", "20")), REDIS_URL="",
                       CUSTOM_INTEGRATION_CLASSES=allow_custom if allow_custom is not None else default)
    elif allow_custom is not None:
        from django.conf import settings

        settings.CUSTOM_INTEGRATION_CLASSES = allow_custom


def run(options) -> int:
    from remote.client import RemoteRunner

    if not (options.server and options.routing_key and options.secret):
        print("--server, --routing-key and --secret (or REMOTE_SERVER, INTEGRATION_ROUTING_KEY, "
              "INTEGRATION_SECRET) are required", file=sys.stderr)
        return 2
    configure(options.allow_custom)
    # websockets logs the handshake's headers at DEBUG, the integration secret among them
    logging.getLogger("websockets").setLevel(logging.INFO)
    path = options.outbox or f"remote-outbox-{options.routing_key[:8]}.sqlite3"

    async def main() -> None:
        runner = RemoteRunner(options.server, options.routing_key, options.secret, outbox_path=path,
                              max_messages=options.max_outbox, reconnect_seconds=options.reconnect_seconds,
                              http={"host": options.http_host, "port": options.http_port},
                              ca_file=options.ca_file or None)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.request_stop)
        await runner.run()

    asyncio.run(main())
    return 0


def main(argv=None) -> int:
    options = parser().parse_args(argv)
    level = logging.getLevelName(options.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid>: every thread's stack on stderr
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
