"""`python manage.py runintegrations`: the long-lived host of listener integrations (STYLE.md rule 7)."""

import signal

from django.core.management.base import BaseCommand

from integrations.runner import Runner
from tbproject import gc_tuning

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Run listener integrations (MQTT): connect, subscribe and queue uplinks; stop cleanly on SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--lease-seconds", type=float, default=None,
                            help="Lease TTL (default: INTEGRATION_LEASE_SECONDS); renewed every third of it.")
        parser.add_argument("--holder", default=None, help="Host id shown as serviceId (default: host:pid:random).")

    def handle(self, *args, lease_seconds: float | None, holder: str | None, **options):
        gc_tuning.tune()
        self.runner = Runner(holder=holder, lease_seconds=lease_seconds)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.runner.request_stop())
        self.stdout.write(f"Listener host {self.runner.holder} running; stop with SIGTERM or Ctrl+C")
        self.runner.run_forever()  # returns after every integration stopped and released its lease
        self.stdout.write(f"Listener host {self.runner.holder} stopped")
