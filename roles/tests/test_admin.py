"""The admin pages of roles and group permissions: tenant-scoped like every other, validated like the API."""

import pytest

from devices.models import EntityGroup
from roles.models import GroupPermission, Role


@pytest.mark.parametrize("who", ["sysadmin", "tenant_admin"])
def test_the_pages_render(client, request, who, tenant):
    client.force_login(request.getfixturevalue(who))
    role = Role.objects.get(tenant=tenant, name="Tenant User")
    permission = GroupPermission.objects.filter(tenant=tenant).first()
    for url in ("/admin/roles/role/", "/admin/roles/role/add/", f"/admin/roles/role/{role.pk}/change/",
                "/admin/roles/grouppermission/", "/admin/roles/grouppermission/add/",
                f"/admin/roles/grouppermission/{permission.pk}/change/"):
        assert client.get(url).status_code == 200, url


def test_a_tenant_admin_sees_only_its_tenants_rows(client, tenant_admin, tenant, other_tenant):
    client.force_login(tenant_admin)
    theirs = Role.objects.get(tenant=other_tenant, name="Tenant User")
    page = client.get("/admin/roles/role/").content.decode()
    assert page.count("Tenant User") >= 1 and str(theirs.pk) not in page
    assert client.get(f"/admin/roles/role/{theirs.pk}/change/").status_code == 302  # "doesn't exist"


def test_the_admin_form_checks_permissions(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    res = client.post("/admin/roles/role/add/", {"name": "Bad", "type": "GENERIC",
                                                 "permissions": '{"GADGET": ["READ"]}',
                                                 "excluded_permissions": "{}", "additional_info": "{}"})
    assert res.status_code == 200 and "unknown resource" in res.content.decode()
    assert not Role.objects.filter(name="Bad").exists()
    group = EntityGroup.objects.create(tenant=tenant, name="Devs", type="DEVICE")
    role = Role.objects.get(tenant=tenant, name="Tenant User")
    res = client.post("/admin/roles/grouppermission/add/", {"role": role.pk, "user_group": group.pk})
    assert res.status_code == 200 and "user group" in res.content.decode()
