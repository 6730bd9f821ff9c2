"""Calculated fields in the admin: tenant-scoped, checked as the API checks them."""

import pytest

from calculated import services
from calculated.models import CalculatedField, CalculatedFieldEvent
from calculated.tests.helpers import simple, ts_arg
from tbproject.testing.factories import make_device


@pytest.fixture
def fields(tenant, other_tenant):
    ours = services.save(tenant.pk, simple(make_device(tenant, "ours"), "a", {"a": ts_arg("a")}, name="our-field"))
    theirs = services.save(other_tenant.pk, simple(make_device(other_tenant, "theirs"), "a", {"a": ts_arg("a")},
                                                   name="their-field"))
    CalculatedFieldEvent.objects.create(tenant=tenant, field=ours, is_error=True, body={"error": "our-error"})
    CalculatedFieldEvent.objects.create(tenant=other_tenant, field=theirs, is_error=True, body={"error": "their-error"})
    return ours, theirs


def test_a_tenant_admin_sees_and_opens_only_its_own_fields_and_events(client, tenant_admin, fields):
    ours, theirs = fields
    client.force_login(tenant_admin)
    listing = client.get("/admin/calculated/calculatedfield/").content.decode()
    assert "our-field" in listing and "their-field" not in listing
    assert client.get(f"/admin/calculated/calculatedfield/{ours.pk}/change/").status_code == 200
    assert client.get(f"/admin/calculated/calculatedfield/{theirs.pk}/change/").status_code in (302, 404)
    events = client.get("/admin/calculated/calculatedfieldevent/").content.decode()
    assert "our-field" in events and "their-field" not in events
    assert client.get("/admin/calculated/calculatedfieldevent/add/").status_code == 403


def test_the_admin_refuses_what_the_api_refuses(client, tenant_admin, tenant, fields):
    ours, _ = fields
    client.force_login(tenant_admin)
    form = {"name": "bad", "kind": "SIMPLE", "entity_type": "DEVICE", "entity_id": str(ours.entity_id),
            "configuration": '{"arguments": {"a": {"refEntityKey": {"key": "a", "type": "TS_LATEST"}}}, '
                             '"expression": "(a +", "output": {"type": "TIME_SERIES", "name": "o"}}',
            "configuration_version": "1", "debug_all_enabled_until": "0", "additional_info": "{}"}
    res = client.post("/admin/calculated/calculatedfield/add/", form)
    assert res.status_code == 200 and "Invalid expression" in res.content.decode()
    assert not CalculatedField.objects.filter(name="bad").exists()
    form["configuration"] = form["configuration"].replace("(a +", "a * 2")
    res = client.post("/admin/calculated/calculatedfield/add/", form)
    assert res.status_code == 302, res.content.decode()[-2000:]
    assert CalculatedField.objects.get(name="bad").tenant_id == tenant.pk
