"""The tenant's self-registration parameters at ThingsBoard's paths, in the shape tb_pe_client reads; the captcha
secret is write-only; the noauth form, privacy policy and terms of use of a domain; who may do what."""

import pytest
from tb_pe_client.models.self_registration_params import SelfRegistrationParams
from tb_pe_client.models.sign_up_self_registration_params import SignUpSelfRegistrationParams
from tb_pe_client.models.web_self_registration_params import WebSelfRegistrationParams

from dashboards.models import Dashboard
from devices.models import EntityGroup
from roles.models import Role
from signup.tests.conftest import DOMAIN, SECRET, params_body
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

URL = "/api/selfRegistration/selfRegistrationParams"


def test_it_saves_reads_and_deletes_the_params_in_thingsboards_shape(api, tenant):
    assert api.get(URL).content == b"null"
    role = Role.objects.create(tenant=tenant, name="Signed-up", type="GENERIC", permissions={"DEVICE": ["READ"]})
    board = Dashboard.objects.create(tenant=tenant, title="Welcome", configuration_text="{}")
    body = params_body(permissions=[{"roleId": {"entityType": "ROLE", "id": str(role.pk)}}],
                       defaultDashboard={"id": str(board.pk), "fullscreen": True}, showPrivacyPolicy=True,
                       privacyPolicy="<p>We keep your e-mail.</p>", signUpFields=[
                           {"id": "EMAIL", "label": "E-mail", "required": True},
                           {"id": "PASSWORD", "label": "Password", "required": True},
                           {"id": "PHONE", "label": "Phone", "required": True}])
    saved = api.post(URL, body, format="json")
    assert saved.status_code == 200, saved.content
    data = saved.json()
    assert SECRET not in saved.content.decode()
    assert data["domainName"] == DOMAIN and data["domainId"]["entityType"] == "DOMAIN"
    assert data["captcha"] == {"version": "v2", "siteKey": "alice-site-key", "logActionName": None}
    assert data["permissions"][0]["roleId"] == {"entityType": "ROLE", "id": str(role.pk)}
    assert data["defaultDashboard"] == {"id": str(board.pk), "fullscreen": True}
    assert [f["id"] for f in data["signUpFields"]] == ["EMAIL", "PASSWORD", "PHONE"]
    web = WebSelfRegistrationParams.from_dict(data)
    assert web.customer_title_prefix == "Self: " and type(web.captcha).__name__ == "V2CaptchaParams"
    assert isinstance(SelfRegistrationParams.from_dict(api.get(URL).json()), WebSelfRegistrationParams)
    assert api.get(URL).json() == data

    # a save without the secret keeps it: the client posts back what it read
    again = api.post(URL, {**data, "title": "New text"}, format="json")
    assert again.status_code == 200, again.content
    from signup.models import SelfRegistration

    row = SelfRegistration.objects.get(tenant=tenant)
    assert row.captcha_secret_key == SECRET and row.title == "New text"

    assert api.delete(URL).status_code == 200
    assert api.get(URL).content == b"null"


def test_the_noauth_endpoints_answer_for_the_domain_reached(anon, api):
    body = params_body(showPrivacyPolicy=True, privacyPolicy="<b>privacy</b>", showTermsOfUse=True,
                       termsOfUse="terms")
    assert api.post(URL, body, format="json").status_code == 200
    form = anon.get("/api/noauth/selfRegistration/signUpSelfRegistrationParams", HTTP_HOST=DOMAIN)
    parsed = SignUpSelfRegistrationParams.from_dict(form.json())
    assert parsed.show_privacy_policy is True and parsed.title == "Sign up to Alice IoT"
    assert SECRET not in form.content.decode()
    assert anon.get("/api/noauth/selfRegistration/privacyPolicy", HTTP_HOST=DOMAIN).json() == "<b>privacy</b>"
    assert anon.get("/api/noauth/selfRegistration/termsOfUse", HTTP_HOST=f"{DOMAIN}:443").json() == "terms"
    assert anon.get("/api/noauth/selfRegistration/termsOfUse", HTTP_HOST="other.example").json() == ""
    assert_error(anon.get("/api/noauth/login", {"pkgName": "x", "platform": "ANDROID"}), 404)


def test_only_tenant_administrators_manage_the_params(customer_user, sysadmin, anon):
    for client in (api_as(customer_user), api_as(sysadmin)):
        assert_error(client.get(URL), 403)
        assert_error(client.post(URL, params_body(), format="json"), 403)
    assert anon.get(URL).status_code == 401


def test_a_restricted_tenant_administrator_needs_white_labeling(tenant):
    from roles.models import GroupPermission
    from tenants.models import User

    role = Role.objects.create(tenant=tenant, name="Devices only", type="GENERIC", permissions={"DEVICE": ["ALL"]})
    group = EntityGroup.objects.create(tenant=tenant, name="Restricted", type="USER")
    GroupPermission.objects.create(tenant=tenant, user_group=group, role=role)
    bob = User.objects.create_user("bob@example.com", "x", authority="TENANT_ADMIN", tenant=tenant)
    bob.entity_groups.set([group])
    assert_error(api_as(bob).get(URL), 403)


