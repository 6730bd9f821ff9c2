"""What a system administrator does to tenants, and "login as", by ThingsBoard's rules
(TenantController, UserController.getUserToken):

- saving a tenant (POST /api/tenant): system administrators only. A new tenant is made with
  ``Tenant.objects.create``, so it gets what every tenant gets when it is created (the
  ``post_save`` receivers of the apps above: root rule chain, default device and asset
  profiles), exactly as the demo data's tenant. No profile named: the default tenant profile.
  A ``version`` older than the stored one is a 409, as other entities' saves;
- deleting a tenant: it is taken out of use at once (404 for the API, its users' logins disabled)
  and everything it owns is deleted in the background, in batches (tenants/deletion.py);
- login as (GET /api/user/{id}/token): a system administrator may take the tokens of a tenant
  administrator, a tenant administrator those of its own customers' users; the user must be
  enabled. ``login_as`` is sent (the audit log records it).

Errors are :class:`tenants.accounts.AccountError` with the status ThingsBoard answers.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.dispatch import Signal

from tbproject.text import check_json
from tenants import deletion
from tenants.accounts import NO_PERMISSION, NOT_FOUND, AccountError, parse_id, text_field
from tenants.choices import Authority
from tenants.models import Tenant, TenantProfile, User

__all__ = ["save_tenant", "delete_tenant", "tenant_for", "default_profile", "token_target", "login_as", "TEXT_FIELDS"]

#: Sent (sender: the User model) when ``actor`` took the tokens of ``user`` (its tenant's audit log
#: keeps a LOGIN row); ``request`` is the HTTP request.
login_as = Signal()

#: ThingsBoard's ContactBasedObject fields and ``region``, with the length each column holds
TEXT_FIELDS = {"country": 64, "state": 64, "city": 64, "address": 255, "address2": 255, "zip": 32, "phone": 64,
               "region": 64}
TITLE_MISSING = "Tenant title should be specified!"


def default_profile() -> TenantProfile | None:
    return TenantProfile.objects.filter(is_default=True).first()


def _fields(data: dict) -> dict:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise AccountError(TITLE_MISSING)
    fields = {k: text_field(data, k, n).strip() for k, n in {"title": 255, **TEXT_FIELDS, "email": 254}.items()}
    if fields["email"]:
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise AccountError(f"Invalid email address format '{fields['email']}'!") from None
    info = data.get("additionalInfo")
    if info is not None and not isinstance(info, dict):
        raise AccountError("additionalInfo must be a JSON object")
    try:
        fields["additional_info"] = check_json(info or {})
    except ValueError as e:
        raise AccountError(f"additionalInfo: {e}") from None
    profile_id = parse_id(data.get("tenantProfileId"), "tenantProfileId")
    profile = TenantProfile.objects.filter(pk=profile_id).first() if profile_id else default_profile()
    if profile_id and profile is None:
        raise AccountError("Tenant can't be referencing to non-existent tenant profile!")
    fields["tenant_profile"] = profile
    return fields


def _version(data: dict):
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise AccountError("version must be the integer version the tenant was read with")
    return version


def save_tenant(actor, data: dict) -> Tenant:
    """POST /api/tenant: a new tenant (no ``id``) or an update of one."""
    if actor.authority != Authority.SYS_ADMIN:
        raise AccountError(NO_PERMISSION, 403)
    if not isinstance(data, dict):
        raise AccountError("Request body must be a JSON object")
    tenant_id = parse_id(data.get("id"), "tenant id")
    version = _version(data)
    fields = _fields(data)
    try:
        with transaction.atomic():
            if tenant_id is None:
                return Tenant.objects.create(**fields)  # the apps' post_save receivers provision it
            tenant = Tenant.objects.live().select_for_update().filter(pk=tenant_id).first()
            if tenant is None:
                raise AccountError(NOT_FOUND, 404)
            if version is not None and version != tenant.version:
                raise AccountError(f"The tenant was already changed by someone else (it is at version "
                                   f"{tenant.version}, the request was made with version {version}). Nothing "
                                   "was saved: read it again and reapply the change.", 409)
            for name, value in fields.items():
                setattr(tenant, name, value)
            tenant.save()
            return tenant
    except IntegrityError:
        raise AccountError("Tenant with such title already exists!") from None


def tenant_for(actor, tenant_id) -> Tenant:
    """The tenant a system administrator names; another user's own tenant is a 403, any other a 404
    (a tenant being deleted too)."""
    tenant = Tenant.objects.live().filter(pk=tenant_id).first()
    if actor.authority != Authority.SYS_ADMIN:
        raise AccountError(NO_PERMISSION, 403) if tenant is not None and tenant.pk == actor.tenant_id \
            else AccountError(NOT_FOUND, 404)
    if tenant is None:
        raise AccountError(NOT_FOUND, 404)
    return tenant


def delete_tenant(actor, tenant_id) -> None:
    """DELETE /api/tenant/{id}: the tenant goes out of use now; it, its customers, users, devices and
    everything else it owns are deleted by a background task (tenants/deletion.py)."""
    if not deletion.mark(tenant_for(actor, tenant_id)):
        raise AccountError(NOT_FOUND, 404)  # another request marked it in between


def token_target(actor, user_id) -> User:
    """The user whose tokens ``actor`` may take (GET /api/user/{id}/token)."""
    if actor.authority == Authority.CUSTOMER_USER:
        raise AccountError(NO_PERMISSION, 403)
    user = User.objects.filter(pk=user_id).first()
    if actor.authority == Authority.TENANT_ADMIN and (user is None or user.tenant_id != actor.tenant_id):
        raise AccountError(NOT_FOUND, 404)
    if user is None:
        raise AccountError(NOT_FOUND, 404)
    wanted = Authority.TENANT_ADMIN if actor.authority == Authority.SYS_ADMIN else Authority.CUSTOMER_USER
    if user.authority != wanted:
        raise AccountError(NO_PERMISSION, 403)
    if not user.is_active:
        raise AccountError("User account is not active", 400)
    return user
