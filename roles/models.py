"""Roles and group permissions (ThingsBoard PE's RBAC).

A ``Role`` is a named set of permissions; a ``GroupPermission`` grants one role to one user group
(an ``EntityGroup`` of type USER), and for a GROUP role names the entity group it applies to. A user's
rights are the union of what the roles of its groups grant (roles/rights.py).
"""

from django.core.exceptions import ValidationError
from django.db import models
from rest_framework.exceptions import ValidationError as ApiValidationError

from devices.models import EntityGroup
from roles.choices import RoleType
from tenants.models import TenantScopedModel

__all__ = ["Role", "GroupPermission", "TenantDefaults"]


class Role(TenantScopedModel):
    """GENERIC: ``permissions`` maps resources to operations; GROUP: a list of operations."""

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=8, choices=RoleType.choices)
    permissions = models.JSONField(default=dict, blank=True)
    excluded_permissions = models.JSONField(default=dict, blank=True)

    customer_lookup = None  # tenant-owned roles: customer users list none

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="role_name_per_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"

    def clean(self) -> None:
        """What the API checks (roles/validation.py), for the admin's forms."""
        from roles import validation

        try:
            if self.type == RoleType.GENERIC:
                self.permissions = validation.generic_permissions(self.permissions)
                self.excluded_permissions = validation.generic_permissions(self.excluded_permissions,
                                                                           "excludedPermissions")
            else:
                self.permissions = validation.group_permissions(self.permissions)
                if self.excluded_permissions:
                    raise ValidationError("Excluded permissions apply to generic roles only")
        except ApiValidationError as e:
            raise ValidationError(" ".join(str(d) for d in e.detail)) from None


class GroupPermission(TenantScopedModel):
    """``role`` granted to the users of ``user_group``; for a GROUP role, on ``entity_group``'s entities."""

    role = models.ForeignKey(Role, on_delete=models.RESTRICT, related_name="group_permissions")
    user_group = models.ForeignKey(EntityGroup, on_delete=models.CASCADE, related_name="permissions_granted")
    entity_group = models.ForeignKey(EntityGroup, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="permissions_on")
    is_public = models.BooleanField(default=False)

    customer_lookup = None

    class Meta:
        ordering = ["created_time"]
        constraints = [models.UniqueConstraint(fields=["user_group", "role", "entity_group"],
                                               name="group_permission_unique"),
                       models.UniqueConstraint(fields=["user_group", "role"], condition=models.Q(entity_group=None),
                                               name="generic_permission_unique")]

    def __str__(self) -> str:
        return f"{self.role} -> {self.user_group}"

    def clean(self) -> None:
        if self.user_group_id and self.user_group.type != "USER":
            raise ValidationError({"user_group": "Must be a user group (an entity group of type USER)"})
        if self.role_id and self.role.type == RoleType.GENERIC and self.entity_group_id:
            raise ValidationError({"entity_group": "A generic role is granted without an entity group"})
        if self.role_id and self.role.type == RoleType.GROUP and not self.entity_group_id:
            raise ValidationError({"entity_group": "A group role needs an entity group"})


class TenantDefaults(models.Model):
    """The ids of what ``defaults.ensure_tenant`` made for a tenant: what roles/protection.py protects."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+")
    all_group = models.ForeignKey(EntityGroup, null=True, on_delete=models.SET_NULL, related_name="+")
    admins_group = models.ForeignKey(EntityGroup, null=True, on_delete=models.SET_NULL, related_name="+")
    admin_role = models.ForeignKey(Role, null=True, on_delete=models.SET_NULL, related_name="+")
    admin_permission = models.ForeignKey(GroupPermission, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"defaults of {self.tenant_id}"