def test_another_tenants_roles_dashboards_and_groups_are_not_found(api, other_tenant):
    role = Role.objects.create(tenant=other_tenant, name="Theirs", type="GENERIC", permissions={})
    board = Dashboard.objects.create(tenant=other_tenant, title="Theirs", configuration_text="{}")
    group = EntityGroup.objects.create(tenant=other_tenant, name="Theirs", type="DEVICE")
    grole = Role.objects.create(tenant=other_tenant, name="Theirs g", type="GROUP", permissions=["READ"])
    for extra in ({"permissions": [{"roleId": str(role.pk)}]}, {"defaultDashboard": {"id": str(board.pk)}},
                  {"homeDashboardId": str(board.pk)}, {"customerGroupId": str(group.pk)},
                  {"permissions": [{"roleId": str(grole.pk), "entityGroupId": str(group.pk)}]}):
        assert_error(api.post(URL, params_body(**extra), format="json"), 404)
    assert api.get(URL).content == b"null"


def test_a_domain_belongs_to_one_tenant(api, mallory_api):
    assert api.post(URL, params_body(), format="json").status_code == 200
    assert_error(mallory_api.post(URL, params_body(domainName=DOMAIN.upper()), format="json"), 400, "is used by")
    assert mallory_api.get(URL).content == b"null"


@pytest.mark.parametrize("extra, message", [
    ({"domainName": None}, "Domain name should be specified"),
    ({"domainName": "https://iot.alice.example/x"}, "Invalid domain name"),
    ({"domainName": "iot.alice.example:8080"}, "Invalid domain name"),
    ({"type": "MOBILE"}, "Only WEB"),
    ({"captcha": {"version": "v2", "siteKey": ""}}, "secret key should be specified"),
    ({"captcha": {"version": "enterprise", "siteKey": "k", "secretKey": "s"}}, "not supported"),
    ({"captcha": "v2"}, "captcha must be a JSON object"),
    ({"enabled": "yes"}, "enabled must be true or false"),
    ({"signUpFields": [{"id": "EMAIL", "label": "E"}]}, "must include EMAIL and PASSWORD"),
    ({"signUpFields": [{"id": "NICKNAME", "label": "N"}]}, "Unknown sign-up field"),
    ({"signUpFields": [{"id": "EMAIL"}, {"id": "EMAIL"}, {"id": "PASSWORD"}]}, "listed twice"),
    ({"permissions": [{"roleId": "not-a-uuid"}]}, "Invalid roleId"),
    ({"permissions": [{}]}, "role should be specified"),
    ({"permissions": "all"}, "permissions must be a list"),
    ({"notificationEmail": "nobody"}, "Invalid email"),
    ({"customerTitlePrefix": "x" * 200}, "longer than"),
    ({"defaultDashboard": "x"}, "must be a JSON object"),
])
def test_bad_params_are_a_clear_400_and_keep_what_was_stored(api, extra, message):
    assert api.post(URL, params_body(), format="json").status_code == 200
    before = api.get(URL).json()
    body = {**params_body(), **extra}
    if extra.get("domainName", "") is None:
        body.pop("domainName")
    assert_error(api.post(URL, body, format="json"), 400, message)
    assert api.get(URL).json() == before


def test_a_first_save_needs_the_captcha_secret_key(api):
    assert_error(api.post(URL, params_body(captcha={"version": "v2", "siteKey": "k"}), format="json"), 400,
                 "secret key should be specified")
    assert api.get(URL).content == b"null"


def test_a_group_role_needs_an_entity_group_and_a_generic_one_none(api, tenant):
    grole = Role.objects.create(tenant=tenant, name="G", type="GROUP", permissions=["READ"])
    role = Role.objects.create(tenant=tenant, name="R", type="GENERIC", permissions={})
    group = EntityGroup.objects.create(tenant=tenant, name="D", type="DEVICE")
    assert_error(api.post(URL, params_body(permissions=[{"roleId": str(grole.pk)}]), format="json"), 400,
                 "needs an entity group")
    assert_error(api.post(URL, params_body(permissions=[{"roleId": str(role.pk), "entityGroupId": str(group.pk)}]),
                          format="json"), 400, "without an entity group")


def test_the_legacy_3x_names_are_read(api):
    body = {"domainName": "legacy.example", "captchaSiteKey": "k", "captchaSecretKey": "s",
            "signUpTextMessage": "Hello", "notificationEmail": "ops@example.com"}
    data = api.post(URL, body, format="json").json()
    assert data["title"] == "Hello" and data["captchaSiteKey"] == "k" and data["notificationEmail"] == "ops@example.com"
    assert "s" not in (data["captcha"].get("secretKey"), data.get("captchaSecretKey"))


def test_accepting_the_privacy_policy_and_terms_of_use(customer_user, tenant, customer):
    from signup.models import SignUp

    client = api_as(customer_user)
    assert client.get("/api/signup/privacyPolicyAccepted").json() is True  # did not sign up: nothing to accept
    SignUp.objects.create(tenant=tenant, user=customer_user, customer=customer)
    assert client.get("/api/signup/privacyPolicyAccepted").json() is False
    assert client.get("/api/signup/termsOfUseAccepted").json() is False
    pair = client.post("/api/signup/acceptPrivacyPolicy")
    assert pair.status_code == 200 and "token" in pair.json()
    assert client.get("/api/signup/privacyPolicyAccepted").json() is True
    assert client.get("/api/signup/termsOfUseAccepted").json() is False
    assert client.post("/api/signup/acceptTermsOfUse").status_code == 200
    assert client.get("/api/signup/termsOfUseAccepted").json() is True
    assert_error(api_as(None).get("/api/signup/termsOfUseAccepted"), 401)
