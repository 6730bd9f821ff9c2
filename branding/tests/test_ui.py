"""This server's own pages under white labeling: the admin's login page and pages, escaped; customCss as
text/css only."""

import pytest
from django.test import Client

from branding import whitelabel
from branding.levels import SYSTEM, Owner

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


def test_it_shows_the_login_pages_title_and_favicon_escaped(db):
    whitelabel.save(SYSTEM, "LOGIN", {"appTitle": f"Acme {XSS}", "favicon": {"url": "https://cdn.example.com/f.ico"},
                                      "customCss": "</style><script>alert(1)</script>"})
    page = Client().get("/admin/login/").content.decode()
    assert XSS not in page and "</style><script>" not in page
    assert "Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert 'href="https://cdn.example.com/f.ico"' in page
    assert '/api/noauth/whiteLabel/customCss' in page


def test_it_serves_custom_css_as_text_css_only(db, tenant_admin, tenant):
    whitelabel.save(SYSTEM, "LOGIN", {"customCss": "</style><script>alert(1)</script>"})
    res = Client().get("/api/noauth/whiteLabel/customCss")
    assert res["Content-Type"] == "text/css; charset=utf-8" and res["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in res["Content-Security-Policy"]
    assert res.content == b"><script>alert(1)</script>"  # sanitised (branding/css.py), inert as text/css
    whitelabel.save(Owner(tenant.pk), "GENERAL", {"customCss": ".tenant{}"})
    browser = Client()
    browser.force_login(tenant_admin)
    assert browser.get("/api/noauth/whiteLabel/customCss").content == b".tenant{}"


def test_it_brands_the_admin_for_the_signed_in_tenant(db, tenant_admin, tenant, sysadmin):
    whitelabel.save(Owner(tenant.pk), "GENERAL", {"appTitle": f"Tenant {XSS}",
                                                  "logoImageUrl": "tb-image;/api/images/tenant/logo.png"})
    browser = Client()
    browser.force_login(tenant_admin)
    page = browser.get("/admin/").content.decode()
    assert XSS not in page and "Tenant &lt;script&gt;" in page
    assert 'src="/api/images/tenant/logo.png"' in page
    other = Client()
    other.force_login(sysadmin)
    assert "Tenant &lt;script&gt;" not in other.get("/admin/").content.decode()


def test_it_shows_no_unsafe_image_link(db):
    from branding.models import WhiteLabeling

    # a row written around the API's checks (a database edit): the page still links nothing unsafe
    WhiteLabeling.objects.create(kind="LOGIN", settings={"favicon": {"url": "javascript:alert(1)"},
                                                         "appTitle": "os.system"})
    page = Client().get("/admin/login/").content.decode()
    assert "javascript:alert(1)" not in page and "os.system" in page
