"""The dashboard admin: tenant-scoped, the configuration edited as JSON text and kept as typed."""

import json

from audit.models import AuditLog
from dashboards.models import Dashboard
from tbproject.testing.factories import make_customer

BASE = "/admin/dashboards/dashboard/"


def form(title="Boards", configuration='{"widgets": {}, "states": {}}', customers=()):
    return {"title": title, "configuration_text": configuration, "assigned_customers": [str(c.pk) for c in customers],
            "image": "", "mobile_order": "", "additional_info": "{}"}


def test_a_tenant_admin_sees_only_its_dashboards(client, tenant_admin, tenant, other_tenant):
    Dashboard.objects.create(tenant=tenant, title="alice-board")
    theirs = Dashboard.objects.create(tenant=other_tenant, title="mallory-board")
    client.force_login(tenant_admin)
    html = client.get(BASE).content.decode()
    assert "alice-board" in html and "mallory-board" not in html
    res = client.get(f"{BASE}{theirs.pk}/change/", follow=True)
    assert res.redirect_chain == [("/admin/", 302)]


def test_it_saves_the_configuration_as_typed_and_audits_the_assignment(client, tenant_admin, tenant, customer):
    client.force_login(tenant_admin)
    res = client.post(f"{BASE}add/", form(configuration='{"z": 1, "a": [1.5, "°C"]}', customers=[customer]))
    assert res.status_code == 302, res.content.decode()[:2000]
    board = Dashboard.objects.get(title="Boards")
    assert board.tenant == tenant and board.configuration == {"z": 1, "a": [1.5, "°C"]}
    assert list(board.configuration) == ["z", "a"]
    assert list(board.assigned_customers.all()) == [customer]
    actions = set(AuditLog.objects.filter(entity_id=board.pk).values_list("action_type", flat=True))
    assert actions == {"ADDED", "ASSIGNED_TO_CUSTOMER"}


def test_it_refuses_a_configuration_that_is_not_a_json_object(client, tenant_admin):
    client.force_login(tenant_admin)
    for text in ("[1, 2]", "{not json"):
        res = client.post(f"{BASE}add/", form(configuration=text))
        assert res.status_code == 200 and not Dashboard.objects.exists()
        assert "configuration" in res.content.decode().lower()


def test_it_refuses_another_tenants_customer(client, tenant_admin, other_tenant):
    theirs = make_customer(other_tenant, "Theirs")
    client.force_login(tenant_admin)
    res = client.post(f"{BASE}add/", form(customers=[theirs]))
    assert res.status_code == 200 and not Dashboard.objects.exists()


def test_the_change_page_shows_the_stored_json(client, tenant_admin, tenant):
    board = Dashboard.objects.create(tenant=tenant, title="b")
    board.configuration = {"widgets": {"w1": {"type": "latest"}}}
    board.save()
    client.force_login(tenant_admin)
    html = client.get(f"{BASE}{board.pk}/change/").content.decode()
    assert json.dumps({"widgets": {"w1": {"type": "latest"}}}, separators=(",", ":")).replace('"', "&quot;") in html


def test_it_offers_only_the_tenants_dashboard_groups(client, tenant_admin, tenant, other_tenant):
    from devices.choices import GroupType
    from tbproject.testing.factories import make_group

    boards, meters = make_group(tenant, "Boards", GroupType.DASHBOARD), make_group(tenant, "Meters")
    theirs = make_group(other_tenant, "Their boards", GroupType.DASHBOARD)
    client.force_login(tenant_admin)
    html = client.get(f"{BASE}add/").content.decode()
    assert "Boards (DASHBOARD)" in html and "Meters" not in html and "Their boards" not in html
    res = client.post(f"{BASE}add/", {**form(), "groups": [str(boards.pk)]})
    assert res.status_code == 302, res.content.decode()[:2000]
    assert list(Dashboard.objects.get(title="Boards").groups.all()) == [boards]
    for wrong in (meters, theirs):
        res = client.post(f"{BASE}add/", {**form(title="Wrong"), "groups": [str(wrong.pk)]})
        assert res.status_code == 200 and not Dashboard.objects.filter(title="Wrong").exists()
