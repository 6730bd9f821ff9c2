"""Users' accounts as ThingsBoard keeps them (its UserController and AuthController, our rules):

- saving a user: a new one has no password and cannot log in until it is activated through its
  activation link (an e-mail, or the link an administrator reads and hands over);
- one-time links: activation and password reset (``CredentialsToken``, 30 random letters and
  digits as ThingsBoard's, valid the security settings' token TTLs: tenants/system/security.py);
- every password set passes the security settings' password policy (ThingsBoard's messages);
- password changes, and an administrator enabling or disabling a login (``is_active``).

Who may do what: a system administrator manages everyone; a tenant administrator the users of its
tenant (tenant administrators and customer users, never a system administrator); a customer user
only edits its own name, phone and additional info. Anyone else's user is not found (404). The API
views (tenants/api/accounts.py) only parse and answer.
"""

import logging
import secrets
import string
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from tbproject.clock import now_ms
from tbproject.text import check_text
from tenants import lockout
from tenants.choices import Authority
from tenants.limits import mail as mail_limits
from tenants.models import CredentialsToken, Customer, Tenant, User
from tenants.system import mail, security

__all__ = ["AccountError", "visible_users", "save_user", "delete_user", "activation_link", "send_activation_mail",
           "activate", "change_password", "request_password_reset", "reset_password", "set_enabled",
           "valid_token", "reset_token", "parse_id", "text_field", "PASSWORD_POLICY"]

ACTIVATE, RESET = CredentialsToken.Purpose.ACTIVATE, CredentialsToken.Purpose.RESET
TOKEN_CHARS = string.ascii_letters + string.digits
TOKEN_LENGTH = 30
#: ThingsBoard's default password policy; the one in force is the security settings' (security.policy())
PASSWORD_POLICY = security.DEFAULT_POLICY
MAX_PASSWORD = security.MAX_PASSWORD
NO_PERMISSION = "You don't have permission to perform this operation!"
NOT_FOUND = "Requested item wasn't found!"
TOO_MANY_MAILS = "Too many mails asked for: try again later."
HOUR_MS = 3_600_000

log = logging.getLogger(__name__)


class AccountError(Exception):
    """Refused: ``status`` (400, 403, 404, 429, 500) and ThingsBoard's message where it has one;
    ``retry_after`` (seconds) with a 429."""

    def __init__(self, message: str, status: int = 400, *, retry_after: int = 0):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def _take_mail(email: str, client: str | None = None) -> None:
    """One anonymous reset request for ``email`` (by ``client``) from the limits of tenants/limits/mail.py, or a 429."""
    wait = mail_limits.take(email, client)
    if wait:
        raise AccountError(TOO_MANY_MAILS, 429, retry_after=wait)


def visible_users(actor):
    """The users ``actor`` may see: all (system administrator), its tenant's, or its customer's."""
    rows = User.objects.all()
    if actor.authority == Authority.SYS_ADMIN:
        return rows
    rows = rows.filter(tenant_id=actor.tenant_id)
    return rows.filter(customer_id=actor.customer_id) if actor.authority == Authority.CUSTOMER_USER else rows


def _user(actor, user_id) -> User:
    found = visible_users(actor).filter(pk=user_id).first() if user_id is not None else None
    if found is None:
        raise AccountError(NOT_FOUND, 404)
    return found


def parse_id(raw, what: str):
    """The UUID of ``raw`` (a bare id or ThingsBoard's ``{"id": ...}``), None when absent; else a 400
    naming ``what``."""
    raw = raw.get("id") if isinstance(raw, dict) else raw
    if raw in (None, ""):
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise AccountError(f"Invalid {what}: {str(raw)[:64]!r}") from None


