"""Users' accounts at ThingsBoard's paths: POST /api/user, activation links, passwords, enabling a login.

Mail goes to Django's in-memory outbox (pytest-django's ``mailoutbox``); a real SMTP server
receives it in test_account_mail_smtp.py.
"""

import re

import pytest
from tb_pe_client.models import JwtPair, User

from tbproject.testing.api import assert_error
from tenants.choices import Authority
from tenants.models import CredentialsToken
from tenants.models import User as UserRow

NEW = {"email": "Dave@Example.com", "authority": "CUSTOMER_USER", "firstName": "Dave", "lastName": "D",
       "phone": "+1 555", "additionalInfo": {"lang": "en_US", "userCredentialsEnabled": True}}


def _new(api, customer, send="false", **extra):
    body = {**NEW, "customerId": {"entityType": "CUSTOMER", "id": str(customer.pk)}, **extra}
    return api.post(f"/api/user?sendActivationMail={send}", body, format="json")


def _login(anon, email, password):
    return anon.post("/api/auth/login", {"username": email, "password": password}, format="json")


def _token(link: str) -> str:
    return re.search(r"activateToken=([A-Za-z0-9]+)$", link).group(1)


def test_a_new_user_waits_for_activation_and_activates_with_its_link(api, anon, customer, mailoutbox):
    res = _new(api, customer)
    assert res.status_code == 200, res.content
    user = User.from_dict(res.json())
    assert (user.email, user.authority, user.customer_id.id, user.first_name, user.phone) == (
        "dave@example.com", "CUSTOMER_USER", customer.pk, "Dave", "+1 555")
    assert user.additional_info == {"lang": "en_US", "userCredentialsEnabled": False}
    assert mailoutbox == []  # sendActivationMail=false
    assert_error(_login(anon, "dave@example.com", ""), 400)  # no password yet: nothing to log in with

    res = api.get(f"/api/user/{user.id.id}/activationLink")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/plain")
    link = res.content.decode()
    assert link.startswith("http://testserver/api/noauth/activate?activateToken=")
    info = api.get(f"/api/user/{user.id.id}/activationLinkInfo").json()
    assert info["value"] == link and 0 < info["ttlMs"] <= 24 * 3_600_000
    token = _token(link)
    assert len(token) == 30

    res = anon.get(f"/api/noauth/activate?activateToken={token}")
    assert res.status_code == 303 and res["Location"] == f"/login/createPassword?activateToken={token}"
    assert_error(anon.post("/api/noauth/activate", {"activateToken": token, "password": "123"}, format="json"), 400,
                 "Password must be 6 or more characters in length.")
    res = anon.post("/api/noauth/activate", {"activateToken": token, "password": "dave-pass-1"}, format="json")
    pair = JwtPair.from_dict(res.json())
    assert res.status_code == 200 and pair.token and pair.refresh_token
    me = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {pair.token}").json()
    assert me["email"] == "dave@example.com" and me["additionalInfo"]["userCredentialsEnabled"] is True
    assert _login(anon, "dave@example.com", "dave-pass-1").status_code == 200

    # the link is used up
    assert anon.get(f"/api/noauth/activate?activateToken={token}").status_code == 409
    assert_error(anon.post("/api/noauth/activate", {"activateToken": token, "password": "x-pass-22"},
                           format="json"), 400)
    assert_error(api.get(f"/api/user/{user.id.id}/activationLink"), 400, "already activated")


def test_the_activation_mail_carries_the_link(api, customer, mailoutbox):
    user = _new(api, customer, send="true").json()
    [mail] = mailoutbox
    assert mail.to == ["dave@example.com"]
    link = api.get(f"/api/user/{user['id']['id']}/activationLink").content.decode()
    assert link in mail.body
    api.post("/api/user/sendActivationMail?email=DAVE@example.com")
    assert len(mailoutbox) == 2 and link in mailoutbox[1].body


