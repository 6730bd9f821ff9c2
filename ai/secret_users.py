"""AI models as users of secrets (vault/hooks.py): a secret a model's credentials name cannot be deleted
(ThingsBoard's ``references`` list the models). No refresh is needed: every call resolves the placeholders."""

from ai.models import AiModel
from vault import hooks

__all__ = ["connect"]


def _rows(tenant_id):
    return AiModel.objects.filter(tenant_id=tenant_id).values_list("pk", "name", "configuration")


def connect() -> None:
    hooks.register("AI_MODEL", _rows)
