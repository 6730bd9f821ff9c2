"""Every registered admin page renders for the authorities that may use it."""

import pytest
from django.apps import apps
from django.contrib import admin

from dashboards.models import Dashboard
from tbproject.admin import TenantScopedAdmin
from tenants.tests.test_admin import make_world


def our_admins():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()
            if isinstance(model_admin, TenantScopedAdmin)]


def urls_of(model, rows) -> list[str]:
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    urls = [base, f"{base}add/"]
    row = model._default_manager.filter(pk__in=[r.pk for r in rows if isinstance(r, model)]).first()
    return urls + ([f"{base}{row.pk}/change/"] if row else [])


@pytest.mark.parametrize("who", ["sysadmin", "tenant_admin"])
def test_it_renders_every_page_the_user_may_open(client, request, who, tenant, other_tenant):
    user = request.getfixturevalue(who)
    world = make_world(tenant, other_tenant)
    dashboard = Dashboard.objects.create(tenant=tenant, title="alice-dashboard", configuration_text='{"widgets":{}}')
    dashboard.assigned_customers.add(world["alice"]["customer"])
    rows = [*world["alice"].values(), tenant, user, dashboard]
    client.force_login(user)
    assert client.get("/admin/").status_code == 200
    for model, model_admin in our_admins():
        if model_admin.sysadmin_only and who != "sysadmin":
            continue
        for url in urls_of(model, rows):
            expected = 403 if url.endswith("/add/") and model_admin.read_only else 200
            assert client.get(url).status_code == expected, url


def test_it_registers_every_model_of_our_apps():
    ours = {"tenants", "devices", "dashboards", "converters", "integrations", "rulechains", "audit", "transfer"}
    ours |= {"scheduler"}
    ours |= {"roles"}
    ours |= {"notifications"}
    ours |= {"calculated"}
    ours |= {"signup"}
    ours |= {"vault"}
    ours |= {"oauth"}
    ours |= {"ai"}
    models = {m for m in apps.get_models() if m._meta.app_label in ours}
    assert models - set(admin.site._registry) == set()


def test_it_shows_third_party_admin_apps_to_the_sysadmin_only(client, sysadmin, tenant_admin):
    client.force_login(sysadmin)
    assert "/admin/django_celery_beat/periodictask/" in client.get("/admin/").content.decode()
    client.force_login(tenant_admin)
    assert "django_celery_beat" not in client.get("/admin/").content.decode()
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403
