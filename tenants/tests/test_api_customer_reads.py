"""Customer info, short info, title and sub-customers at ThingsBoard's paths."""

from tb_pe_client.models import CustomerInfo, PageDataCustomerInfo

from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer


def test_it_reads_customer_infos(api, tenant, customer, other_tenant):
    info = CustomerInfo.from_dict(api.get(f"/api/customer/info/{customer.pk}").json())
    assert (info.title, info.owner_name, info.groups) == ("Customer A", tenant.title, [])
    make_customer(tenant, "Customer Z")
    make_customer(other_tenant, "Their Customer")
    page = PageDataCustomerInfo.from_dict(api.get("/api/customerInfos/all", {"pageSize": 10, "page": 0,
                                                                             "sortProperty": "title"}).json())
    assert [c.title for c in page.data] == ["Customer A", "Customer Z"]
    assert api.get(f"/api/customer/{customer.pk}/shortInfo").json() == {"title": "Customer A", "isPublic": False}
    res = api.get(f"/api/customer/{customer.pk}/title")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/plain") and res.content == b"Customer A"
    subs = api.get(f"/api/customer/{customer.pk}/customerInfos", {"pageSize": 10, "page": 0}).json()
    assert subs == {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}


def test_other_customers_are_not_found(api, customer_api, tenant, customer, other_tenant):
    theirs = make_customer(other_tenant, "Their Customer")
    sibling = make_customer(tenant, "Sibling")
    for path in (f"customer/info/{theirs.pk}", f"customer/{theirs.pk}/shortInfo", f"customer/{theirs.pk}/title",
                 f"customer/{theirs.pk}/customerInfos?pageSize=10&page=0"):
        assert_error(api.get(f"/api/{path}"), 404)
    assert_error(customer_api.get(f"/api/customer/{sibling.pk}/title"), 404)
    assert customer_api.get(f"/api/customer/info/{customer.pk}").json()["title"] == "Customer A"
    assert_error(customer_api.get("/api/customerInfos/all", {"pageSize": 10, "page": 0}), 403)

