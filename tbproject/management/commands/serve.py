"""The embedded run (`make run`): migrate, load demo data, then serve HTTP and websockets with daphne.

Without REDIS_URL there is no Celery beat, so the periodic jobs of tbproject/periodic.py run in
a daemon thread of this process. Unless RUN_INTEGRATIONS_IN_WEB is false, listener integrations
(MQTT) are hosted in another thread, with its own event loop (runintegrations' Runner; leases
keep each integration on one host even beside runintegrations processes). Unless RUN_DEVICE_MQTT_IN_WEB is
false, ThingsBoard's device MQTT transport listens on DEVICE_MQTT_PORT in a thread of its own, on the web
server's --host unless DEVICE_MQTT_BIND_ADDRESS is set (a port already taken is a warning: the rest runs
without it). Likewise ThingsBoard's device CoAP transport on DEVICE_COAP_PORT (UDP) unless
RUN_DEVICE_COAP_IN_WEB is false. Production runs daphne, celery worker, celery beat,
runintegrations, rundevicemqtt and rundevicecoap instead.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from tbproject.env import env_int
from tbproject.periodic import PeriodicRunner
from transports import conf as transports_conf

__all__ = ["Command", "run_daphne", "start_integration_host", "start_device_mqtt", "start_device_coap"]

ASGI_APP = "tbproject.asgi:application"


def run_daphne(host: str, port: int) -> None:
    """Serve ASGI_APP exactly as the production `daphne` command line does; returns on SIGINT/SIGTERM."""
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(["--bind", host, "--port", str(port), ASGI_APP])


def start_integration_host():
    """The listener-integration host (runintegrations' Runner) in a thread with its own loop."""
    from integrations.runner import RunnerThread

    return RunnerThread().start()


def start_device_mqtt(host: str):
    """The device MQTT transport (transports/mqtt/) on ``host`` in a thread with its own loop, once bound (or
    refused)."""
    from transports.mqtt.server import TransportThread

    return TransportThread(host).start()


def start_device_coap(host: str):
    """The device CoAP transport (transports/coap/) on ``host`` in a thread with its own loop, once bound (or
    refused)."""
    from transports.coap.server import TransportThread

    return TransportThread(host).start()


class Command(BaseCommand):
    help = "Migrate, load the demo data (LOAD_DEMO_DATA), then serve HTTP and websockets with daphne."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=None, help="Port (default: env PORT, else 8080).")

    def handle(self, *args, host: str, port: int | None, **options):
        if port is None:
            port = env_int("PORT", 8080, minimum=0)
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
        if settings.LOAD_DEMO_DATA:
            call_command("demodata", stdout=self.stdout)
        mqtt_host = transports_conf.bind_address(default=host)  # make run's web host, not 0.0.0.0
        self._banner(host, port, mqtt_host)
        runner = None
        if not settings.REDIS_URL:
            runner = PeriodicRunner()
            runner.start()
        listeners = start_integration_host() if settings.RUN_INTEGRATIONS_IN_WEB else None
        device_mqtt = start_device_mqtt(mqtt_host) if transports_conf.run_in_web() else None
        if device_mqtt is not None and device_mqtt.error is not None:
            error, server = device_mqtt.error, device_mqtt.server
            ports = f"port {server.port}" + (f" or {server.ssl_port}" if server.ssl_port is not None else "")
            self.stderr.write(f"  Device MQTT transport not started: {ports} "
                              f"({getattr(error, 'strerror', None) or error}); set DEVICE_MQTT_PORT "
                              "(DEVICE_MQTT_SSL_*)\n")
        device_coap = None
        if transports_conf.run_coap_in_web():
            device_coap = start_device_coap(transports_conf.coap_bind_address(default=host))
            if device_coap.error is not None:
                self.stderr.write(f"  Device CoAP transport not started: UDP port {device_coap.port} "
                                  f"({device_coap.error.strerror or device_coap.error}); set DEVICE_COAP_PORT\n")
        try:
            run_daphne(host, port)
        finally:
            if device_coap is not None:
                device_coap.stop()
            if device_mqtt is not None:
                device_mqtt.stop()
            if listeners is not None:
                listeners.stop()
            if runner is not None:
                runner.stop()

    def _banner(self, host: str, port: int, mqtt_host: str) -> None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
        lines = [
            "",
            f"  Admin       {base}/admin/",
            f"  REST API    {base}/api/  (login: POST {base}/api/auth/login)",
            f"  Swagger UI  {base}/swagger-ui/",
        ]
        if settings.LOAD_DEMO_DATA:
            from tbproject.management.commands.demodata import DEMO_LOGINS

            lines.append("  Demo logins (email / password):")
            lines += [f"    {authority.label:<22} {email} / {password}" for email, password, authority in DEMO_LOGINS]
        jobs = "by celery beat" if settings.REDIS_URL else "in this process"
        listeners = "in this process" if settings.RUN_INTEGRATIONS_IN_WEB else "by runintegrations"
        lines += [f"  Database    {connection.vendor}; periodic jobs {jobs}; MQTT integrations {listeners}"]
        if transports_conf.run_in_web():
            lines.append(f"  Device MQTT {mqtt_host}:{transports_conf.port()} "
                         "(ThingsBoard's device MQTT API; access token as user name)")
            if transports_conf.ssl_enabled():
                lines.append(f"  Device MQTTS {mqtt_host}:{transports_conf.ssl_port()} (MQTT over TLS; X.509 "
                             "certificates too)")
        if transports_conf.run_coap_in_web():
            lines.append(f"  Device CoAP coap://{transports_conf.coap_bind_address(default=host)}:"
                         f"{transports_conf.coap_port()} (ThingsBoard's device CoAP API; UDP)")
        lines += ["  Stop with Ctrl+C", ""]
        self.stdout.write("\n".join(lines))
