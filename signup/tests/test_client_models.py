"""The JSON tb_pe_client's models make (SignUpRequest, WebSelfRegistrationParams with V2CaptchaParams) is what the
endpoints read, and what they answer is what the models read back (SignUpResult, JwtPair); the admin never shows
the captcha secret."""

import uuid

from tb_pe_client.models.default_dashboard_params import DefaultDashboardParams
from tb_pe_client.models.domain_id import DomainId
from tb_pe_client.models.jwt_pair import JwtPair
from tb_pe_client.models.sign_up_field import SignUpField
from tb_pe_client.models.sign_up_request import SignUpRequest
from tb_pe_client.models.sign_up_result import SignUpResult
from tb_pe_client.models.v2_captcha_params import V2CaptchaParams
from tb_pe_client.models.web_self_registration_params import WebSelfRegistrationParams

from dashboards.models import Dashboard
from signup.models import SelfRegistration
from signup.tests.conftest import DOMAIN, PASSWORD, SECRET, TOKEN

URL = "/api/selfRegistration/selfRegistrationParams"


def _client_params(tenant) -> dict:
    board = Dashboard.objects.create(tenant=tenant, title="Welcome", configuration_text="{}")
    params = WebSelfRegistrationParams(
        type="WEB", enabled=True, title="Join us", domain_id=DomainId(entity_type="DOMAIN", id=str(uuid.uuid4())),
        captcha=V2CaptchaParams(version="v2", site_key="site", secret_key=SECRET),
        sign_up_fields=[SignUpField(id="EMAIL", label="E-mail", required=True),
                        SignUpField(id="PASSWORD", label="Password", required=True),
                        SignUpField(id="CITY", label="City", required=False)],
        customer_title_prefix="C-", default_dashboard=DefaultDashboardParams(id=str(board.pk), fullscreen=False))
    body = params.to_dict()
    body["domainName"] = DOMAIN  # no Domain entities here: the domain by its name
    return body


def test_the_clients_params_save_and_read_back(api, tenant):
    body = _client_params(tenant)
    assert body["captcha"]["secretKey"] == SECRET and body["signUpFields"][2]["id"] == "CITY"
    res = api.post(URL, body, format="json")
    assert res.status_code == 200, res.content
    back = WebSelfRegistrationParams.from_dict(res.json())
    assert back.domain_id.id == body["domainId"]["id"] and back.captcha.secret_key is None
    assert back.default_dashboard.id == body["defaultDashboard"]["id"]
    # saved again by its domainId alone, as the client round-trips it
    again = back.to_dict()
    assert "domainName" not in again
    assert api.post(URL, again, format="json").status_code == 200
    assert SelfRegistration.objects.get(tenant=tenant).captcha_secret_key == SECRET


def test_the_clients_sign_up_request_signs_up(api, anon, tenant, recaptcha, inbox):
    body = _client_params(tenant)
    body["captcha"]["secretKey"] = "alice-captcha-secret"
    assert api.post(URL, body, format="json").status_code == 200
    request = SignUpRequest(fields={"EMAIL": "frank@example.com", "PASSWORD": PASSWORD, "CITY": "Kyiv"},
                            recaptcha_response=TOKEN).to_dict()
    res = anon.post("/api/noauth/signup", request, format="json", HTTP_HOST=DOMAIN)
    assert res.status_code == 200, res.content
    assert SignUpResult(res.json()) == SignUpResult.SUCCESS
    from tenants.models import User

    user = User.objects.get(email="frank@example.com")
    assert user.customer.title == "C-frank@example.com" and user.customer.city == "Kyiv"
    pair = anon.post(f"/api/noauth/activateByEmailCode?emailCode={inbox.code('frank@example.com')}")
    assert JwtPair.from_dict(pair.json()).token


def test_the_admin_never_shows_the_captcha_secret(client, tenant_admin, api):
    from signup.tests.conftest import params_body

    assert api.post(URL, params_body(), format="json").status_code == 200
    row = SelfRegistration.objects.get()
    client.force_login(tenant_admin)
    for url in ("/admin/signup/selfregistration/", f"/admin/signup/selfregistration/{row.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200 and SECRET.encode() not in page.content


def _admin_form(row, **changes) -> dict:
    data = {"enabled": "on" if row.enabled else "", "domain_name": row.domain_name, "title": row.title,
            "captcha_version": row.captcha_version, "captcha_site_key": row.captcha_site_key, "captcha_secret_key": "",
            "captcha_action": "", "notification_email": "", "sign_up_fields": "[]", "customer_title_prefix": "P-",
            "permissions": "[]", "default_dashboard": "", "home_dashboard": "", "privacy_policy": "",
            "terms_of_use": "", "additional_info": "{}", "domain_id": "", "notification_recipient_id": "",
            "customer_group_id": "", "custom_menu_id": ""}
    data.update(changes)
    return data


def test_the_admin_keeps_the_secret_when_left_empty_and_checks_the_json_fields(client, tenant_admin, api):
    from signup.tests.conftest import params_body

    assert api.post(URL, params_body(), format="json").status_code == 200
    row = SelfRegistration.objects.get()
    client.force_login(tenant_admin)
    url = f"/admin/signup/selfregistration/{row.pk}/change/"
    res = client.post(url, _admin_form(row))
    assert res.status_code == 302, res.content.decode()[-3000:]
    row.refresh_from_db()
    assert row.captcha_secret_key == SECRET and row.customer_title_prefix == "P-"
    bad = client.post(url, _admin_form(row, sign_up_fields='[{"id": "NICK"}]', domain_name="http://x"))
    assert bad.status_code == 200 and b"Unknown sign-up field" in bad.content and b"Invalid domain name" in bad.content
    row.refresh_from_db()
    assert row.domain_name == DOMAIN
