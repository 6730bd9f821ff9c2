"""Integrations as users of secrets (vault/hooks.py): a secret an integration's configuration names
cannot be deleted (ThingsBoard's ``references``), and a new value restarts the integrations that use it.

The restart goes the way every change goes: the row's ``version`` moves (an UPDATE, so neither the audit
log nor the users' save signals see an edit they did not make), the listener host (runner.py) reads it on
its next look and compares fingerprints, which carry the secrets' stamp; the HTTP ingress forgets its
cached handler of the integration.
"""

from django.db.models import F

from integrations.ingress.routes import CACHE
from integrations.models import Integration
from vault import hooks

__all__ = ["connect"]


def _rows(tenant_id):
    return Integration.objects.filter(tenant_id=tenant_id).values_list("pk", "name", "configuration")


def _refresh(ids) -> None:
    Integration.objects.filter(pk__in=ids).update(version=F("version") + 1)
    for pk in ids:
        CACHE.invalidate(integration_id=pk)


def connect() -> None:
    hooks.register("INTEGRATION", _rows, _refresh)
