"""``manage.py runremote``: the remote integration runner (the ``remote`` package) from a checkout.

Same options as ``python -m remote``; it uses no database (the settings module is only read).
"""

from django.core.management.base import BaseCommand

from remote.__main__ import add_arguments, run


class Command(BaseCommand):
    help = "Run one integration on this machine for a remote server (a remote integration)"
    requires_system_checks = []

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, **options):
        import argparse

        code = run(argparse.Namespace(**options))
        if code:
            raise SystemExit(code)