def text_field(data: dict, key: str, limit: int) -> str:
    """``data[key]``: a string of at most ``limit`` characters that a column can hold ("" when absent);
    else a 400 naming ``key``."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AccountError(f"{key} must be a string")
    if len(value) > limit:
        raise AccountError(f"{key} is longer than {limit} characters")
    try:
        return check_text(value)
    except ValueError as e:
        raise AccountError(f"{key}: {e}") from None


def _email(data: dict) -> str:
    email = data.get("email")
    if not isinstance(email, str) or not email.strip():
        raise AccountError("User email should be specified!")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(f"Invalid email address format '{email[:254]}'!") from None
    return email


def _owner(actor, data: dict, authority: str) -> tuple:
    """(tenant, customer) of a user ``actor`` saves with ``authority``."""
    if actor.authority == Authority.SYS_ADMIN:
        tenant_id = parse_id(data.get("tenantId"), "tenantId")
        if authority == Authority.SYS_ADMIN:
            return None, None
        tenant = Tenant.objects.live().filter(pk=tenant_id).first() if tenant_id else None
        if tenant is None:
            raise AccountError("Tenant administrator should be assigned to tenant!" if tenant_id is None else NOT_FOUND,
                               400 if tenant_id is None else 404)
    else:
        tenant = actor.tenant
    customer_id = parse_id(data.get("customerId"), "customerId")
    if authority == Authority.TENANT_ADMIN:
        return tenant, None  # ThingsBoard sends NULL_UUID as the customer of a tenant administrator
    if customer_id is None:
        raise AccountError("Customer user should be assigned to customer!")
    customer = Customer.objects.filter(tenant=tenant, pk=customer_id).first()
    if customer is None:
        raise AccountError(NOT_FOUND, 404)
    return tenant, customer


def _authority(actor, data: dict) -> str:
    authority = data.get("authority")
    if authority not in Authority.values:
        raise AccountError("User authority should be specified!" if authority is None
                           else f"Unknown authority {str(authority)[:32]!r}")
    if actor.authority != Authority.SYS_ADMIN and authority == Authority.SYS_ADMIN:
        raise AccountError(NO_PERMISSION, 403)
    return authority


def _additional_info(data: dict, stored: dict | None) -> dict:
    info = data.get("additionalInfo")
    if info is None:
        return stored or {}
    if not isinstance(info, dict):
        raise AccountError("additionalInfo must be a JSON object")
    info = dict(info)
    info.pop("userCredentialsEnabled", None)  # ThingsBoard adds it when it answers; the login's state is not this
    info.pop(lockout.FAILED, None)  # the server counts wrong passwords: a client's copy neither sets nor clears it
    if isinstance(stored, dict) and lockout.FAILED in stored:
        info[lockout.FAILED] = stored[lockout.FAILED]
    return info


def save_user(actor, data: dict, *, send_mail: bool, base_url: str) -> User:
    """POST /api/user: a new user (``data`` without ``id``) or an update of one ``actor`` may see."""
    user_id = parse_id(data.get("id"), "user id")
    if actor.authority == Authority.CUSTOMER_USER and user_id != actor.pk:
        raise AccountError(NO_PERMISSION, 403)
    existing = _user(actor, user_id) if user_id is not None else None
    email = _email(data)
    names = {"first_name": text_field(data, "firstName", 150), "last_name": text_field(data, "lastName", 150),
             "phone": text_field(data, "phone", 64)}
    try:
        with transaction.atomic():
            if existing is not None:
                return _update(actor, existing, data, email, names)
            authority = _authority(actor, data)
            tenant, customer = _owner(actor, data, authority)
            user = User(email=email, authority=authority, tenant=tenant, customer=customer, is_active=False,
                        additional_info=_additional_info(data, None), **names)
            user.set_unusable_password()
            user.save()
            ttl = security.activation_ttl_hours()
            token = _new_token(user, ACTIVATE, ttl)
            if send_mail:  # an administrator's mail: not counted against the anonymous reset requests' limits
                _send(email, "Activate your account", f"Set your password to activate your account:\n\n"
                      f"{_activation_url(base_url, token.token)}\n\nThe link is valid for {ttl} hours.")
            return user
    except IntegrityError:
        raise AccountError(f"User with email '{email}' already present in database!") from None


def _update(actor, user: User, data: dict, email: str, names: dict) -> User:
    if actor.authority != Authority.CUSTOMER_USER:
        authority = data.get("authority", user.authority)
        if authority != user.authority:
            raise AccountError("A user's authority cannot be changed: create a new user instead")
        if user.authority == Authority.CUSTOMER_USER and "customerId" in data:
            _, user.customer = _owner(actor, {**data, "tenantId": {"id": str(user.tenant_id)}}, user.authority)
        user.email = email
    elif email != user.email:
        raise AccountError(NO_PERMISSION, 403)
    for field, value in names.items():
        setattr(user, field, value)
    user.additional_info = _additional_info(data, user.additional_info)
    user.save()
    return user


def delete_user(actor, user_id) -> None:
    """DELETE /api/user/{id}: administrators only; a system administrator may not delete himself."""
    if actor.authority == Authority.CUSTOMER_USER:
        raise AccountError(NO_PERMISSION, 403)
    user = _user(actor, user_id)
    if user.pk == actor.pk and actor.authority == Authority.SYS_ADMIN:
        raise AccountError("Sysadmin is not allowed to delete himself", 403)
    user.delete()


def set_enabled(actor, user_id, enabled: bool) -> None:
    """POST /api/user/{id}/userCredentialsEnabled: a disabled user cannot log in, and its tokens stop working."""
    if actor.authority == Authority.CUSTOMER_USER:
        raise AccountError(NO_PERMISSION, 403)
    user = _user(actor, user_id)
    if user.is_active == enabled:
        return
    if enabled:  # as ThingsBoard, enabling a login (a locked one, too) starts its count of wrong passwords again
        user.is_active = True
        fields = ["is_active", *lockout.forget_failures(user)]
    else:
        # as ThingsBoard invalidates a disabled user's credentials: its tokens stay dead once it is enabled
        # again, and its pending links (activation, reset) go
        fields = lockout.disable(user)
    user.save(update_fields=fields)


def activation_link(actor, user_id, base_url: str) -> tuple[str, int]:
    """(the activation URL, ms it stays valid) of a user not activated yet; a new token once expired."""
    if actor.authority == Authority.CUSTOMER_USER:
        raise AccountError(NO_PERMISSION, 403)
    user = _user(actor, user_id)
    token = CredentialsToken.objects.filter(user=user, purpose=ACTIVATE).first()
    if token is None:
        raise AccountError("User is already activated!")
    if token.expires <= now_ms():
        token = _new_token(user, ACTIVATE, security.activation_ttl_hours())
    return _activation_url(base_url, token.token), token.expires - now_ms()


def send_activation_mail(actor, email: str, base_url: str) -> None:
    """POST /api/user/sendActivationMail?email=: the activation mail again (bounded by the tenant's REST limits;
    the anonymous reset requests' limits of tenants/limits/mail.py never refuse an administrator's mail)."""
    user = visible_users(actor).filter(email=str(email).strip().lower()).first()
    if user is None:
        raise AccountError(NOT_FOUND, 404)
    link, _ = activation_link(actor, user.pk, base_url)
    _send(user.email, "Activate your account", f"Set your password to activate your account:\n\n{link}")


def valid_token(purpose: str, token) -> CredentialsToken | None:
    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    return CredentialsToken.objects.select_related("user").filter(
        purpose=purpose, token=token, expires__gt=now_ms()).first()


def activate(token: str, password) -> User:
    """POST /api/noauth/activate: the user's first password; its login is enabled and the link used up."""
    password = _password(password)
    with transaction.atomic():
        row = valid_token(ACTIVATE, token)
        if row is None:
            raise AccountError("Invalid activate token!" if not _expired(ACTIVATE, token) else
                               "Activation link has expired")
        user = row.user
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active", "credentials_changed", "password_history"])
        row.delete()
    return user


