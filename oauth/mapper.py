"""From the provider's user to a platform user (ThingsBoard's OAuth2 client mappers).

BASIC (also GITHUB and APPLE here): the email, names, tenant and customer come from the provider's
user-info attributes as ``mapperConfig.basic`` says; ``%{key}`` in a pattern is that attribute's value.
Tenant name strategy DOMAIN: the email's domain (after ``@``), EMAIL: the email, CUSTOM:
``tenantNamePattern``. CUSTOM: the attributes are POSTed to ``mapperConfig.custom.url`` (HTTP Basic with
its username/password; the provider's access token in the ``provider-access-token`` header when
``sendToken``), which answers ThingsBoard's OAuth2User JSON (``email``, ``firstName``, ``lastName``,
``tenantName``, ``customerName``, ``defaultDashboardName``, ``alwaysFullScreen``, ``userGroups``).

An unknown email creates the user only when ``allowUserCreation``: a tenant administrator, or a customer
user where a customer name came out; tenant and customer are found by name or created. With
``activateUser`` off the new user stays "pending activation" (an activation link, no password), and still
logs in through the provider, as in ThingsBoard. Named user groups (``userGroupsNamePattern``, a custom
mapper's ``userGroups``) replace the default "Tenant Administrators"/"Customer Users" group the new user
would join (it keeps "All"), as ``POST /api/user?entityGroupIds=`` does. A provider's email logs in the
existing user of that email, whatever its tenant (as ThingsBoard); system administrators never log in
through a provider, and an email the provider says is not verified (``email_verified: false``) is refused."""

import logging
import re
from dataclasses import dataclass, field

import requests
from django.db import IntegrityError, transaction

from dashboards.models import Dashboard
from devices.models import EntityGroup
from oauth.models import OAuth2Client
from roles import customer_defaults, defaults
from tenants import accounts
from tenants.choices import Authority
from tenants.limits.entities import EntitiesLimitReached
from tenants.models import Customer, Tenant, User
from tenants.system import security

__all__ = ["LoginError", "OAuth2User", "map_attributes", "user_for"]

log = logging.getLogger(__name__)

_PATTERN = re.compile(r"%\{([^}]*)\}")
TIMEOUT_S = 10
EMAIL_MAX = 254


class LoginError(Exception):
    """Why a login through a provider was refused: the text the login page shows (``loginError``)."""


@dataclass
class OAuth2User:
    email: str
    first_name: str = ""
    last_name: str = ""
    tenant_name: str = ""
    customer_name: str | None = None
    default_dashboard_name: str | None = None
    always_full_screen: bool = False
    user_groups: list[str] = field(default_factory=list)


def _substitute(pattern: str, attributes: dict) -> str:
    return _PATTERN.sub(lambda m: str(attributes.get(m.group(1), m.group(0))), pattern)


def _attr(attributes: dict, key: str | None) -> str:
    value = attributes.get(key) if key else None
    return value.strip() if isinstance(value, str) else ""


def _basic(config: dict, attributes: dict) -> OAuth2User:
    basic = config.get("basic") or {}
    email = _attr(attributes, basic.get("emailAttributeKey") or "email").lower()
    if not email or "@" not in email:
        raise LoginError(f"Email attribute '{basic.get('emailAttributeKey') or 'email'}' is missing in the "
                         "OAuth2 user's attributes")
    strategy = basic.get("tenantNameStrategy")
    tenant = {"EMAIL": email, "DOMAIN": email.split("@", 1)[1]}.get(strategy) or \
        _substitute(basic.get("tenantNamePattern") or "", attributes)
    customer = basic.get("customerNamePattern")
    return OAuth2User(
        email=email, first_name=_attr(attributes, basic.get("firstNameAttributeKey")),
        last_name=_attr(attributes, basic.get("lastNameAttributeKey")), tenant_name=tenant,
        customer_name=_substitute(customer, attributes) if customer else None,
        default_dashboard_name=basic.get("defaultDashboardName"),
        always_full_screen=bool(basic.get("alwaysFullScreen")),
        user_groups=[_substitute(p, attributes) for p in basic.get("userGroupsNamePattern") or []])


