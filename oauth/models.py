"""OAuth 2.0 login (ThingsBoard 3.8+/4.x model): OAuth2 clients, the provider templates they start from, the
domains and mobile app bundles that offer them, mobile apps and the QR code settings of the mobile app.

System configuration: the system administrator keeps all of it (tenant administrators get 403); a login
creates or finds tenants, customers and users as a client's mapper says (oauth/mapper.py). Secrets (the
client secret, a mobile app's secret, a custom mapper's password) are write-only: never answered, masked
in the admin."""

import uuid

from django.db import models

from tenants.models import Tenant, now_ms

__all__ = ["OAuth2Client", "OAuth2ClientTemplate", "Domain", "MobileApp", "MobileAppBundle", "QrCodeSettings"]


class OAuth2Client(models.Model):
    """One OAuth 2.0 provider registration (ThingsBoard's OAuth2Client): the provider's endpoints, this
    server's client id and secret, and the mapper that turns the provider's user into a platform user
    (``mapper_config``: ThingsBoard's OAuth2MapperConfig JSON). Offered by domains and mobile bundles."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    additional_info = models.JSONField(default=dict, blank=True, help_text="providerName, ...")
    title = models.CharField(max_length=255)
    client_id = models.CharField(max_length=255)
    client_secret = models.TextField(help_text="write-only: never answered by the API")
    authorization_uri = models.CharField(max_length=1024)
    access_token_uri = models.CharField(max_length=1024)
    scope = models.JSONField(default=list)
    user_info_uri = models.CharField(max_length=1024, blank=True)
    user_name_attribute_name = models.CharField(max_length=255, default="email")
    jwk_set_uri = models.CharField(max_length=1024, blank=True)
    client_authentication_method = models.CharField(max_length=16, default="POST")
    login_button_label = models.CharField(max_length=255)
    login_button_icon = models.CharField(max_length=255, blank=True)
    platforms = models.JSONField(default=list, blank=True, help_text="empty: every platform")
    mapper_config = models.JSONField(default=dict)

    class Meta:
        ordering = ["title"]
        verbose_name = "OAuth2 client"

    def __str__(self) -> str:
        return self.title


class OAuth2ClientTemplate(models.Model):
    """A provider's defaults for new clients (ThingsBoard's OAuth2ClientRegistrationTemplate: Google, GitHub,
    ...), unique by ``provider_id``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    additional_info = models.JSONField(default=dict, blank=True)
    provider_id = models.CharField(max_length=255, unique=True)
    mapper_config = models.JSONField(null=True, blank=True)
    authorization_uri = models.CharField(max_length=1024, blank=True)
    access_token_uri = models.CharField(max_length=1024, blank=True)
    scope = models.JSONField(default=list, blank=True)
    user_info_uri = models.CharField(max_length=1024, blank=True)
    user_name_attribute_name = models.CharField(max_length=255, blank=True)
    jwk_set_uri = models.CharField(max_length=1024, blank=True)
    client_authentication_method = models.CharField(max_length=16, blank=True)
    comment = models.TextField(blank=True)
    login_button_icon = models.CharField(max_length=255, blank=True)
    login_button_label = models.CharField(max_length=255, blank=True)
    help_link = models.CharField(max_length=1024, blank=True)

    class Meta:
        ordering = ["provider_id"]
        verbose_name = "OAuth2 client registration template"

    def __str__(self) -> str:
        return self.provider_id


class Domain(models.Model):
    """A host name users log in at (ThingsBoard's Domain), unique for the whole platform: the login page
    served at that host offers the domain's OAuth2 clients while ``oauth2_enabled``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    name = models.CharField(max_length=255, unique=True)
    oauth2_enabled = models.BooleanField(default=True)
    propagate_to_edge = models.BooleanField(default=False)
    oauth2_clients = models.ManyToManyField(OAuth2Client, blank=True, related_name="domains")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MobileApp(models.Model):
    """A mobile application (ThingsBoard's MobileApp): package name and platform (unique together), the
    ``app_secret`` its OAuth2 login tokens are signed with (write-only), status, version and store info."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    pkg_name = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    app_secret = models.CharField(max_length=2048, help_text="write-only: never answered by the API")
    platform_type = models.CharField(max_length=16)
    status = models.CharField(max_length=16, default="DRAFT")
    version_info = models.JSONField(null=True, blank=True)
    store_info = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["pkg_name", "platform_type"]
        constraints = [models.UniqueConstraint(fields=["pkg_name", "platform_type"], name="mobile_app_pkg_platform")]

    def __str__(self) -> str:
        return f"{self.pkg_name} ({self.platform_type})"


class MobileAppBundle(models.Model):
    """An Android and an iOS app offered together with their settings (ThingsBoard's MobileAppBundle):
    the OAuth2 clients the apps log in with (``oauth2_enabled``), layout and self-registration JSON."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    android_app = models.ForeignKey(MobileApp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ios_app = models.ForeignKey(MobileApp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    layout_config = models.JSONField(null=True, blank=True)
    self_registration_params = models.JSONField(null=True, blank=True)
    oauth2_enabled = models.BooleanField(default=True)
    oauth2_clients = models.ManyToManyField(OAuth2Client, blank=True, related_name="mobile_bundles")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class QrCodeSettings(models.Model):
    """The mobile app QR code widget's settings (ThingsBoard's QrCodeSettings): the system's (no tenant) and
    a tenant's own, which may say ``use_system_settings``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    tenant = models.OneToOneField(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    use_system_settings = models.BooleanField(default=True)
    use_default_app = models.BooleanField(default=True)
    mobile_app_bundle = models.ForeignKey(MobileAppBundle, null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    qr_code_config = models.JSONField(default=dict)
    android_enabled = models.BooleanField(default=True)
    ios_enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = "QR code settings"
        verbose_name_plural = "QR code settings"
        # one system row: an index over "tenant IS NULL" (a unique index over the tenant column alone lets
        # NULLs repeat); a tenant's own row is unique by its one-to-one column
        constraints = [models.UniqueConstraint(
            models.ExpressionWrapper(models.Q(tenant__isnull=True), output_field=models.BooleanField()),
            condition=models.Q(tenant__isnull=True), name="one_system_qr_code_settings")]

    def __str__(self) -> str:
        return f"QR code settings of {self.tenant_id or 'the system'}"