def change_password(user: User, current, new) -> None:
    """POST /api/auth/changePassword."""
    if not isinstance(current, str) or not user.check_password(current):
        raise AccountError("Current password doesn't match!")
    if new == current:
        raise AccountError("New password should be different from existing!")
    new = _password(new, user)
    user.set_password(new)
    user.save(update_fields=["password", "credentials_changed", "password_history"])
    CredentialsToken.objects.filter(user=user, purpose=RESET).delete()  # a reset link asked for before


def request_password_reset(email, base_url: str, *, client: str | None = None) -> None:
    """POST /api/noauth/resetPasswordByEmail: a reset link by mail to an active user. Answers the same
    whether such a user exists or not, so that nobody learns which addresses have accounts: the mail
    limits (per address, and per ``client`` asking) count an unknown address as a known one."""
    if not isinstance(email, str):
        raise AccountError("email is required")
    _take_mail(email, client)
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        return
    ttl = security.reset_ttl_hours()
    token = _new_token(user, RESET, ttl)
    try:
        _send(user.email, "Reset your password", f"Set a new password:\n\n{base_url}/api/noauth/resetPassword?"
              f"resetToken={token.token}\n\nThe link is valid for {ttl} hours. If you did not ask for it, "
              "ignore this mail.")
    except AccountError as e:  # the same answer as for an unknown address: the reason goes to the log only
        log.warning("password reset mail to user %s not sent: %s", user.pk, e)
        token.delete()