def test_an_expired_activation_link_is_refused_and_a_new_one_is_issued(api, anon, customer):
    user = _new(api, customer).json()
    token = _token(api.get(f"/api/user/{user['id']['id']}/activationLink").content.decode())
    CredentialsToken.objects.filter(token=token).update(expires=1)
    assert anon.get(f"/api/noauth/activate?activateToken={token}").status_code == 409
    assert_error(anon.post("/api/noauth/activate", {"activateToken": token, "password": "dave-pass-1"},
                           format="json"), 400, "expired")
    fresh = _token(api.get(f"/api/user/{user['id']['id']}/activationLink").content.decode())
    assert fresh != token
    assert anon.post("/api/noauth/activate", {"activateToken": fresh, "password": "dave-pass-1"},
                     format="json").status_code == 200


@pytest.mark.parametrize("body, status, message", [
    ({"email": "not-an-email"}, 400, "Invalid email address format"),
    ({"email": None}, 400, "email should be specified"),
    ({"email": "alice@example.com"}, 400, "already present"),  # the tenant admin's own address
    ({"authority": "SYS_ADMIN"}, 403, "permission"),
    ({"authority": "KING"}, 400, "Unknown authority"),
    ({"customerId": None}, 400, "should be assigned to customer"),
    ({"customerId": {"id": "not-a-uuid"}}, 400, "Invalid customerId"),
    ({"firstName": ["x"]}, 400, "firstName must be a string"),
    ({"additionalInfo": [1]}, 400, "additionalInfo must be a JSON object"),
])
def test_bad_users_are_refused_and_nothing_is_saved(api, customer, body, status, message):
    before = UserRow.objects.count()
    assert_error(_new(api, customer, **body), status, message)
    assert UserRow.objects.count() == before and not CredentialsToken.objects.exists()


def test_another_tenants_users_and_customers_are_not_found(api, mallory_api, customer):
    assert_error(_new(mallory_api, customer), 404)  # a customer of another tenant
    victim = User.from_dict(_new(api, customer).json())
    for res in (mallory_api.get(f"/api/user/{victim.id.id}"),
                mallory_api.get(f"/api/user/{victim.id.id}/activationLink"),
                mallory_api.post(f"/api/user/{victim.id.id}/userCredentialsEnabled?userCredentialsEnabled=false"),
                mallory_api.delete(f"/api/user/{victim.id.id}"),
                mallory_api.post("/api/user", {**NEW, "id": {"entityType": "USER", "id": str(victim.id.id)},
                                               "email": "taken@over.com"}, format="json"),
                mallory_api.post("/api/user/sendActivationMail?email=dave@example.com")):
        assert_error(res, 404)
    row = UserRow.objects.get(pk=victim.id.id)
    assert row.email == "dave@example.com" and CredentialsToken.objects.filter(user=row).exists()


def test_a_tenant_admin_cannot_move_a_user_to_another_tenant(api, tenant_admin, other_tenant):
    body = api.get(f"/api/user/{tenant_admin.pk}").json()
    res = api.post("/api/user", {**body, "tenantId": {"entityType": "TENANT", "id": str(other_tenant.pk)}},
                   format="json")
    assert res.status_code == 200 and res.json()["tenantId"]["id"] == str(tenant_admin.tenant_id)
    assert UserRow.objects.get(pk=tenant_admin.pk).tenant_id == tenant_admin.tenant_id


def test_an_update_keeps_the_password_and_the_authority(api, anon, customer, customer_user):
    body = api.get(f"/api/user/{customer_user.pk}").json()
    res = api.post("/api/user", {**body, "firstName": "Caroline", "email": "caroline@example.com"}, format="json")
    assert res.status_code == 200 and res.json()["firstName"] == "Caroline"
    assert _login(anon, "caroline@example.com", "secret-pass-1").status_code == 200
    assert_error(api.post("/api/user", {**body, "authority": "TENANT_ADMIN"}, format="json"), 400, "authority")


def test_a_customer_user_edits_only_its_own_names(customer_api, customer_user, customer, tenant_admin):
    body = customer_api.get(f"/api/user/{customer_user.pk}").json()
    res = customer_api.post("/api/user", {**body, "lastName": "C."}, format="json")
    assert res.status_code == 200 and res.json()["lastName"] == "C."
    assert_error(customer_api.post("/api/user", {**body, "email": "new@example.com"}, format="json"), 403)
    assert_error(_new(customer_api, customer), 403)
    assert_error(customer_api.delete(f"/api/user/{customer_user.pk}"), 403)
    assert_error(customer_api.get(f"/api/user/{customer_user.pk}/activationLink"), 403)
    assert UserRow.objects.get(pk=customer_user.pk).email == customer_user.email


