"""The whole sign-up: the form of the domain, the sign-up (reCAPTCHA at the mocked cloud), the activation mail
through a real SMTP server, the activation by its link, the login."""

from devices.models import EntityGroup
from roles.models import GroupPermission, Role
from signup.models import SignUp
from signup.tests.conftest import DOMAIN, PASSWORD, SECRET, TOKEN, params_body, sign_up
from tbproject.testing.api import assert_error
from tenants.models import Customer, User


def _login(anon, email=("dave@example.com"), password=PASSWORD):
    return anon.post("/api/auth/login", {"username": email, "password": password}, format="json")


def test_it_signs_up_mails_the_link_activates_and_logs_in(anon, tenant, registration, recaptcha, inbox):
    form = anon.get("/api/noauth/selfRegistration/signUpSelfRegistrationParams", HTTP_HOST=DOMAIN).json()
    assert form["captcha"] == {"version": "v2", "siteKey": "alice-site-key", "logActionName": None}
    assert form["title"] == "Sign up to Alice IoT" and {f["id"] for f in form["fields"]} >= {"EMAIL", "PASSWORD"}
    assert SECRET not in str(form)

    res = sign_up(anon, ip="203.0.113.7")
    assert res.status_code == 200, res.content
    assert res.json() == "SUCCESS"
    [check] = recaptcha.requests
    assert check["secret"] == SECRET and check["response"] == TOKEN and check["remoteip"] == "203.0.113.7"
    assert check["content_type"] == "application/x-www-form-urlencoded"

    user = User.objects.get(email="dave@example.com")
    assert not user.is_active and user.authority == "CUSTOMER_USER" and user.first_name == "Dave"
    assert user.customer.title == "Self: dave@example.com" and user.customer.tenant_id == tenant.pk
    assert_error(_login(anon), 401)  # not active until the mail's link is followed

    [text] = inbox.to("dave@example.com")
    assert f"https://{DOMAIN}/api/noauth/activateEmail?emailCode=" in text  # the domain, never the Host
    code = inbox.code("dave@example.com")
    res = anon.get("/api/noauth/activateEmail", {"emailCode": code}, HTTP_HOST=DOMAIN)
    assert res.status_code == 303 and res["Location"] == f"/signup/emailVerified?emailCode={code}"

    pair = anon.post(f"/api/noauth/activateByEmailCode?emailCode={code}", HTTP_HOST=DOMAIN)
    assert pair.status_code == 200, pair.content
    assert set(pair.json()) >= {"token", "refreshToken"}
    me = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {pair.json()['token']}")
    assert me.json()["email"] == "dave@example.com"
    assert _login(anon).status_code == 200
    assert SignUp.objects.get(user=user).activated_time is not None
    assert inbox.to("dave@example.com")[-1].count("Your account is active")

    # the link is used up
    assert anon.get("/api/noauth/activateEmail", {"emailCode": code}).status_code == 409
    assert_error(anon.post(f"/api/noauth/activateByEmailCode?emailCode={code}"), 400, "Invalid activation code")


def test_the_mail_link_page_activates_on_a_click_not_on_the_fetch(client, anon, registration, recaptcha, inbox):
    sign_up(anon)
    code = inbox.code("dave@example.com")
    page = client.get(f"/signup/emailVerified?emailCode={code}")
    assert page.status_code == 200 and b"Activate my account" in page.content
    assert not User.objects.get(email="dave@example.com").is_active
    done = client.post(f"/signup/emailVerified?emailCode={code}")
    assert b"Your account is active" in done.content
    assert User.objects.get(email="dave@example.com").is_active
    assert b"not valid" in client.get(f"/signup/emailVerified?emailCode={code}").content


