"""ThingsBoard's lockout after too many wrong passwords (tenants/lockout.py): counted per user in
additionalInfo.failedLoginAttempts, the wrong one past USER_MAX_FAILED_LOGIN_ATTEMPTS disables the
login (401 "User account is locked due to security policy"), an administrator enables it again."""

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import PASSWORD
from tenants import lockout
from tenants.models import CredentialsToken, User

BAD = "Invalid username or password"


def _login(anon, email, password, ip="127.0.0.1"):
    return anon.post("/api/auth/login", {"username": email, "password": password}, format="json", REMOTE_ADDR=ip)


@pytest.fixture
def three(settings):
    settings.USER_MAX_FAILED_LOGIN_ATTEMPTS = 3


def _failures(user) -> int | None:
    return User.objects.get(pk=user.pk).additional_info.get(lockout.FAILED)


def test_the_wrong_password_past_the_limit_locks_the_user(anon, api, customer_user, three):
    pair = _login(anon, customer_user.email, PASSWORD).json()
    for _ in range(3):
        body = assert_error(_login(anon, customer_user.email, "wrong"), 401, BAD)
    assert body["errorCode"] == 10 and _failures(customer_user) == 3
    body = assert_error(_login(anon, customer_user.email, "wrong"), 401)
    assert body["message"] == lockout.LOCKED and body["errorCode"] == 10
    row = User.objects.get(pk=customer_user.pk)
    assert row.is_active is False and row.additional_info[lockout.FAILED] == 4
    # locked: the right password is refused as ThingsBoard refuses a disabled user, tokens are dead
    assert assert_error(_login(anon, customer_user.email, PASSWORD), 401)["message"] == lockout.NOT_ACTIVE
    assert assert_error(_login(anon, customer_user.email, "wrong"), 401)["message"] == BAD
    assert anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {pair['token']}").status_code == 401
    info = api.get(f"/api/user/{customer_user.pk}").json()["additionalInfo"]
    assert info["userCredentialsEnabled"] is False and info[lockout.FAILED] == 4

    # an administrator enables it again: the count starts afresh
    assert api.post(f"/api/user/{customer_user.pk}/userCredentialsEnabled?userCredentialsEnabled=true") \
        .status_code == 200
    assert _failures(customer_user) is None
    assert _login(anon, customer_user.email, PASSWORD).status_code == 200


def test_a_right_password_starts_the_count_again(anon, customer_user, three):
    for _ in range(3):
        _login(anon, customer_user.email, "wrong")
    assert _login(anon, customer_user.email, PASSWORD).status_code == 200
    assert _failures(customer_user) is None
    for _ in range(3):
        assert_error(_login(anon, customer_user.email, "wrong"), 401, BAD)
    assert User.objects.get(pk=customer_user.pk).is_active


def test_the_admin_sign_in_page_counts_too(client, anon, tenant_admin, three):
    for _ in range(4):
        res = client.post("/admin/login/", {"username": tenant_admin.email, "password": "wrong"})
        assert res.status_code == 200  # the page again, with its error
    assert User.objects.get(pk=tenant_admin.pk).is_active is False
    assert assert_error(_login(anon, tenant_admin.email, PASSWORD), 401)["message"] == lockout.NOT_ACTIVE


def test_a_lock_takes_the_users_pending_reset_link(anon, customer_user, mailoutbox, three):
    assert anon.post("/api/noauth/resetPasswordByEmail", {"email": customer_user.email}, format="json") \
        .status_code == 200
    assert CredentialsToken.objects.filter(user=customer_user).exists()
    for _ in range(4):
        _login(anon, customer_user.email, "wrong")
    assert not CredentialsToken.objects.filter(user=customer_user).exists()


def test_zero_never_locks(anon, customer_user, settings):
    settings.USER_MAX_FAILED_LOGIN_ATTEMPTS = 0
    for _ in range(8):
        assert_error(_login(anon, customer_user.email, "wrong"), 401, BAD)
    assert User.objects.get(pk=customer_user.pk).is_active and _failures(customer_user) == 8
    assert _login(anon, customer_user.email, PASSWORD).status_code == 200


