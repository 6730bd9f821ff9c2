"""PE's owner lists: /api/owners, /api/ownerInfos, /api/ownerInfo/{type}/{id}."""

from tb_pe_client.models import EntityInfo, PageDataContactBasedObject, PageDataEntityInfo

from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer


def test_a_tenant_admin_sees_its_tenant_and_customers(api, tenant, customer, other_tenant):
    make_customer(other_tenant, "Their Customer")
    page = PageDataContactBasedObject.from_dict(api.get("/api/owners", {"pageSize": 10, "page": 0}).json())
    assert [o.name for o in page.data] == [tenant.title, "Customer A"]
    assert page.data[0].id == {"entityType": "TENANT", "id": str(tenant.pk)}
    infos = PageDataEntityInfo.from_dict(api.get("/api/ownerInfos", {"pageSize": 1, "page": 1}).json())
    assert [o.name for o in infos.data] == ["Customer A"] and infos.total_elements == 2 and not infos.has_next
    found = api.get("/api/ownerInfos", {"pageSize": 10, "page": 0, "textSearch": "cust"}).json()
    assert [o["name"] for o in found["data"]] == ["Customer A"]
    info = EntityInfo.from_dict(api.get(f"/api/ownerInfo/CUSTOMER/{customer.pk}").json())
    assert info.name == "Customer A"
    assert api.get(f"/api/ownerInfo/TENANT/{tenant.pk}").json()["name"] == tenant.title


def test_others_are_not_owners_one_can_see(api, customer_api, tenant, customer, other_tenant):
    theirs = make_customer(other_tenant, "Their Customer")
    assert_error(api.get(f"/api/ownerInfo/CUSTOMER/{theirs.pk}"), 404)
    assert_error(api.get(f"/api/ownerInfo/TENANT/{other_tenant.pk}"), 404)
    page = customer_api.get("/api/owners", {"pageSize": 10, "page": 0}).json()
    assert [o["name"] for o in page["data"]] == ["Customer A"]
    assert_error(customer_api.get(f"/api/ownerInfo/TENANT/{tenant.pk}"), 404)
    assert_error(api.get("/api/owners"), 400, "pageSize")
