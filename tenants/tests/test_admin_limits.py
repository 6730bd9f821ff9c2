"""The tenant profile form (rate limits checked as ThingsBoard's format) and the usage page."""

import pytest
from django.test import Client

from tbproject.testing.limits import default_tenant_profile
from tenants import usage
from tenants.models import TenantProfile


@pytest.fixture
def root_browser(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    return client


def test_a_system_admin_sets_rate_limits_in_a_profile(root_browser):
    answer = root_browser.post("/admin/tenants/tenantprofile/add/", {
        "name": "Gold", "description": "", "profile_data": '{"configuration": {"type": "DEFAULT", "maxDevices": 9}}',
        "limit_integrationMsgsPerTenantRateLimit": "100:1,2000:60",
        "limit_tenantServerRestLimitsConfiguration": " ",
    })
    assert answer.status_code == 302, answer.content[-2000:]
    profile = TenantProfile.objects.get(name="Gold")
    assert profile.configuration == {"type": "DEFAULT", "maxDevices": 9,
                                     "integrationMsgsPerTenantRateLimit": "100:1,2000:60"}
    page = root_browser.get(f"/admin/tenants/tenantprofile/{profile.pk}/change/").content.decode()
    assert 'value="100:1,2000:60"' in page


def test_a_malformed_limit_is_refused_with_the_reason(root_browser):
    answer = root_browser.post("/admin/tenants/tenantprofile/add/", {
        "name": "Broken", "profile_data": "{}", "limit_converterExecutionsPerTenantRateLimit": "100 per second",
    })
    assert answer.status_code == 200
    assert "is not &lt;count&gt;:&lt;seconds&gt;" in answer.content.decode()
    assert not TenantProfile.objects.filter(name="Broken").exists()


def test_only_one_profile_stays_default(root_browser):
    old = default_tenant_profile()
    answer = root_browser.post("/admin/tenants/tenantprofile/add/", {"name": "New default", "is_default": "on",
                                                                       "profile_data": "{}"})
    assert answer.status_code == 302
    assert list(TenantProfile.objects.filter(is_default=True)) == [TenantProfile.objects.get(name="New default")]
    old.refresh_from_db()
    assert not old.is_default


def test_tenant_admins_do_not_see_profiles(tenant_admin):
    client = Client()
    client.force_login(tenant_admin)
    assert client.get("/admin/tenants/tenantprofile/").status_code in (302, 403)


def test_the_usage_page_shows_the_chart_of_the_own_tenant(tenant, other_tenant, tenant_admin, root_browser):
    usage.add(tenant.pk, messages=5)
    client = Client()
    client.force_login(tenant_admin)
    page = client.get("/admin/tenants/tenantusage/").content.decode()
    assert "data-usage-charts" in page and "ui/usage-chart.js" in page and "ui/vendor/uplot.js" in page
    assert 'data-query=""' in page and "Mallory" not in page  # its own tenant, no chooser
    root = root_browser.get(f"/admin/tenants/tenantusage/?tenant={other_tenant.pk}").content.decode()
    assert f'data-query="tenantId={other_tenant.pk}"' in root and "Alice Corp" in root
