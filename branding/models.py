"""White labeling, custom translations and custom menus, each owned by the system (no tenant), a tenant
(no customer) or one of its customers: ThingsBoard PE's three levels, merged top-down when a user's UI is
drawn (branding/whitelabel.py, branding/translations.py, branding/menus.py)."""

import uuid

from django.db import models
from django.db.models import Q

from branding.choices import AssigneeType, Level, MenuScope, WhiteLabelingKind
from tenants.choices import Authority
from tenants.models import Customer, Tenant, now_ms

__all__ = ["WhiteLabeling", "CustomTranslation", "CustomMenu", "CustomMenuAssignee"]


def _per_level(model: str, *fields: str) -> list:
    """One row per owner (and ``fields``): NULLs are distinct in a unique index, so one constraint per level."""
    return [
        models.UniqueConstraint(fields=list(fields), condition=Q(tenant__isnull=True),
                                name=f"{model}_per_system"),
        models.UniqueConstraint(fields=["tenant", *fields], condition=Q(tenant__isnull=False, customer__isnull=True),
                                name=f"{model}_per_tenant"),
        models.UniqueConstraint(fields=["customer", *fields], condition=Q(customer__isnull=False),
                                name=f"{model}_per_customer"),
    ]


class OwnedQuerySet(models.QuerySet):
    def for_user(self, user):
        """The admin's rows of ``user``: everything for the system administrator, its tenant's (and its
        customers') for a tenant administrator, none for others."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.authority == Authority.SYS_ADMIN:
            return self
        if user.authority != Authority.TENANT_ADMIN:
            return self.none()
        return self.filter(tenant_id=user.tenant_id)


class _Owned(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               help_text="Empty: the system level")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 help_text="Set: the customer level (of the tenant above)")
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def level(self) -> str:
        if self.customer_id:
            return Level.CUSTOMER
        return Level.TENANT if self.tenant_id else Level.SYSTEM


class WhiteLabeling(_Owned):
    """One white labeling document of one level: the UI's (GENERAL), the login page's (LOGIN, reached by
    ``domain_name``) or the mail templates. ``settings`` holds ThingsBoard's JSON as saved (validated by
    branding/params.py); images are kept as the strings sent (``tb-image;/api/images/tenant/logo.png``)."""

    kind = models.CharField(max_length=16, choices=WhiteLabelingKind.choices)
    settings = models.JSONField(default=dict, blank=True)
    domain_name = models.CharField(max_length=255, blank=True, db_index=True,
                                   help_text="LOGIN only: the host name whose login page shows these params")

    class Meta:
        ordering = ["kind", "created_time"]
        verbose_name = "white labeling"
        verbose_name_plural = "white labeling"
        constraints = [
            *_per_level("white_labeling", "kind"),
            models.UniqueConstraint(fields=["domain_name"], condition=Q(kind="LOGIN") & ~Q(domain_name=""),
                                    name="white_labeling_login_domain"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.level.lower()} {self.customer_id or self.tenant_id or ''}".strip()


class CustomTranslation(_Owned):
    """The custom translation of one locale at one level: a nested JSON object of UI keys
    (``{"home": {"home": "My home"}}``), merged system -> tenant -> customer."""

    locale_code = models.CharField(max_length=16)
    value = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["locale_code"]
        constraints = _per_level("custom_translation", "locale_code")

    def __str__(self) -> str:
        return f"{self.locale_code} of {self.level.lower()}"


class CustomMenu(_Owned):
    """A custom menu (ThingsBoard 4.x): for the users of ``scope`` below its owner, applied to its assignees
    (all of them, chosen customers, users or user groups: :class:`CustomMenuAssignee`)."""

    name = models.CharField(max_length=255)
    scope = models.CharField(max_length=16, choices=MenuScope.choices)
    assignee_type = models.CharField(max_length=16, choices=AssigneeType.choices, default=AssigneeType.NO_ASSIGN)
    config = models.JSONField(default=dict, blank=True, help_text="CustomMenuConfig: {\"items\": [...]}")
    version = models.BigIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)


class CustomMenuAssignee(models.Model):
    """One customer, user or user group a custom menu is assigned to. An entity has at most one menu per
    owner level and scope (``key``): assigning it to another needs ``force`` (branding/menus.py)."""

    id = models.BigAutoField(primary_key=True)
    menu = models.ForeignKey(CustomMenu, on_delete=models.CASCADE, related_name="assignees")
    entity_type = models.CharField(max_length=16)  # CUSTOMER, USER or ENTITY_GROUP
    entity_id = models.UUIDField()
    #: "<owner level>:<scope>" of the menu, so that the unique constraint needs no join
    key = models.CharField(max_length=40, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity_id", "key"], name="custom_menu_assignee_once")]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id}"