def test_unknown_and_not_yet_activated_users_are_answered_as_before(anon, api, customer, three):
    for _ in range(5):
        assert_error(_login(anon, "nobody@example.com", "wrong"), 401, BAD)
    pending = api.post("/api/user?sendActivationMail=false", {
        "email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}},
        format="json").json()
    for _ in range(5):
        assert_error(_login(anon, "dave@example.com", "wrong"), 401, BAD)
    row = User.objects.get(pk=pending["id"]["id"])
    assert lockout.FAILED not in row.additional_info
    assert CredentialsToken.objects.filter(user=row).exists()  # its activation link is untouched


def test_a_client_cannot_set_or_clear_the_count(api, customer_user, anon, three):
    for _ in range(2):
        _login(anon, customer_user.email, "wrong")
    body = api.get(f"/api/user/{customer_user.pk}").json()
    for sent in (0, None, 99):
        body["additionalInfo"] = {**body["additionalInfo"], lockout.FAILED: sent, "lang": "en_US"}
        assert api.post("/api/user", body, format="json").status_code == 200
        assert _failures(customer_user) == 2
    del body["additionalInfo"][lockout.FAILED]
    assert api.post("/api/user", body, format="json").status_code == 200
    assert _failures(customer_user) == 2


def test_another_tenants_admin_cannot_unlock(anon, mallory_api, customer_user, three):
    for _ in range(4):
        _login(anon, customer_user.email, "wrong")
    assert_error(mallory_api.post(f"/api/user/{customer_user.pk}/userCredentialsEnabled?userCredentialsEnabled=true"),
                 404)
    assert User.objects.get(pk=customer_user.pk).is_active is False


def test_enabling_a_locked_user_in_the_admin_starts_its_count_again(client, anon, tenant_admin, customer_user, three):
    for _ in range(4):
        _login(anon, customer_user.email, "wrong")
    client.force_login(tenant_admin)
    res = client.post(f"/admin/tenants/user/{customer_user.pk}/change/", {
        "email": customer_user.email, "first_name": "", "last_name": "", "authority": "CUSTOMER_USER",
        "customer": customer_user.customer_id, "is_active": "on"})
    assert res.status_code == 302, res.context["adminform"].form.errors
    assert User.objects.get(pk=customer_user.pk).is_active and _failures(customer_user) is None
    assert_error(_login(anon, customer_user.email, "wrong"), 401, BAD)  # one wrong password no longer locks
    assert _login(anon, customer_user.email, PASSWORD).status_code == 200


def test_there_is_no_lockout_by_default(anon, customer_user):
    """As ThingsBoard's security settings, which leave maxFailedLoginAttempts unset: anyone knowing an address
    must not be able to disable its login with a few guesses (the per-client limit bounds the guessing)."""
    from tbproject import settings as project_settings

    assert project_settings.USER_MAX_FAILED_LOGIN_ATTEMPTS == 0
    for i in range(8):  # from several clients, so that the per-client limit stays out of it
        assert_error(_login(anon, customer_user.email, "wrong", ip=f"10.0.2.{i}"), 401, BAD)
    assert User.objects.get(pk=customer_user.pk).is_active
    assert _login(anon, customer_user.email, PASSWORD).status_code == 200


def test_enable_user_unlocks_a_locked_login(anon, customer_user, three):
    from io import StringIO

    from django.core.management import call_command

    for _ in range(4):
        _login(anon, customer_user.email, "wrong")
    assert User.objects.get(pk=customer_user.pk).is_active is False
    out = StringIO()
    call_command("enable_user", " Carol@Example.com ", stdout=out)
    assert "enabled" in out.getvalue() and customer_user.email in out.getvalue()
    assert User.objects.get(pk=customer_user.pk).is_active and _failures(customer_user) is None
    assert_error(_login(anon, customer_user.email, "wrong"), 401, BAD)  # the count starts again
    assert _login(anon, customer_user.email, PASSWORD).status_code == 200


def test_enable_user_resets_the_count_of_an_enabled_user(anon, customer_user, three):
    from io import StringIO

    from django.core.management import call_command

    for _ in range(2):
        _login(anon, customer_user.email, "wrong")
    out = StringIO()
    call_command("enable_user", customer_user.email, stdout=out)
    assert "already enabled" in out.getvalue() and _failures(customer_user) is None


@pytest.mark.parametrize("argv, message", [
    (["nobody@example.com"], "No user with the e-mail 'nobody@example.com'"),
    ([""], "No user with the e-mail ''"),
    ([], "the following arguments are required: email"),
])
def test_enable_user_refuses_unknown_emails_clearly(db, argv, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message):
        call_command("enable_user", *argv)


def test_enable_user_of_a_user_waiting_for_activation_says_how_it_logs_in(api, customer):
    from io import StringIO

    from django.core.management import call_command

    pending = api.post("/api/user?sendActivationMail=false", {
        "email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}},
        format="json").json()
    out = StringIO()
    call_command("enable_user", "dave@example.com", stdout=out)
    assert "no password yet" in out.getvalue()
    assert User.objects.get(pk=pending["id"]["id"]).is_active is False  # it still activates through its link
