"""Models of the vault app: a tenant's named secrets, their values encrypted at rest (vault/crypto.py)."""

from django.db import models

from tenants.models import TenantScopedModel
from vault.choices import SecretType

__all__ = ["Secret"]


class Secret(TenantScopedModel):
    """ThingsBoard's Secret: a named value of a tenant (a password, a token, a certificate file) that
    configurations reference as ``${secret:<name>;type:<type>}`` (vault/resolution.py).

    ``encrypted_value`` is the AES-256-GCM ciphertext of the value (vault/crypto.py); the plain value
    is never stored, never returned by the API, never shown in the admin. ``name`` and ``type`` are
    fixed once created, as in ThingsBoard; the value and the description may change. ``file_name``
    is the uploaded file's name of a TEXT_FILE secret (what the admin shows instead of its text).
    """

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=SecretType.choices, default=SecretType.TEXT)
    description = models.TextField(blank=True, default="")
    file_name = models.CharField(max_length=255, blank=True, default="")
    encrypted_value = models.BinaryField(editable=False)

    customer_lookup = None  # customer users see no secrets

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="vault_secret_unique_name")]

    def __str__(self) -> str:
        return self.name