def _custom(config: dict, attributes: dict, access_token: str, client: OAuth2Client) -> OAuth2User:
    custom = config.get("custom") or {}
    headers = {"provider-access-token": access_token} if custom.get("sendToken") and access_token else {}
    auth = (custom["username"], custom.get("password") or "") if custom.get("username") else None
    body = {"name": attributes.get(client.user_name_attribute_name), "authorizedClientRegistrationId": str(client.pk),
            "principal": {"attributes": attributes}, "attributes": attributes}
    try:
        answer = requests.post(custom["url"], json=body, headers=headers, auth=auth, timeout=TIMEOUT_S)
        answer.raise_for_status()
        data = answer.json()
    except (requests.RequestException, ValueError) as e:
        log.warning("Custom OAuth2 mapper of client %s failed: %s", client.pk, e)
        raise LoginError("Custom OAuth2 mapper failed") from None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str) or "@" not in data["email"]:
        raise LoginError("Custom OAuth2 mapper answered no email")
    text = lambda key: data[key].strip() if isinstance(data.get(key), str) else ""  # noqa: E731
    groups = data.get("userGroups")
    return OAuth2User(email=data["email"].strip().lower(), first_name=text("firstName"), last_name=text("lastName"),
                      tenant_name=text("tenantName"), customer_name=text("customerName") or None,
                      default_dashboard_name=text("defaultDashboardName") or None,
                      always_full_screen=data.get("alwaysFullScreen") is True,
                      user_groups=[g for g in groups if isinstance(g, str) and g] if isinstance(groups, list) else [])


def map_attributes(client: OAuth2Client, attributes: dict, access_token: str = "") -> OAuth2User:
    if attributes.get("email_verified") in (False, "false"):  # OpenID Connect's claim, where the provider sends it
        raise LoginError("The provider says the user's email is not verified")
    config = client.mapper_config or {}
    if config.get("type") == "CUSTOM":
        return _custom(config, attributes, access_token, client)
    return _basic(config, attributes)


def _new_user(config: dict, mapped: OAuth2User) -> User:
    if not mapped.tenant_name:
        raise LoginError("The mapper gave no tenant name")
    title = mapped.tenant_name[:255]
    tenant = Tenant.objects.filter(title=title).first()
    if tenant is not None and tenant.deleting_ts is not None:
        raise LoginError(f"Tenant '{title}' is being deleted")
    tenant = tenant or Tenant.objects.create(title=title)
    customer = None
    if mapped.customer_name:
        customer, _ = Customer.objects.get_or_create(tenant=tenant, title=mapped.customer_name[:255])
    info = {}
    if mapped.default_dashboard_name:
        dashboard = Dashboard.objects.filter(tenant=tenant, title=mapped.default_dashboard_name).first()
        if dashboard is not None:
            info = {"defaultDashboardId": str(dashboard.pk), "defaultDashboardFullscreen": mapped.always_full_screen}
    user = User.objects.create_user(
        mapped.email, None, authority=Authority.CUSTOMER_USER if customer else Authority.TENANT_ADMIN,
        tenant=tenant, customer=customer, first_name=mapped.first_name[:150], last_name=mapped.last_name[:150],
        additional_info=info)
    if mapped.user_groups:  # named groups instead of the authority's default one (roles/user_groups.py)
        user.entity_groups.remove(*user.entity_groups.filter(
            name__in=(defaults.TENANT_ADMINS, customer_defaults.CUSTOMER_USERS), type="USER"))
    for name in mapped.user_groups:
        group, _ = EntityGroup.objects.get_or_create(tenant=tenant, customer=customer, type="USER", name=name[:255])
        group.users.add(user)
    if not config.get("activateUser"):
        accounts._new_token(user, accounts.ACTIVATE, security.activation_ttl_hours())
    return user


def _find(email: str) -> User | None:
    return User.objects.filter(email=email).first()


def user_for(client: OAuth2Client, mapped: OAuth2User) -> User:
    """The platform user the provider's user logs in as: found by email, else created as the mapper allows."""
    config = client.mapper_config or {}
    if len(mapped.email) > EMAIL_MAX:
        raise LoginError(f"The email is too long (at most {EMAIL_MAX} characters)")
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                user = _find(mapped.email)
                if user is None:
                    if not config.get("allowUserCreation"):
                        raise LoginError(f"User not found: {mapped.email}")
                    user = _new_user(config, mapped)
            break
        except EntitiesLimitReached as e:  # the tenant profile's maxUsers or maxCustomers (tenants/limits/)
            raise LoginError(f"The user could not be created: {e}") from None
        except IntegrityError as e:  # a concurrent login made the same user, tenant or customer first
            log.info("OAuth2 user creation of %s raced (attempt %s): %s", mapped.email, attempt, e)
            if attempt == 2:
                raise LoginError("The user could not be created: try to log in again") from None
    if user.authority == Authority.SYS_ADMIN:
        raise LoginError("System administrators cannot log in through OAuth2")
    if not user.is_active:
        raise LoginError("User account is not active")
    if user.tenant_id and user.tenant.deleting_ts is not None:
        raise LoginError("User account is not active")
    return user