def test_disabled_credentials_stop_logins_and_tokens(api, anon, customer_user, customer_api):
    res = api.post(f"/api/user/{customer_user.pk}/userCredentialsEnabled?userCredentialsEnabled=false")
    assert res.status_code == 200
    assert_error(_login(anon, customer_user.email, "secret-pass-1"), 401)
    assert_error(customer_api.get("/api/auth/user"), 401)
    # still listed, shown as disabled (as ThingsBoard lists them)
    page = api.get("/api/user/users", {"pageSize": 10, "page": 0}).json()
    assert {u["email"]: u["additionalInfo"]["userCredentialsEnabled"] for u in page["data"]}[customer_user.email] \
        is False
    api.post(f"/api/user/{customer_user.pk}/userCredentialsEnabled?userCredentialsEnabled=true")
    assert _login(anon, customer_user.email, "secret-pass-1").status_code == 200
    assert_error(customer_api.get("/api/auth/user"), 401)  # the tokens of before the disable stay dead


def test_change_password_checks_the_current_one_and_answers_new_tokens(customer_api, anon, customer_user):
    assert_error(customer_api.post("/api/auth/changePassword", {"currentPassword": "wrong", "newPassword": "n-pass-1"},
                                   format="json"), 400, "Current password doesn't match")
    assert_error(customer_api.post("/api/auth/changePassword", {"currentPassword": "secret-pass-1",
                                                                "newPassword": "short"}, format="json"), 400)
    assert_error(customer_api.post("/api/auth/changePassword", {"currentPassword": "secret-pass-1",
                                                                "newPassword": "secret-pass-1"}, format="json"), 400,
                 "should be different")
    res = customer_api.post("/api/auth/changePassword", {"currentPassword": "secret-pass-1",
                                                         "newPassword": "n-pass-1"}, format="json")
    assert res.status_code == 200 and JwtPair.from_dict(res.json()).token
    assert_error(_login(anon, customer_user.email, "secret-pass-1"), 401)
    assert _login(anon, customer_user.email, "n-pass-1").status_code == 200


def test_password_reset_by_mail(anon, customer_user, mailoutbox):
    assert anon.post("/api/noauth/resetPasswordByEmail", {"email": "nobody@example.com"}, format="json").status_code \
        == 200
    assert mailoutbox == []  # the same answer, and no mail, for an address without an account
    assert anon.post("/api/noauth/resetPasswordByEmail", {"email": "CAROL@example.com"}, format="json").status_code \
        == 200
    [mail] = mailoutbox
    token = re.search(r"resetToken=([A-Za-z0-9]+)", mail.body).group(1)
    res = anon.get(f"/api/noauth/resetPassword?resetToken={token}")
    assert res.status_code == 303 and res["Location"] == f"/login/resetPassword?resetToken={token}"
    res = anon.post("/api/noauth/resetPassword", {"resetToken": token, "password": "reset-pass-1"}, format="json")
    assert res.status_code == 200 and res.json()["token"]
    assert _login(anon, customer_user.email, "reset-pass-1").status_code == 200
    assert_error(anon.post("/api/noauth/resetPassword", {"resetToken": token, "password": "again-pass-1"},
                           format="json"), 400, "Invalid reset token")
    assert anon.get("/api/noauth/resetPassword?resetToken=nope").status_code == 409


def test_delete_and_the_password_policy(api, anon, customer, sysadmin):
    user = _new(api, customer).json()
    assert api.delete(f"/api/user/{user['id']['id']}").status_code == 200
    assert_error(api.get(f"/api/user/{user['id']['id']}"), 404)
    assert not CredentialsToken.objects.exists()
    assert anon.get("/api/noauth/userPasswordPolicy").json()["minimumLength"] == 6
    from tbproject.testing.fixtures import api_as

    assert_error(api_as(sysadmin).delete(f"/api/user/{sysadmin.pk}"), 403, "not allowed to delete himself")


