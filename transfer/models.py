"""Version control (transfer/vc/): a tenant's repository settings, auto-commit settings, the
asynchronous requests and which entity stands for which external id."""

import uuid

from django.conf import settings
from django.db import models

from tbproject.clock import now_ms

__all__ = ["RepositorySettings", "AutoCommitSettings", "VersionRequest", "ExternalId"]


class RepositorySettings(models.Model):
    """ThingsBoard's RepositorySettings of one tenant (each tenant has its own repository).
    ``password``, ``private_key`` and ``private_key_password`` are write-only in the API."""

    AUTH_METHODS = (("USERNAME_PASSWORD", "Username and password"), ("PRIVATE_KEY", "Private key"))

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    repository_uri = models.CharField(max_length=1024)
    auth_method = models.CharField(max_length=32, choices=AUTH_METHODS, default="USERNAME_PASSWORD")
    username = models.CharField(max_length=255, blank=True, default="")
    password = models.CharField(max_length=1024, blank=True, default="")
    private_key_file_name = models.CharField(max_length=255, blank=True, default="")
    private_key = models.TextField(blank=True, default="")
    private_key_password = models.CharField(max_length=1024, blank=True, default="")
    default_branch = models.CharField(max_length=255, default="main")
    read_only = models.BooleanField(default=False)
    show_merge_commits = models.BooleanField(default=False)
    local_only = models.BooleanField(default=False)

    class Meta:
        verbose_name = "repository settings"
        verbose_name_plural = "repository settings"

    def __str__(self) -> str:
        return self.repository_uri


class AutoCommitSettings(models.Model):
    """ThingsBoard's auto-commit settings of one tenant: entity type -> AutoVersionCreateConfig."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    config = models.JSONField(default=dict)

    class Meta:
        verbose_name = "auto-commit settings"
        verbose_name_plural = "auto-commit settings"

    def __str__(self) -> str:
        return ", ".join(sorted(self.config)) or "(none)"


class VersionRequest(models.Model):
    """One asynchronous version create or load request and its result (polled by id)."""

    KINDS = (("CREATE", "Create version"), ("LOAD", "Load version"))

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=KINDS)
    body = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    done = models.BooleanField(default=False)
    created_time = models.BigIntegerField(default=now_ms)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_time"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class ExternalId(models.Model):
    """The entity of a tenant that stands for ``external_id`` of a repository (ThingsBoard's
    ``externalId``): set when loading a version creates an entity, so that loading it again
    updates that entity and committing it writes the same file."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    entity_type = models.CharField(max_length=32)
    external_id = models.UUIDField()
    internal_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "entity_type", "external_id"],
                                    name="transfer_external_id_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "entity_type", "internal_id"])]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.external_id} -> {self.internal_id}"