def reset_token(user: User) -> str:
    """A new password-reset token of ``user`` (a login refused for an expired password answers it)."""
    return _new_token(user, RESET, security.reset_ttl_hours()).token


def reset_password(token: str, password) -> User:
    """POST /api/noauth/resetPassword."""
    password = _password(password)
    with transaction.atomic():
        row = valid_token(RESET, token)
        if row is None or not row.user.is_active:
            raise AccountError("Invalid reset token!")
        user = row.user
        reused = security.reuse_error(user, password)
        if reused:
            raise AccountError(reused)
        user.set_password(password)
        user.save(update_fields=["password", "credentials_changed", "password_history"])
        row.delete()
    return user


def _password(password, user: User | None = None) -> str:
    """``password`` when it passes the security settings' policy (and, for ``user``, its reuse rule)."""
    if not isinstance(password, str) or not password:
        raise AccountError("Password should be specified!")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"Password must be at most {MAX_PASSWORD} characters long!")
    rules = security.policy()
    errors = security.policy_errors(password, rules)
    reused = security.reuse_error(user, password, rules) if user is not None and not errors else None
    if errors or reused:
        raise AccountError("\n".join(errors) or reused)
    return password


def _new_token(user: User, purpose: str, ttl_hours: int) -> CredentialsToken:
    token = "".join(secrets.choice(TOKEN_CHARS) for _ in range(TOKEN_LENGTH))
    row, _ = CredentialsToken.objects.update_or_create(
        user=user, purpose=purpose, defaults={"token": token, "expires": now_ms() + ttl_hours * HOUR_MS})
    return row


def _expired(purpose: str, token) -> bool:
    return isinstance(token, str) and CredentialsToken.objects.filter(purpose=purpose, token=token).exists()


def _activation_url(base_url: str, token: str) -> str:
    return f"{base_url}/api/noauth/activate?activateToken={token}"


def _send(to: str, subject: str, body: str) -> None:
    """Through the stored mail settings, else the EMAIL_* settings (tenants/system/mail.py)."""
    try:
        mail.send(to, subject, body)
    except mail.MailError as e:  # SMTP refused, unreachable, timed out: the save is rolled back
        raise AccountError(f"Unable to send mail: {str(e)[:200]}", 500) from None