def test_a_system_administrator_creates_a_tenant_administrator(sysadmin, tenant, anon):
    from tbproject.testing.fixtures import api_as

    root = api_as(sysadmin)
    body = {"email": "admin2@example.com", "authority": "TENANT_ADMIN",
            "tenantId": {"entityType": "TENANT", "id": str(tenant.pk)}}
    res = root.post("/api/user?sendActivationMail=false", body, format="json")
    assert res.status_code == 200 and res.json()["tenantId"]["id"] == str(tenant.pk)
    assert_error(root.post("/api/user", {**body, "email": "x@example.com", "tenantId": None}, format="json"), 400,
                 "should be assigned to tenant")
    link = root.get(f"/api/user/{res.json()['id']['id']}/activationLink").content.decode()
    assert anon.post("/api/noauth/activate", {"activateToken": _token(link), "password": "admin-pass-2"},
                     format="json").status_code == 200
    assert UserRow.objects.get(email="admin2@example.com").authority == Authority.TENANT_ADMIN


def test_the_mail_failing_keeps_no_user(api, customer, settings):
    settings.PUBLIC_BASE_URL = "https://iot.example.com"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens on 9
    assert_error(_new(api, customer, send="true"), 500, "Unable to send mail")
    assert not UserRow.objects.filter(email="dave@example.com").exists()


def test_a_password_change_outdates_the_tokens_issued_before_it(customer_api, anon, customer_user, customer):
    """Even a token of the same second: each carries the credentials' version it was issued with."""
    from devices.tests.test_lean_attributes import both
    from tbproject.api import tokens
    from tbproject.testing.factories import make_device

    device = make_device(customer_user.tenant, "token-meter", customer=customer)
    old = tokens.issue_pair(customer_user)
    customer_api.credentials(HTTP_X_AUTHORIZATION=f"Bearer {old['token']}")
    assert customer_api.get("/api/auth/user").status_code == 200

    res = customer_api.post("/api/auth/changePassword", {"currentPassword": "secret-pass-1",
                                                         "newPassword": "n-pass-1"}, format="json")
    assert res.status_code == 200
    assert assert_error(customer_api.get("/api/auth/user"), 401)["errorCode"] == 11  # as an expired token
    assert assert_error(anon.post("/api/auth/token", {"refreshToken": old["refreshToken"]}, format="json"),
                        401)["errorCode"] == 11
    path = f"/api/plugins/telemetry/DEVICE/{device.pk}/SHARED_SCOPE"
    django, lean = both(customer_api, path, {"a": 1})  # the lean ASGI save path refuses it the same way
    assert django.status_code == lean.status_code == 401
    fresh = res.json()
    anon.credentials(HTTP_X_AUTHORIZATION=f"Bearer {fresh['token']}")
    assert anon.get("/api/auth/user").status_code == 200
    assert anon.post("/api/auth/token", {"refreshToken": fresh["refreshToken"]}, format="json").status_code == 200


def test_a_password_set_elsewhere_outdates_tokens_too(customer_user, customer_api):
    """The admin's password form and ``manage.py changepassword`` call set_password and save()."""
    import jwt

    from tbproject.api.tokens import issue_pair, outdated

    assert customer_api.get("/api/auth/user").status_code == 200
    before = customer_user.credentials_changed
    customer_user.set_password("admin-set-1")
    customer_user.save()
    stored = UserRow.objects.get(pk=customer_user.pk)
    assert stored.credentials_changed > before and outdated(stored, before)
    assert_error(customer_api.get("/api/auth/user"), 401)
    fresh = jwt.decode(issue_pair(stored)["token"], options={"verify_signature": False})
    assert not outdated(stored, fresh["cc"])


@pytest.mark.parametrize("path", ["activationLink", "activationLinkInfo"])
def test_both_activation_link_views_refuse_alike(api, mallory_api, customer_user, customer, path):
    assert_error(api.get(f"/api/user/{customer_user.pk}/{path}"), 400, "already activated")
    pending = _new(api, customer).json()["id"]["id"]
    assert_error(mallory_api.get(f"/api/user/{pending}/{path}"), 404)
    assert api.get(f"/api/user/{pending}/{path}").status_code == 200
