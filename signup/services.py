"""Signing up on a tenant's self-registration page, and activating the account by the mailed link
(ThingsBoard PE's SignUpController):

- ``POST /api/noauth/signup``: at most SIGNUP_PER_CLIENT_RATE_LIMIT per client address; the reCAPTCHA token
  checked (signup/captcha.py); the password checked against the security settings' policy; then a customer
  (title prefix + e-mail) of the tenant whose domain the request reached and a customer user not active yet,
  who joins the customer's user group (signup/groups.py) and gets the activation mail. All or nothing: a mail
  the SMTP server refuses keeps no customer and no user.
- ``POST /api/noauth/activateByEmailCode``: the mailed code activates the account (one use, the security
  settings' activation TTL); ``POST /api/noauth/resendEmailActivation`` mails a new code to a signed-up user
  still waiting (the account mail limits apply; the answer never tells whether the address has an account).
"""

import logging
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from signup import captcha, groups
from signup.choices import DEFAULT_FIELDS, SignUpResult
from signup.models import SelfRegistration, SignUp
from tbproject.clock import now_ms
from tenants import accounts
from tenants.accounts import AccountError, text_field
from tenants.limits import buckets
from tenants.limits import mail as mail_limits
from tenants.limits.entities import EntitiesLimitReached
from tenants.models import CredentialsToken, Customer, User
from tenants.system import admin_settings, mail, security

__all__ = ["PER_CLIENT", "SIGN_UP", "registration_for_host", "link_base", "sign_up", "activate", "resend",
           "take_sign_up"]

PER_CLIENT = "signUpsPerClient"
#: the purpose of a sign-up's activation code: never an administrator's invitation (ACTIVATE, which
#: ``/api/noauth/activate`` takes with a new password); a value of this app, not one of CredentialsToken's choices
SIGN_UP = "SIGNUP"
HOUR_MS = 3_600_000
#: sign-up field -> (model attribute of the user or customer, longest value)
_USER_FIELDS = {"FIRST_NAME": ("first_name", 150), "LAST_NAME": ("last_name", 150), "PHONE": ("phone", 64)}
_CUSTOMER_FIELDS = {"PHONE": ("phone", 64), "COUNTRY": ("country", 64), "STATE": ("state", 64),
                    "CITY": ("city", 64), "ZIP": ("zip", 32), "ADDRESS": ("address", 255),
                    "ADDRESS2": ("address2", 255)}
_LEGACY = {"email": "EMAIL", "password": "PASSWORD", "firstName": "FIRST_NAME", "lastName": "LAST_NAME"}

log = logging.getLogger(__name__)


def registration_for_host(host: str) -> SelfRegistration | None:
    """The enabled self-registration of the domain ``host`` (a port dropped), of a tenant not being deleted."""
    name = str(host or "").strip().lower().rsplit(":", 1)[0] if not str(host).startswith("[") else ""
    if not name:
        return None
    return SelfRegistration.objects.select_related("tenant").filter(
        domain_name=name, enabled=True, tenant__deleting_ts__isnull=True).first()


def link_base(registration: SelfRegistration) -> str:
    """Where a sign-up's mailed link starts: the tenant's configured sign-up domain, never the Host (or port) a
    request came with; the scheme of the configured base URL (general settings, PUBLIC_BASE_URL), else https."""
    scheme = urlsplit(admin_settings.base_url()).scheme.lower()
    return f"{scheme if scheme in ('http', 'https') else 'https'}://{registration.domain_name}"


def take_sign_up(client: str) -> None:
    """One sign-up attempt of ``client`` (an address) from SIGNUP_PER_CLIENT_RATE_LIMIT, or a 429."""
    wait = buckets.take(PER_CLIENT, settings.SIGNUP_PER_CLIENT_RATE_LIMIT, client)
    if wait:
        raise AccountError("Too many sign-up requests: try again later.", 429, retry_after=wait)


