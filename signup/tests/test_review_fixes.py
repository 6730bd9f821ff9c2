"""What a review found: the mailed link never follows the caller's Host, the policy acceptance never turns an API key
(or a repeated call) into a new JwtPair, granting roles at sign-up needs the rights to grant them, a sign-up code is
no administrator's invitation, and an activation code is used once."""

import json

import pytest
from rest_framework.test import APIClient

from devices.models import EntityGroup
from roles import enforcement
from roles.models import GroupPermission, Role
from signup import services
from signup.models import SelfRegistration, SignUp
from signup.tests.conftest import DOMAIN, PASSWORD, params_body, sign_up
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.accounts import AccountError
from tenants.models import CredentialsToken, User

URL = "/api/selfRegistration/selfRegistrationParams"
LINK = f"https://{DOMAIN}/api/noauth/activateEmail?emailCode="


# 1. the activation link --------------------------------------------------------------------------------------------
def test_a_forged_host_on_resend_never_gets_the_link(anon, registration, recaptcha, inbox):
    assert sign_up(anon).json() == "SUCCESS"
    for host in ("evil.example", f"{DOMAIN}:31337"):
        assert anon.post("/api/noauth/resendEmailActivation?email=dave@example.com", HTTP_HOST=host).status_code == 200
    texts = inbox.to("dave@example.com")
    assert texts and not any("evil.example" in t or "31337" in t for t in texts)
    assert all(LINK in t for t in texts)


def test_the_sign_up_link_keeps_no_port_of_the_request(anon, registration, recaptcha, inbox):
    assert sign_up(anon, host=f"{DOMAIN}:31337").json() == "SUCCESS"
    [text] = inbox.to("dave@example.com")
    assert LINK in text and "31337" not in text


def test_the_links_scheme_is_the_configured_base_urls(anon, registration, recaptcha, inbox, settings):
    settings.PUBLIC_BASE_URL = "http://iot.example.org:8080"
    assert sign_up(anon).json() == "SUCCESS"
    [text] = inbox.to("dave@example.com")
    assert f"http://{DOMAIN}/api/noauth/activateEmail?emailCode=" in text


# 2. accepting the policies -----------------------------------------------------------------------------------------
@pytest.fixture
def signed_up(tenant, customer, customer_user):
    SignUp.objects.create(tenant=tenant, user=customer_user, customer=customer)
    return customer_user


def test_an_api_key_gets_no_jwt_pair_from_accepting(api, signed_up):
    from tenants.system import api_keys

    _, value = api_keys.create(signed_up, {"description": "ci"})
    by_key = APIClient()
    by_key.credentials(HTTP_X_AUTHORIZATION=f"ApiKey {value}")
    assert by_key.get("/api/signup/privacyPolicyAccepted").status_code == 200
    assert_error(by_key.post("/api/signup/acceptPrivacyPolicy"), 403)
    assert User.objects.get(pk=signed_up.pk).additional_info.get("privacyPolicyAccepted") is None


def test_a_session_and_a_system_administrator_get_no_pair(client, signed_up, sysadmin):
    client.force_login(signed_up)
    assert client.post("/api/signup/acceptTermsOfUse").status_code == 403
    assert_error(api_as(sysadmin).post("/api/signup/acceptTermsOfUse"), 403)


def test_accepting_again_issues_no_new_pair(signed_up):
    client = api_as(signed_up)
    first = client.post("/api/signup/acceptPrivacyPolicy")
    assert first.status_code == 200 and {"token", "refreshToken"} <= set(first.json())
    again = client.post("/api/signup/acceptPrivacyPolicy")
    assert again.status_code == 200 and "token" not in again.json() and "refreshToken" not in again.json()


# 3. granting roles at sign-up --------------------------------------------------------------------------------------
def _restricted_admin(tenant, permissions):
    role = Role.objects.create(tenant=tenant, name="Branding only", type="GENERIC", permissions=permissions)
    group = EntityGroup.objects.create(tenant=tenant, name="Branding", type="USER")
    GroupPermission.objects.create(tenant=tenant, user_group=group, role=role)
    bob = User.objects.create_user("bob@example.com", "x", authority="TENANT_ADMIN", tenant=tenant)
    bob.entity_groups.set([group])
    return bob


