"""Tenants, customers and users: the ownership tree every other record hangs from."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models

from tbproject.clock import now_ms  # also exported: the migrations name tenants.models.now_ms
from tenants import shared_rows
from tenants.choices import Authority

__all__ = ["TenantProfile", "TenantQuerySet", "Tenant", "TenantUsage", "Customer", "User", "CredentialsToken",
           "UserSettings", "TenantScopedModel", "AdminSettings", "ApiKey", "now_ms"]


def _default_profile_data() -> dict:
    return {"configuration": {"type": "DEFAULT"}}


class TenantProfile(models.Model):
    """Limits shared by the tenants that use it (ThingsBoard's TenantProfile).

    ``profile_data["configuration"]`` holds ThingsBoard's DefaultTenantProfileConfiguration keys;
    the rate limits this product enforces are listed in tenants/limits/profile.py. A tenant
    without a profile uses the default one (``is_default``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    isolated_tb_rule_engine = models.BooleanField(default=False)
    profile_data = models.JSONField(default=_default_profile_data, blank=True)
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                               name="one_default_tenant_profile")]

    def __str__(self) -> str:
        return self.name

    @property
    def configuration(self) -> dict:
        data = self.profile_data if isinstance(self.profile_data, dict) else {}
        configuration = data.get("configuration")
        return configuration if isinstance(configuration, dict) else {}


class TenantQuerySet(models.QuerySet):
    def live(self):
        """The tenants not being deleted (tenants/deletion.py): the only ones the API and logins know."""
        return self.filter(deleting_ts__isnull=True)


class Tenant(models.Model):
    """An isolated organisation. Nothing one tenant owns is visible to another."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=255, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=64, blank=True)
    city = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=255, blank=True)
    address2 = models.CharField(max_length=255, blank=True)
    zip = models.CharField(max_length=32, blank=True)
    region = models.CharField(max_length=64, blank=True, help_text="ThingsBoard's geo region of the tenant")
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    version = models.BigIntegerField(default=1, editable=False)
    additional_info = models.JSONField(default=dict, blank=True)
    tenant_profile = models.ForeignKey(TenantProfile, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="tenants", help_text="Empty: the default tenant profile")
    #: set (ms) when the tenant's deletion was asked for and at each of its steps since (tenants/deletion.py):
    #: the tenant is gone for the API and its users cannot log in; a deletion that stopped is resumed
    deleting_ts = models.BigIntegerField(null=True, blank=True, editable=False,
                                         help_text="Being deleted: the last progress of its deletion (ms)")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if not self._state.adding:  # as TenantScopedModel: the version a client's save is checked against
            self.version = (self.version or 0) + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)


class TenantUsage(models.Model):
    """A tenant's usage in one hour (tenants/usage.py): added to once per uplink batch, never per message."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    period_ts = models.BigIntegerField(help_text="start of the hour, ms")
    messages = models.BigIntegerField(default=0)
    data_points = models.BigIntegerField(default=0)
    js_executions = models.BigIntegerField(default=0)
    tbel_executions = models.BigIntegerField(default=0)
    debug_events = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "tenant usage"
        constraints = [models.UniqueConstraint(fields=["tenant", "period_ts"], name="tenant_usage_period")]

    def __str__(self) -> str:
        return f"{self.tenant_id} @ {self.period_ts}"


class TenantScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        """Rows the user may see: their tenant's, and for customer users only their customer's."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.authority == Authority.SYS_ADMIN:
            return self
        qs = self.filter(tenant_id=user.tenant_id)
        if user.authority == Authority.CUSTOMER_USER:
            lookup = self.model.customer_lookup
            shared = shared_rows.shared_pks(user, self.model)  # group permissions (roles/)
            if shared is None:
                return qs.filter(**{lookup: user.customer_id}) if lookup else qs.none()
            # the own rows as a subquery: an OR across a to-many lookup (a dashboard's assigned customers) would
            # repeat a row once per joined customer
            own = qs.filter(**{lookup: user.customer_id}).values("pk") if lookup else []
            qs = qs.filter(models.Q(pk__in=own) | models.Q(pk__in=shared))
        return qs


class TenantScopedModel(models.Model):
    """Base for every record that belongs to a tenant.

    ``customer_lookup`` names the path to the owning customer, used to narrow querysets for
    customer users; None means customer users see no rows of the model.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    version = models.BigIntegerField(default=1, editable=False)
    additional_info = models.JSONField(default=dict, blank=True)

    customer_lookup = "customer_id"
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)


class Customer(TenantScopedModel):
    """A tenant's customer; devices and assets may be assigned to one."""

    title = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=64, blank=True)
    city = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=255, blank=True)
    address2 = models.CharField(max_length=255, blank=True)
    zip = models.CharField(max_length=32, blank=True)

    customer_lookup = "id"

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["tenant", "title"], name="customer_title_per_tenant")]

    def __str__(self) -> str:
        return self.title


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("authority", Authority.SYS_ADMIN)
        return self.create_user(email, password, **extra)


#: how many of a user's past password hashes are kept (the newest)
PASSWORD_HISTORY = 24


