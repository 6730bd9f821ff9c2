import pytest
from tb_pe_client.models import Customer as TbCustomer
from tb_pe_client.models import PageDataCustomer

from devices.tests.family import BAD_PAGING
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot
from tbproject.testing.factories import make_customer, make_device
from tbproject.testing.fixtures import api_as
from tenants.models import Customer, User

FULL = {"title": "Acme", "email": "ops@acme.test", "phone": "+1 555", "country": "US", "state": "CA",
        "city": "Springfield", "address": "1 Main St", "address2": "Floor 2", "zip": "12345",
        "additionalInfo": {"description": "big one"}}


def test_it_creates_a_customer_and_answers_the_client_shape(api, tenant):
    res = api.post("/api/customer", FULL, format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    parsed = TbCustomer.from_dict(body)
    assert parsed.title == "Acme" and parsed.name == "Acme" and parsed.zip == "12345"
    assert body["id"]["entityType"] == "CUSTOMER"
    assert body["tenantId"] == body["ownerId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert body["additionalInfo"] == {"description": "big one"}
    assert isinstance(body["createdTime"], int) and body["version"] == 1


def test_it_round_trips_a_fetched_customer(api, tenant, customer):
    fetched = api.get(f"/api/customer/{customer.pk}").json()
    posted = TbCustomer.from_dict(fetched).to_dict()
    posted.update(city="Paris", version=7, createdTime=0, name="ignored")
    body = api.post("/api/customer", posted, format="json").json()
    assert (body["city"], body["title"], body["version"]) == ("Paris", "Customer A", fetched["version"] + 1)
    assert body["createdTime"] == fetched["createdTime"]


def test_it_accepts_nulls_for_optional_fields(api):
    body = {"title": "Nully", "email": None, "phone": None, "additionalInfo": None}
    res = api.post("/api/customer", body, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["email"] == "" and res.json()["additionalInfo"] == {}


@pytest.mark.parametrize(("body", "message"), [
    ({}, "Customer title should be specified!"),
    ({"title": "  "}, "Customer title should be specified!"),
    ({"title": "X", "email": "not-an-email"}, "email"),
])
def test_it_validates_the_body(api, body, message):
    assert_error(api.post("/api/customer", body, format="json"), 400, message)
    assert not Customer.objects.exists()


def test_it_refuses_a_duplicate_title(api, customer):
    assert_error(api.post("/api/customer", {"title": "Customer A"}, format="json"), 400,
                 "Customer with such title already exists!")
    assert Customer.objects.count() == 1


def test_the_same_title_may_exist_in_another_tenant(api, other_tenant):
    make_customer(other_tenant, "Shared name")
    assert api.post("/api/customer", {"title": "Shared name"}, format="json").status_code == 200


def test_it_pages_and_searches_customers(api, tenant, other_tenant):
    for title in ("Beta", "Alpha", "Gamma ray"):
        make_customer(tenant, title)
    make_customer(other_tenant, "Alpha Mallory")
    page = PageDataCustomer.from_dict(api.get("/api/customers?pageSize=2&page=0").json())
    assert [c.title for c in page.data] == ["Alpha", "Beta"] and page.has_next and page.total_elements == 3
    assert page_names(api.get("/api/customers?pageSize=10&page=0&textSearch=RAY"), "title") == ["Gamma ray"]
    desc = api.get("/api/customers?pageSize=10&page=0&sortProperty=title&sortOrder=DESC")
    assert page_names(desc, "title") == ["Gamma ray", "Beta", "Alpha"]


@pytest.mark.parametrize(("query", "message"), BAD_PAGING)
def test_it_answers_400_for_bad_paging(api, query, message):
    assert_error(api.get("/api/customers?" + query), 400, message)


def test_it_answers_400_for_an_unknown_sort_property(api):
    assert_error(api.get("/api/customers?pageSize=1&page=0&sortProperty=name"), 400, "Unsupported sortProperty")


def test_it_finds_a_customer_by_title(api, customer, other_tenant):
    make_customer(other_tenant, "Theirs")
    assert api.get("/api/tenant/customers", {"customerTitle": "Customer A"}).json()["id"]["id"] == str(customer.pk)
    assert_error(api.get("/api/tenant/customers", {"customerTitle": "Theirs"}), 404)
    assert_error(api.get("/api/tenant/customers"), 400, "'customerTitle' is not present")


def test_it_lists_customers_by_ids(api, customer, other_tenant):
    theirs = make_customer(other_tenant, "Theirs")
    res = api.get("/api/customers/list", {"customerIds": f"{customer.pk},{theirs.pk}"})
    assert [c["title"] for c in res.json()] == ["Customer A"]


def test_it_deletes_a_customer_and_unassigns_its_devices(api, tenant, customer, customer_user):
    device = make_device(tenant, "d", customer=customer)
    assert api.delete(f"/api/customer/{customer.pk}").status_code == 200
    device.refresh_from_db()
    assert device.customer is None
    assert not User.objects.filter(pk=customer_user.pk).exists()


def test_it_answers_404_for_another_tenants_customer(api, other_tenant):
    assert_isolated(api, make_customer(other_tenant, "Theirs"), single="customer", update={"title": "Stolen"})


def test_it_answers_400_for_a_malformed_id(api):
    assert_error(api.get("/api/customer/123"), 400, "Invalid UUID string: 123")
    assert_error(api.post("/api/customer", {"id": {"id": "x"}, "title": "T"}, format="json"), 400)


def test_a_customer_user_reads_only_their_own_customer(customer_api, tenant, customer):
    sibling = make_customer(tenant, "Sibling")
    assert customer_api.get(f"/api/customer/{customer.pk}").json()["title"] == "Customer A"
    assert_error(customer_api.get(f"/api/customer/{sibling.pk}"), 404)
    ids = customer_api.get("/api/customers/list", {"customerIds": f"{customer.pk},{sibling.pk}"}).json()
    assert [c["title"] for c in ids] == ["Customer A"]
    assert_error(customer_api.get("/api/customers?pageSize=10&page=0"), 403)
    assert_error(customer_api.get("/api/tenant/customers", {"customerTitle": "Sibling"}), 403)


def test_a_customer_user_gets_403_on_writes(customer_api, customer):
    before = snapshot(customer)
    assert_error(customer_api.post("/api/customer", {"title": "New"}, format="json"), 403)
    assert_error(customer_api.post("/api/customer", {"id": {"id": str(customer.pk)}, "title": "Mine now"},
                                   format="json"), 403)
    assert_error(customer_api.delete(f"/api/customer/{customer.pk}"), 403)
    assert_unchanged(customer, before)
    assert Customer.objects.count() == 1


def test_a_sysadmin_gets_403(sysadmin, customer):
    client = api_as(sysadmin)
    assert_error(client.get("/api/customers?pageSize=10&page=0"), 403)
    assert_error(client.get(f"/api/customer/{customer.pk}"), 403)
    assert_error(client.post("/api/customer", {"title": "x"}, format="json"), 403)