def _grant(tenant) -> list:
    role = Role.objects.create(tenant=tenant, name="Everything", type="GROUP", permissions=["ALL"])
    devices = EntityGroup.objects.create(tenant=tenant, name="All my devices", type="DEVICE")
    return [{"roleId": {"entityType": "ROLE", "id": str(role.pk)},
             "entityGroupId": {"entityType": "ENTITY_GROUP", "id": str(devices.pk)}}]


def test_white_labeling_alone_grants_no_roles_at_sign_up(tenant, api):
    bob = api_as(_restricted_admin(tenant, {"WHITE_LABELING": ["ALL"]}))
    grants = _grant(tenant)
    assert_error(bob.post(URL, params_body(permissions=grants), format="json"), 403)
    assert not SelfRegistration.objects.exists()
    assert bob.post(URL, params_body(), format="json").status_code == 200  # no roles granted: white labeling
    assert api.post(URL, params_body(permissions=grants), format="json").status_code == 200
    assert_error(bob.post(URL, params_body(), format="json"), 403)  # nor taking them away
    assert len(SelfRegistration.objects.get().permissions) == 1


def test_group_permission_write_and_role_read_grant_roles(tenant):
    bob = api_as(_restricted_admin(tenant, {"WHITE_LABELING": ["ALL"], "GROUP_PERMISSION": ["WRITE"],
                                            "ROLE": ["READ"]}))
    assert bob.post(URL, params_body(permissions=_grant(tenant)), format="json").status_code == 200


def test_the_admin_form_needs_the_same_rights(tenant, api):
    from signup.admin import SelfRegistrationForm
    from signup.tests.test_client_models import _admin_form

    assert api.post(URL, params_body(), format="json").status_code == 200
    row = SelfRegistration.objects.get()
    bob = _restricted_admin(tenant, {"WHITE_LABELING": ["ALL"]})
    grants = [{"roleId": g["roleId"]["id"], "entityGroupId": g["entityGroupId"]["id"]} for g in _grant(tenant)]
    form_class = type("Form", (SelfRegistrationForm,), {"admin_user": bob})
    form = form_class(_admin_form(row, permissions=json.dumps(grants)), instance=row)
    assert not form.is_valid() and "permission" in str(form.errors)
    form = form_class(_admin_form(row), instance=SelfRegistration.objects.get())
    assert form.is_valid(), form.errors


# 4. a sign-up code is no invitation --------------------------------------------------------------------------------
def test_a_sign_up_code_does_not_activate_at_the_invitation_endpoint(anon, registration, recaptcha, inbox):
    sign_up(anon)
    code = inbox.code("dave@example.com")
    res = anon.post("/api/noauth/activate", {"activateToken": code, "password": "Other-pass-2"}, format="json")
    assert_error(res, 400)
    user = User.objects.get(email="dave@example.com")
    assert not user.is_active and user.check_password(PASSWORD)
    assert services.is_pending(code)


# 5. lesser ---------------------------------------------------------------------------------------------------------
def test_a_code_used_meanwhile_activates_once(anon, registration, recaptcha, inbox, monkeypatch):
    sign_up(anon)
    code = inbox.code("dave@example.com")
    found = services._pending

    def raced(value):  # another request activated with the same code between the check and the write
        row, record = found(value)
        CredentialsToken.objects.filter(pk=row.pk).delete()
        return row, record

    monkeypatch.setattr(services, "_pending", raced)
    with pytest.raises(AccountError):
        services.activate(code)


def test_resend_never_enables_an_account_an_administrator_disabled(api, anon, registration, recaptcha, inbox):
    sign_up(anon)
    user = User.objects.get(email="dave@example.com")
    assert api.post(f"/api/user/{user.pk}/userCredentialsEnabled?userCredentialsEnabled=true").status_code == 200
    assert api.post(f"/api/user/{user.pk}/userCredentialsEnabled?userCredentialsEnabled=false").status_code == 200
    before = len(inbox.to("dave@example.com"))
    assert anon.post("/api/noauth/resendEmailActivation?email=dave@example.com", HTTP_HOST=DOMAIN).status_code == 200
    assert len(inbox.to("dave@example.com")) == before
    assert not User.objects.get(pk=user.pk).is_active


def test_only_the_sign_up_routes_named_are_open():
    for name in ("signup-accept-privacy-policy", "signup-accept-terms-of-use", "signup-privacy-policy-accepted",
                 "signup-terms-of-use-accepted"):
        assert enforcement.is_open(name)
    assert not enforcement.is_open("signup-anything-else")
