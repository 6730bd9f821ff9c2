"""Self-registration (ThingsBoard PE's WebSelfRegistrationParams) and the accounts it made."""

from django.db import models

from dashboards.models import Dashboard
from signup.choices import CaptchaVersion
from tenants.models import Customer, TenantScopedModel, User

__all__ = ["SelfRegistration", "SignUp"]


class SelfRegistration(TenantScopedModel):
    """A tenant's sign-up page, reached at ``domain_name``: who signs up there becomes a user of a new customer
    of this tenant (``customer_title_prefix`` + e-mail), in that customer's user group, which is granted
    ``permissions`` ([{"roleId", "entityGroupId"}]). ``captcha_secret_key`` is write-only (never answered)."""

    enabled = models.BooleanField(default=True)
    domain_name = models.CharField(max_length=255, unique=True,
                                   help_text="The host name of the sign-up page (iot.example.com)")
    domain_id = models.UUIDField(null=True, blank=True, help_text="ThingsBoard's domainId, when the client sent one")
    title = models.TextField(blank=True, help_text="The sign-up page's text")
    captcha_version = models.CharField(max_length=8, choices=CaptchaVersion.choices, default=CaptchaVersion.V2)
    captcha_site_key = models.CharField(max_length=255)
    captcha_secret_key = models.CharField(max_length=255)
    captcha_action = models.CharField(max_length=255, blank=True, help_text="v3: the expected action name")
    notification_email = models.EmailField(blank=True, help_text="Told of every new sign-up")
    notification_recipient_id = models.UUIDField(null=True, blank=True)
    sign_up_fields = models.JSONField(default=list, blank=True)
    customer_title_prefix = models.CharField(max_length=128, blank=True)
    customer_group_id = models.UUIDField(null=True, blank=True)
    custom_menu_id = models.UUIDField(null=True, blank=True)
    permissions = models.JSONField(default=list, blank=True)
    default_dashboard = models.ForeignKey(Dashboard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    default_dashboard_fullscreen = models.BooleanField(default=False)
    home_dashboard = models.ForeignKey(Dashboard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    home_dashboard_hide_toolbar = models.BooleanField(default=False)
    show_privacy_policy = models.BooleanField(default=False)
    privacy_policy = models.TextField(blank=True)
    show_terms_of_use = models.BooleanField(default=False)
    terms_of_use = models.TextField(blank=True)

    customer_lookup = None

    class Meta:
        ordering = ["domain_name"]
        constraints = [models.UniqueConstraint(fields=["tenant"], name="self_registration_per_tenant")]

    def __str__(self) -> str:
        return self.domain_name


class SignUp(TenantScopedModel):
    """A user that signed up (``POST /api/noauth/signup``): its customer, the client it came from (an HMAC of
    the address) and when it activated its account by the mailed link."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+", editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", editable=False)
    client = models.CharField(max_length=64, blank=True, editable=False)
    activated_time = models.BigIntegerField(null=True, blank=True, editable=False)

    customer_lookup = "customer_id"

    class Meta:
        ordering = ["-created_time"]

    def __str__(self) -> str:
        return f"sign-up of {self.user_id}"