def _form(registration: SelfRegistration, data) -> dict:
    """The sign-up form's values by field id (the 4.x ``fields`` map, or the 3.x names), checked."""
    if not isinstance(data, dict):
        raise AccountError("Request body must be a JSON object")
    raw = data.get("fields")
    if raw is None:
        raw = {field: data.get(key) for key, field in _LEGACY.items() if data.get(key) is not None}
        raw["REPEAT_PASSWORD"] = raw.get("PASSWORD")  # 3.x forms compared the two in the browser
    if not isinstance(raw, dict):
        raise AccountError("fields must be a JSON object")
    form = {}
    for field in registration.sign_up_fields or DEFAULT_FIELDS:
        key = field["id"]
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise AccountError(f"Sign-up field {key} must be a string")
        if key not in ("PASSWORD", "REPEAT_PASSWORD"):
            value = text_field({key: value}, key, 255).strip() if value is not None else ""
        if field.get("required") and not value:
            raise AccountError(f"{field.get('label') or key} is required!")
        form[key] = value or ""
    return form


def _email(form: dict) -> str:
    email = form.get("EMAIL", "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(f"Invalid email address format '{email[:254]}'!") from None
    return email


def _password(form: dict) -> str:
    password = form.get("PASSWORD") or ""
    if len(password) > security.MAX_PASSWORD:
        raise AccountError(f"Password must be at most {security.MAX_PASSWORD} characters long!")
    if "REPEAT_PASSWORD" in form and form["REPEAT_PASSWORD"] != password:
        raise AccountError("Password and repeat password do not match!")
    errors = security.policy_errors(password, security.policy())
    if errors:
        raise AccountError("\n".join(errors))
    return password


def _existing(email: str) -> str | None:
    """INACTIVE_USER_EXISTS for a signed-up user still waiting; ThingsBoard's 400 for anyone else's address."""
    user = User.objects.filter(email=email).first()
    if user is None:
        return None
    if not user.is_active and SignUp.objects.filter(user=user, activated_time__isnull=True).exists():
        return SignUpResult.INACTIVE_USER_EXISTS
    raise AccountError(f"User with email '{email}' already present in database!")


def _pick(form: dict, table: dict) -> dict:
    return {attr: form[key][:limit] for key, (attr, limit) in table.items() if form.get(key)}


def _new_token(user: User) -> CredentialsToken:
    token = "".join(secrets.choice(accounts.TOKEN_CHARS) for _ in range(accounts.TOKEN_LENGTH))
    row, _ = CredentialsToken.objects.update_or_create(user=user, purpose=SIGN_UP, defaults={
        "token": token, "expires": now_ms() + security.activation_ttl_hours() * HOUR_MS})
    return row


def _send(to: str, subject: str, body: str) -> None:
    try:
        mail.send(to, subject, body)
    except mail.MailError as e:
        raise AccountError(f"Unable to send mail: {str(e)[:200]}", 500) from None


def _activation_mail(user: User, token: str, base_url: str) -> None:
    _send(user.email, "Activate your account",
          f"Thank you for signing up. Confirm your e-mail address to activate your account:\n\n"
          f"{base_url}/api/noauth/activateEmail?emailCode={token}\n\n"
          f"The link is valid for {security.activation_ttl_hours()} hours.")


def _user_info(registration: SelfRegistration) -> dict:
    info = {}
    if registration.default_dashboard_id:
        info.update(defaultDashboardId=str(registration.default_dashboard_id),
                    defaultDashboardFullscreen=registration.default_dashboard_fullscreen)
    if registration.home_dashboard_id:
        info.update(homeDashboardId=str(registration.home_dashboard_id),
                    homeDashboardHideToolbar=registration.home_dashboard_hide_toolbar)
    return info


def _notify(registration: SelfRegistration, user: User, customer: Customer) -> None:
    to = registration.notification_email
    if not to:
        return

    def send():
        try:
            mail.send(to, "New user signed up", f"{user.email} signed up at {registration.domain_name}: "
                      f"customer '{customer.title}'. The account becomes active once its e-mail is confirmed.")
        except mail.MailError as e:  # the sign-up stands; the tenant's notice is lost
            log.warning("sign-up notice for tenant %s not sent: %s", registration.tenant_id, e)

    transaction.on_commit(send)


def _join_customer_group(registration: SelfRegistration, customer: Customer) -> None:
    from devices import group_types
    from devices.models import EntityGroup

    if registration.customer_group_id is None or group_types.relation("CUSTOMER") is None:
        return  # customer groups: stored, joined once an app registers the CUSTOMER group type
    group = EntityGroup.objects.filter(tenant_id=registration.tenant_id, pk=registration.customer_group_id,
                                       type="CUSTOMER").first()
    if group is not None:
        group.members.add(customer)


def sign_up(registration: SelfRegistration, data, *, remote_ip: str, client: str) -> str:
    """``POST /api/noauth/signup`` on ``registration``'s domain: SUCCESS or INACTIVE_USER_EXISTS."""
    form = _form(registration, data)
    email = _email(form)
    password = _password(form)
    try:
        captcha.verify(registration, data.get("recaptchaResponse"), remote_ip)
    except captcha.CaptchaError as e:
        raise AccountError(str(e)) from None
    found = _existing(email)
    if found:
        return found
    title = f"{registration.customer_title_prefix}{email}"[:255]
    try:
        with transaction.atomic():
            customer = Customer.objects.create(tenant_id=registration.tenant_id, title=title, email=email,
                                               **_pick(form, _CUSTOMER_FIELDS))
            user = User(email=email, authority="CUSTOMER_USER", tenant_id=registration.tenant_id, customer=customer,
                        is_active=False, additional_info=_user_info(registration), **_pick(form, _USER_FIELDS))
            user.set_password(password)
            user.save()
            SignUp.objects.create(tenant_id=registration.tenant_id, user=user, customer=customer,
                                  client=buckets.digest(client) if client else "")
            groups.join(user, customer, registration.permissions)
            _join_customer_group(registration, customer)
            _activation_mail(user, _new_token(user).token, link_base(registration))
            _notify(registration, user, customer)
    except EntitiesLimitReached as e:  # the tenant profile's maxCustomers or maxUsers (tenants/limits/entities.py)
        raise AccountError(str(e)) from None
    except IntegrityError:  # the same address signed up meanwhile, or a customer of that title exists
        if User.objects.filter(email=email).exists():
            raise AccountError(f"User with email '{email}' already present in database!") from None
        raise AccountError(f"Customer with title '{title}' already exists!") from None
    return SignUpResult.SUCCESS


def _pending(code) -> tuple[CredentialsToken, SignUp]:
    row = accounts.valid_token(SIGN_UP, code)
    record = SignUp.objects.filter(user_id=row.user_id, activated_time__isnull=True).first() if row else None
    if row is None or record is None or row.user.credentials_changed > record.created_time:
        expired = isinstance(code, str) and CredentialsToken.objects.filter(purpose=SIGN_UP, token=code).exists()
        raise AccountError("Activation link has expired" if expired else "Invalid activation code!")
    return row, record


def is_pending(code) -> bool:
    try:
        _pending(code)
    except AccountError:
        return False
    return True


def activate(code) -> User:
    """The mailed code activates its signed-up user (once)."""
    with transaction.atomic():
        row, record = _pending(code)
        # one use: the code's row locked, so that of two requests with it the second finds it gone
        if not CredentialsToken.objects.select_for_update().filter(pk=row.pk, purpose=SIGN_UP).exists():
            raise AccountError("Invalid activation code!")
        user = row.user
        user.is_active = True
        user.save(update_fields=["is_active"])
        record.activated_time = now_ms()
        record.save(update_fields=["activated_time", "version"])
        row.delete()
    try:
        mail.send(user.email, "Your account is activated", "Your account is active: you can log in now.")
    except mail.MailError as e:
        log.warning("activation notice to user %s not sent: %s", user.pk, e)
    return user


def _disabled(record: SignUp) -> bool:
    """Whether an administrator disabled the login since the sign-up (tenants/lockout.py ``disable`` marks the
    credentials changed; the sign-up set the password before its SignUp row was made)."""
    return record.user.credentials_changed > record.created_time


def resend(email, *, client: str, registration: SelfRegistration | None) -> None:
    """A new activation mail to a user that signed up at ``registration`` (the domain the request reached) and
    still waits; the same answer for any other address, and for a login an administrator disabled."""
    if not isinstance(email, str) or not email.strip():
        raise AccountError("email is required")
    email = email.strip().lower()
    wait = mail_limits.take(email, client)
    if wait:
        raise AccountError(accounts.TOO_MANY_MAILS, 429, retry_after=wait)
    if registration is None:
        return
    record = SignUp.objects.select_related("user").filter(
        tenant_id=registration.tenant_id, user__email=email, user__is_active=False,
        activated_time__isnull=True).first()
    if record is None or _disabled(record):
        return
    try:
        _activation_mail(record.user, _new_token(record.user).token, link_base(registration))
    except AccountError as e:  # the same answer as for an unknown address
        log.warning("activation mail to user %s not sent: %s", record.user_id, e)
