"""Deleting a tenant in the Django admin does what DELETE /api/tenant/{id} does: the tenant goes out
of use at once and its rows are deleted by the background task (eager in tests), not in the
request's one transaction; the confirmation page does not list everything the tenant owns."""

import pytest
from django.test import Client

from devices.models import Device
from tbproject.testing.factories import make_device
from tenants.models import Tenant, User


@pytest.fixture
def root_browser(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    return client


def test_the_admin_delete_goes_through_the_background_deletion(root_browser, tenant, tenant_admin, other_tenant,
                                                               monkeypatch, django_capture_on_commit_callbacks):
    from tenants import deletion

    marked = []
    monkeypatch.setattr(deletion, "_queue", marked.append)  # the task itself is tests/test_deletion's
    for i in range(3):
        make_device(tenant, f"d{i}")
    url = f"/admin/tenants/tenant/{tenant.pk}/delete/"
    page = root_browser.get(url).content.decode()
    assert "deleted in the background" in page and "d0" not in page  # no listing of the tenant's devices
    with django_capture_on_commit_callbacks(execute=True):
        res = root_browser.post(url, {"post": "yes"})
    assert res.status_code == 302
    tenant.refresh_from_db()
    assert tenant.deleting_ts and marked == [tenant.pk]
    assert not User.objects.get(pk=tenant_admin.pk).is_active
    assert Device.objects.filter(tenant=tenant).count() == 3  # rows go in the task, in batches
    assert str(tenant.pk) not in root_browser.get("/admin/tenants/tenant/").content.decode()
    assert Tenant.objects.filter(pk=other_tenant.pk, deleting_ts__isnull=True).exists()


def test_the_admin_bulk_delete_marks_each(root_browser, tenant, other_tenant, monkeypatch,
                                         django_capture_on_commit_callbacks):
    from tenants import deletion

    marked = []
    monkeypatch.setattr(deletion, "_queue", marked.append)
    with django_capture_on_commit_callbacks(execute=True):
        res = root_browser.post("/admin/tenants/tenant/", {"action": "delete_selected", "post": "yes",
                                                           "_selected_action": [tenant.pk, other_tenant.pk]})
    assert res.status_code == 302
    assert sorted(marked) == sorted([tenant.pk, other_tenant.pk])