class User(AbstractBaseUser, PermissionsMixin):
    """A login with one of ThingsBoard's authorities.

    SYS_ADMIN has no tenant; TENANT_ADMIN has a tenant; CUSTOMER_USER has a tenant and a customer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    authority = models.CharField(max_length=16, choices=Authority.choices, default=Authority.TENANT_ADMIN)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    #: ThingsBoard's "user credentials enabled": False while a new user waits for activation, or
    #: when an administrator disabled the login (``POST /api/user/{id}/userCredentialsEnabled``)
    is_active = models.BooleanField(default=True)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    additional_info = models.JSONField(default=dict, blank=True)
    #: when the password last changed or the login was disabled (ms); a token carries the value it was
    #: issued with (claim ``cc``) and an older one no longer authenticates, as ThingsBoard outdates a
    #: user's tokens when its credentials change
    credentials_changed = models.BigIntegerField(default=0, editable=False)
    #: the password hashes this user set, by the time set (ms, as text): ThingsBoard's password history,
    #: read by the security settings' passwordReuseFrequencyDays and passwordExpirationPeriodDays
    password_history = models.JSONField(default=dict, blank=True, editable=False)

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                name="user_authority_owner",
                condition=(
                    models.Q(authority=Authority.SYS_ADMIN, tenant__isnull=True, customer__isnull=True)
                    | models.Q(authority=Authority.TENANT_ADMIN, tenant__isnull=False, customer__isnull=True)
                    | models.Q(authority=Authority.CUSTOMER_USER, tenant__isnull=False, customer__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return self.email

    def set_password(self, raw_password) -> None:
        """Every way a password changes (the API, the admin, ``changepassword``) outdates the tokens
        issued before it; a caller saving with ``update_fields`` names ``credentials_changed`` too.
        Django's rehash of a stored hash on login saves only ``password``: it outdates nothing."""
        super().set_password(raw_password)
        self.credentials_changed = now_ms()
        if raw_password is not None:
            history = self.password_history if isinstance(self.password_history, dict) else {}
            kept = sorted(history.items(), key=lambda item: int(item[0]))[-(PASSWORD_HISTORY - 1):]
            self.password_history = {**dict(kept), str(self.credentials_changed): self.password}

    @property
    def is_staff(self) -> bool:
        # The admin is open to system and tenant administrators; customer users use the API.
        return self.is_active and self.authority in (Authority.SYS_ADMIN, Authority.TENANT_ADMIN)

    @property
    def is_sysadmin(self) -> bool:
        return self.authority == Authority.SYS_ADMIN

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and self.authority == Authority.SYS_ADMIN or super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        # Like has_perm: lets system admins see third-party admin apps (periodic tasks, groups).
        return self.is_active and self.authority == Authority.SYS_ADMIN or super().has_module_perms(app_label)


class CredentialsToken(models.Model):
    """A one-time token of a user's credentials (ThingsBoard's activateToken and resetToken): the
    activation link a new user sets a password with, or a password-reset link. At most one of each
    purpose per user; it goes once used."""

    class Purpose(models.TextChoices):
        ACTIVATE = "ACTIVATE"
        RESET = "RESET"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    token = models.CharField(max_length=64, unique=True)
    expires = models.BigIntegerField(help_text="ms since 1970")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "purpose"], name="credentials_token_per_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose} token of {self.user_id}"


class UserSettings(models.Model):
    """One JSON document per user and settings type (ThingsBoard's UserSettings: ``general``,
    ``quick_links``, ``doc_links``, ``dashboards``, ``getting_started``); only its user reads and
    writes it (tenants/user_settings.py)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=32)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "user settings"
        constraints = [models.UniqueConstraint(fields=["user", "type"], name="user_settings_per_type")]

    def __str__(self) -> str:
        return f"{self.type} settings of {self.user_id}"


class AdminSettings(models.Model):
    """One of the system administrator's settings documents (ThingsBoard's AdminSettings, tenant-less):
    ``general``, ``mail``, ``sms``, ``connectivity``, and the ``securitySettings`` and ``jwt`` documents
    of their own endpoints. A key without a row answers its default (tenants/system/admin_settings.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=255, unique=True)
    json_value = models.JSONField(default=dict, blank=True)
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "admin settings"

    def __str__(self) -> str:
        return self.key


class ApiKey(models.Model):
    """A user's API key (ThingsBoard 4.3+): ``X-Authorization: ApiKey <value>`` authenticates as the user.
    Only the SHA-256 of the value is kept; the value is shown once, when the key is made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    description = models.CharField(max_length=255)
    expiration_time = models.BigIntegerField(default=0, help_text="ms since 1970; 0: never expires")
    enabled = models.BooleanField(default=True)
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    class Meta:
        ordering = ["-created_time"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.description


class TwoFaSettings(models.Model):
    """A user's two-factor authentication configs (ThingsBoard's account 2FA settings, tenants/two_factor/):
    ``configs`` by provider type, the TOTP secret encrypted and backup codes as keyed hashes (never answered);
    ``state`` holds pending email codes and the check/send times the rate limits count."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+", editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               editable=False)
    configs = models.JSONField(default=dict, blank=True, editable=False)
    state = models.JSONField(default=dict, blank=True, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    class Meta:
        verbose_name = "two-factor settings"
        verbose_name_plural = "two-factor settings"

    def __str__(self) -> str:
        return f"2FA of {self.user_id}"