def test_the_new_user_joins_its_customers_user_group_with_the_configured_permissions(
        api, anon, tenant, recaptcha, inbox):
    role = Role.objects.create(tenant=tenant, name="Signed-up", type="GENERIC", permissions={"DEVICE": ["READ"]})
    group_role = Role.objects.create(tenant=tenant, name="Group reader", type="GROUP", permissions=["READ"])
    devices = EntityGroup.objects.create(tenant=tenant, name="Demo devices", type="DEVICE")
    body = params_body(permissions=[{"roleId": {"entityType": "ROLE", "id": str(role.pk)}},
                                    {"roleId": {"entityType": "ROLE", "id": str(group_role.pk)},
                                     "entityGroupId": {"entityType": "ENTITY_GROUP", "id": str(devices.pk)}}])
    assert api.post("/api/selfRegistration/selfRegistrationParams", body, format="json").status_code == 200
    assert sign_up(anon).json() == "SUCCESS"
    user = User.objects.get(email="dave@example.com")
    [group] = [g for g in user.entity_groups.all() if g.name.startswith("Customer Users")]
    assert group.tenant_id == tenant.pk and group.type == "USER"
    if hasattr(group, "customer_id"):
        assert group.customer_id == user.customer_id
    grants = {(p.role_id, p.entity_group_id) for p in GroupPermission.objects.filter(user_group=group)}
    assert {(role.pk, None), (group_role.pk, devices.pk)} <= grants


def test_default_and_home_dashboards_go_to_the_users_additional_info(api, anon, tenant, recaptcha, inbox):
    from dashboards.models import Dashboard

    board = Dashboard.objects.create(tenant=tenant, title="Welcome", configuration_text="{}")
    body = params_body(defaultDashboard={"id": str(board.pk), "fullscreen": True},
                       homeDashboard={"id": str(board.pk), "hideToolbar": True})
    assert api.post("/api/selfRegistration/selfRegistrationParams", body, format="json").status_code == 200
    sign_up(anon)
    info = User.objects.get(email="dave@example.com").additional_info
    assert info["defaultDashboardId"] == str(board.pk) and info["defaultDashboardFullscreen"] is True
    assert info["homeDashboardId"] == str(board.pk) and info["homeDashboardHideToolbar"] is True


def test_signing_up_again_before_activating_answers_inactive_user_exists_and_resend_mails_a_new_code(
        anon, registration, recaptcha, inbox):
    assert sign_up(anon).json() == "SUCCESS"
    first = inbox.code("dave@example.com")
    assert sign_up(anon).json() == "INACTIVE_USER_EXISTS"
    assert len(inbox.to("dave@example.com")) == 1 and Customer.objects.filter(email="dave@example.com").count() == 1
    res = anon.post("/api/noauth/resendEmailActivation?email=dave@example.com", HTTP_HOST=DOMAIN)
    assert res.status_code == 200
    second = inbox.code("dave@example.com")
    assert second != first
    assert_error(anon.post(f"/api/noauth/activateByEmailCode?emailCode={first}"), 400)
    assert anon.post(f"/api/noauth/activateByEmailCode?emailCode={second}").status_code == 200


def test_resend_answers_the_same_for_unknown_and_active_addresses_and_mails_nothing(
        anon, tenant_admin, registration, inbox):
    for email in ("nobody@example.com", tenant_admin.email):
        assert anon.post(f"/api/noauth/resendEmailActivation?email={email}", HTTP_HOST=DOMAIN).status_code == 200
    assert inbox.messages == []
    assert_error(anon.post("/api/noauth/resendEmailActivation", HTTP_HOST=DOMAIN), 400, "email is required")


def test_the_tenant_is_told_of_a_new_sign_up(api, anon, recaptcha, inbox, django_capture_on_commit_callbacks):
    body = params_body(notificationEmail="ops@alice.example")
    assert api.post("/api/selfRegistration/selfRegistrationParams", body, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(anon)
    [notice] = inbox.to("ops@alice.example")
    assert "dave@example.com" in notice


def test_the_legacy_sign_up_request_shape_is_accepted(anon, registration, recaptcha, inbox):
    body = {"email": "erin@example.com", "password": PASSWORD, "firstName": "Erin", "lastName": "E",
            "recaptchaResponse": TOKEN}
    assert sign_up(anon, body).json() == "SUCCESS"
    user = User.objects.get(email="erin@example.com")
    assert user.first_name == "Erin" and user.check_password(PASSWORD)
    assert_error(sign_up(anon, {**body, "email": "fay@example.com", "password": "x"}), 400, "characters in length")
