"""White labeling params: ThingsBoard's JSON round trip, the merge across levels, who may change what."""

import pytest
from tb_pe_client.models import LoginWhiteLabelingParams, WhiteLabelingParams

from branding.models import WhiteLabeling
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db

BLUE = {"type": "custom", "extends": "blue", "colors": {"500": "#1565c0"}}
TENANT_PARAMS = WhiteLabelingParams.from_dict({
    "logoImageUrl": "tb-image;/api/images/tenant/logo.png", "logoImageHeight": 42, "appTitle": "Acme IoT",
    "favicon": {"url": "https://cdn.example.com/favicon.ico"}, "paletteSettings": {"primaryPalette": BLUE,
                                                                                   "accentPalette": {"type": "red"}},
    "helpLinkBaseUrl": "https://help.example.com", "enableHelpLinks": False, "showNameVersion": True,
    "platformName": "Acme", "platformVersion": "1.0", "customCss": ".a { color: red; }",
    "hideConnectivityDialog": True,
}).to_dict()


@pytest.fixture
def sys_api(sysadmin):
    return api_as(sysadmin)


def _save(client, body, url="/api/whiteLabel/whiteLabelParams", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{url}{'?' + query if query else ''}", body, format="json")


def test_it_round_trips_the_tenant_params_in_thingsboards_json(api):
    res = _save(api, TENANT_PARAMS)
    assert res.status_code == 200, res.content
    saved = WhiteLabelingParams.from_dict(res.json())
    assert saved.app_title == "Acme IoT" and saved.logo_image_height == 42
    assert saved.palette_settings.primary_palette.colors == {"500": "#1565c0"}
    current = api.get("/api/whiteLabel/currentWhiteLabelParams").json()
    assert set(current) == set(WhiteLabelingParams.model_fields[name].serialization_alias or name
                               for name in WhiteLabelingParams.model_fields)
    assert current["logoImageUrl"] == "tb-image;/api/images/tenant/logo.png"  # kept as the string sent
    assert current["customCss"] == ".a { color: red; }"


def test_it_merges_system_tenant_and_customer(sys_api, api, tenant_admin, customer_user, customer):
    assert _save(sys_api, {"appTitle": "Platform", "platformName": "TB", "showNameVersion": False,
                           "customCss": "body{}", "helpLinkBaseUrl": "https://sys.example.com"}).status_code == 200
    assert _save(api, {"appTitle": "Acme IoT", "customCss": ".t{}"}).status_code == 200
    assert _save(api, {"logoImageUrl": "https://c.example.com/l.png", "logoImageHeight": 10},
                 customerId=customer.pk).status_code == 200
    tenant_view = api.get("/api/whiteLabel/whiteLabelParams").json()
    assert tenant_view["appTitle"] == "Acme IoT" and tenant_view["helpLinkBaseUrl"] == "https://sys.example.com"
    assert tenant_view["customCss"] == "body{}\n.t{}" and tenant_view["logoImageUrl"] is None
    seen = api_as(customer_user).get("/api/whiteLabel/whiteLabelParams").json()
    assert seen["appTitle"] == "Acme IoT" and seen["logoImageUrl"] == "https://c.example.com/l.png"
    assert seen["logoImageHeight"] == 10 and seen["platformName"] == "TB"
    # the level's own params are not merged
    own = api.get(f"/api/whiteLabel/currentWhiteLabelParams?customerId={customer.pk}").json()
    assert own["appTitle"] is None and own["logoImageUrl"] == "https://c.example.com/l.png"
    assert api.get("/api/whiteLabel/currentWhiteLabelParams").json()["helpLinkBaseUrl"] is None


def test_it_drops_a_tenant_that_may_not_white_label_from_the_merge(sys_api, api, tenant):
    _save(sys_api, {"appTitle": "Platform"})
    _save(api, {"appTitle": "Acme IoT"})
    tenant.additional_info = {"allowWhiteLabeling": False}
    tenant.save()
    assert api.get("/api/whiteLabel/whiteLabelParams").json()["appTitle"] == "Platform"
    assert_error(_save(api, {"appTitle": "Again"}), 403)
    assert api.get("/api/whiteLabel/isWhiteLabelingAllowed").json() is False


def test_it_lets_no_customer_user_change_params(api, customer_user, customer):
    _save(api, {"appTitle": "Acme IoT"})
    client = api_as(customer_user)
    before = list(WhiteLabeling.objects.values_list("settings", flat=True))
    assert_error(_save(client, {"appTitle": "Hijacked"}), 403)
    assert_error(_save(client, {"appTitle": "Hijacked"}, customerId=customer.pk), 403)
    assert_error(client.delete("/api/whiteLabel/currentWhiteLabelParams"), 403)
    assert_error(_save(client, {"appTitle": "x"}, url="/api/whiteLabel/loginWhiteLabelParams"), 403)
    other = make_customer(customer.tenant, "Customer B")
    assert_error(_save(client, {"appTitle": "x"}, customerId=other.pk), 403)
    assert list(WhiteLabeling.objects.values_list("settings", flat=True)) == before
    assert client.get("/api/whiteLabel/isWhiteLabelingAllowed").json() is False
    assert_error(client.get("/api/whiteLabel/isCustomerWhiteLabelingAllowed"), 403)


def test_it_lets_a_customer_user_with_the_write_right_brand_its_customer_only(api, tenant, customer_user):
    from roles.models import Role

    Role.objects.filter(tenant=tenant, name="Customer User").update(permissions={"ALL": ["ALL"]})
    client = api_as(customer_user)
    assert _save(client, {"appTitle": "Carol's"}).status_code == 200
    assert api.get("/api/whiteLabel/whiteLabelParams").json()["appTitle"] is None  # the tenant's: unchanged
    assert client.get("/api/whiteLabel/whiteLabelParams").json()["appTitle"] == "Carol's"
    tenant.additional_info = {"allowCustomerWhiteLabeling": False}
    tenant.save()
    assert_error(_save(client, {"appTitle": "again"}), 403)
    assert client.get("/api/whiteLabel/whiteLabelParams").json()["appTitle"] is None
    assert api.get("/api/whiteLabel/isCustomerWhiteLabelingAllowed").json() is False


def test_it_answers_404_for_a_customer_of_another_tenant(api, mallory_api, customer):
    _save(api, {"appTitle": "Mine"}, customerId=customer.pk)
    assert_error(_save(mallory_api, {"appTitle": "x"}, customerId=customer.pk), 404)
    assert_error(mallory_api.get(f"/api/whiteLabel/currentWhiteLabelParams?customerId={customer.pk}"), 404)
    assert_error(mallory_api.delete(f"/api/whiteLabel/currentWhiteLabelParams?customerId={customer.pk}"), 404)
    assert WhiteLabeling.objects.get(customer=customer).settings == {"appTitle": "Mine"}
    assert_error(api.get("/api/whiteLabel/currentWhiteLabelParams?customerId=not-a-uuid"), 400)


@pytest.mark.parametrize("body, message", [
    ({"appTitle": 5}, "appTitle"),
    ({"logoImageHeight": "tall"}, "logoImageHeight"),
    ({"logoImageUrl": "javascript:alert(1)"}, "logoImageUrl"),
    ({"favicon": {"url": "data:text/html,<script>alert(1)</script>"}}, "favicon.url"),
    ({"paletteSettings": {"primaryPalette": {"colors": {}}}}, "primaryPalette"),
    ({"paletteSettings": {"primaryPalette": {"type": "blue"}}}, "accentPalette"),
    ({"helpLinkBaseUrl": "javascript:alert(1)"}, "helpLinkBaseUrl"),
    ([1, 2], "JSON object"),
])
def test_it_refuses_bad_params_with_a_400_and_keeps_the_saved_ones(api, body, message):
    _save(api, {"appTitle": "Kept"})
    assert_error(_save(api, body), 400, message)
    assert api.get("/api/whiteLabel/currentWhiteLabelParams").json()["appTitle"] == "Kept"


def test_it_refuses_a_body_that_is_not_json(api):
    res = api.post("/api/whiteLabel/whiteLabelParams", "{not json", content_type="application/json")
    assert_error(res, 400)


def test_it_previews_without_saving(api, sys_api):
    _save(sys_api, {"appTitle": "Platform", "platformName": "TB"})
    res = api.post("/api/whiteLabel/previewWhiteLabelParams", {"appTitle": "Preview"}, format="json")
    assert res.json()["appTitle"] == "Preview" and res.json()["platformName"] is None
    assert api.get("/api/whiteLabel/whiteLabelParams").json()["appTitle"] == "Platform"


def test_it_deletes_the_levels_params(api, sys_api):
    _save(sys_api, {"appTitle": "Platform"})
    _save(api, {"appTitle": "Acme"})
    assert api.delete("/api/whiteLabel/currentWhiteLabelParams").status_code == 200
    assert api.get("/api/whiteLabel/whiteLabelParams").json()["appTitle"] == "Platform"


def test_it_finds_the_login_params_by_domain_name(api, sys_api, anon, mallory_api):
    _save(sys_api, {"appTitle": "Platform", "pageBackgroundColor": "#eeeeee"},
          url="/api/whiteLabel/loginWhiteLabelParams")
    body = LoginWhiteLabelingParams.from_dict({"appTitle": "Acme login", "darkForeground": True,
                                               "showNameBottom": False}).to_dict()
    res = _save(api, {**body, "domainName": "iot.acme.test"}, url="/api/whiteLabel/loginWhiteLabelParams")
    assert res.status_code == 200, res.content
    assert LoginWhiteLabelingParams.from_dict(res.json()).dark_foreground is True
    mine = anon.get("/api/noauth/whiteLabel/loginWhiteLabelParams", HTTP_HOST="iot.acme.test:8080").json()
    assert mine["appTitle"] == "Acme login" and mine["pageBackgroundColor"] == "#eeeeee"
    other = anon.get("/api/noauth/whiteLabel/loginWhiteLabelParams", HTTP_HOST="localhost").json()
    assert other["appTitle"] == "Platform"
    taken = _save(mallory_api, {"domainName": "iot.acme.test"}, url="/api/whiteLabel/loginWhiteLabelParams")
    assert_error(taken, 400, "already used")
    assert api.get("/api/whiteLabel/currentLoginWhiteLabelParams").json()["domainName"] == "iot.acme.test"


def test_it_serves_a_login_logo_only_while_a_login_page_links_it(api, anon, tenant_admin):
    from dashboards import resources

    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082")
    image = resources.create(tenant_admin, "IMAGE", "logo.png", png, key="logo.png")
    url = f"/api/noauth/whiteLabel/loginLogo/tenant/{image.resource_key}"
    assert_error(anon.get(url), 404)
    _save(api, {"logoImageUrl": f"tb-image;/api/images/tenant/{image.resource_key}", "domainName": "acme.test"},
          url="/api/whiteLabel/loginWhiteLabelParams")
    res = anon.get(url)
    assert res.status_code == 200 and res["Content-Type"] == "image/png" and res.content == png
    assert_error(anon.get(f"/api/noauth/whiteLabel/loginFavicon/tenant/{image.resource_key}"), 404)


def test_it_keeps_mail_templates_per_level(api, sys_api, customer_api):
    templates = {"activation": {"subject": "Welcome", "body": "<p>Hi ${userFullName}</p>"}}
    assert sys_api.post("/api/whiteLabel/mailTemplates", templates, format="json").status_code == 200
    assert api.get("/api/whiteLabel/mailTemplates").json() == {}
    assert api.get("/api/whiteLabel/mailTemplates?systemByDefault=true").json() == templates
    assert_error(api.post("/api/whiteLabel/mailTemplates", {"x": {"subject": 1}}, format="json"), 400)
    assert_error(customer_api.get("/api/whiteLabel/mailTemplates"), 403)


def test_it_needs_a_login_for_everything_but_the_login_page(anon):
    assert_error(anon.get("/api/whiteLabel/whiteLabelParams"), 401)
    assert anon.get("/api/noauth/whiteLabel/loginWhiteLabelParams").status_code == 200
