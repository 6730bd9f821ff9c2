"""User groups (entity groups of type USER) through devices/' generic group endpoints and roles/' own:
members paged as UserInfo, add/remove, saving a user into groups, the defaults a new user joins."""

from tb_pe_client.models import EntityGroupInfo, PageDataUserInfo

from devices.models import EntityGroup
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device
from tenants.choices import Authority
from tenants.models import User

PAGE = {"pageSize": 10, "page": 0}


def group(tenant, name) -> EntityGroup:
    return EntityGroup.objects.get(tenant=tenant, type="USER", name=name, customer=None)


def test_the_default_user_groups_are_listed(api, tenant):
    names = [g["name"] for g in api.get("/api/entityGroups/USER", PAGE).json()["data"]]
    assert names == ["All", "Tenant Administrators", "Tenant Users"]
    assert [g["name"] for g in api.get("/api/entityGroups/USER/all").json()] == names


def test_a_user_group_is_created_filled_and_listed(api, tenant, tenant_admin, customer_user):
    res = api.post("/api/entityGroup", {"name": "Night shift", "type": "USER"}, format="json")
    assert res.status_code == 200, res.content
    created = EntityGroupInfo.from_dict(res.json())
    url = f"/api/entityGroup/{created.id.id}"
    other = User.objects.create_user("bob@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    assert api.post(f"{url}/addEntities", [str(tenant_admin.pk), str(other.pk)], format="json").status_code == 200
    page = PageDataUserInfo.from_dict(api.get(f"{url}/users", {**PAGE, "sortProperty": "email"}).json())
    assert [u.email for u in page.data] == ["alice@example.com", "bob@example.com"]
    assert page.data[0].authority == "TENANT_ADMIN" and page.data[0].owner_id.entity_type == "TENANT"
    assert "Night shift" in {g.name for g in page.data[0].groups}
    assert api.get(f"{url}/users", {**PAGE, "textSearch": "BOB"}).json()["data"][0]["email"] == "bob@example.com"
    short = api.get(f"{url}/entities", {**PAGE, "sortProperty": "name"}).json()["data"]
    assert [(e["id"]["entityType"], e["name"]) for e in short] == [("USER", "alice@example.com"),
                                                                   ("USER", "bob@example.com")]
    holding = api.get(f"/api/entityGroups/USER/{other.pk}").json()
    assert {h["id"] for h in holding} == {str(created.id.id), str(group(tenant, "All").pk),
                                          str(group(tenant, "Tenant Administrators").pk)}
    assert api.post(f"{url}/deleteEntities", [str(other.pk)], format="json").status_code == 200
    assert [u["email"] for u in api.get(f"{url}/users", PAGE).json()["data"]] == ["alice@example.com"]


def test_only_the_tenants_users_join_and_only_user_groups_list_users(api, tenant, mallory):
    admins = group(tenant, "Tenant Administrators")
    assert_error(api.post(f"/api/entityGroup/{admins.pk}/addEntities", [str(mallory.pk)], format="json"), 404)
    device = make_device(tenant, "d-1")
    assert_error(api.post(f"/api/entityGroup/{admins.pk}/addEntities", [str(device.pk)], format="json"), 400,
                 "is not a USER")
    devices = EntityGroup.objects.create(tenant=tenant, name="Devs", type="DEVICE")
    assert_error(api.get(f"/api/entityGroup/{devices.pk}/users", PAGE), 400, "not USER")
    their_admins = EntityGroup.objects.get(tenant=mallory.tenant, type="USER", name="Tenant Administrators")
    assert_error(api.get(f"/api/entityGroup/{their_admins.pk}/users", PAGE), 404)
    assert_error(api.get(f"/api/entityGroups/USER/{mallory.pk}"), 404)


def test_a_new_tenant_admin_joins_the_default_groups_and_a_customer_user_its_customers(tenant, tenant_admin,
                                                                                       customer_user):
    assert set(tenant_admin.entity_groups.values_list("name", flat=True)) == {"All", "Tenant Administrators"}
    assert set(customer_user.entity_groups.values_list("name", "customer_id")) == {
        ("All", customer_user.customer_id), ("Customer Users", customer_user.customer_id)}


def test_saving_a_user_into_groups(api, tenant):
    night = EntityGroup.objects.create(tenant=tenant, name="Night", type="USER")
    day = EntityGroup.objects.create(tenant=tenant, name="Day", type="USER")
    body = {"email": "new@example.com", "authority": "TENANT_ADMIN", "firstName": "N"}
    res = api.post(f"/api/user?sendActivationMail=false&entityGroupId={night.pk}&entityGroupIds={day.pk}", body,
                   format="json")
    assert res.status_code == 200, res.content
    user = User.objects.get(email="new@example.com")
    assert set(user.entity_groups.values_list("name", flat=True)) == {"All", "Night", "Day"}
    res = api.post(f"/api/user?sendActivationMail=false&entityGroupId={group(tenant, 'Tenant Users').pk}",
                   {**res.json(), "lastName": "L"}, format="json")
    assert res.status_code == 200, res.content
    assert set(user.entity_groups.values_list("name", flat=True)) == {"All", "Night", "Day", "Tenant Users"}


def test_saving_a_user_into_a_wrong_group_saves_nothing(api, tenant, other_tenant):
    body = {"email": "new@example.com", "authority": "TENANT_ADMIN"}
    theirs = EntityGroup.objects.get(tenant=other_tenant, type="USER", name="All")
    devices = EntityGroup.objects.create(tenant=tenant, name="Devs", type="DEVICE")
    assert_error(api.post(f"/api/user?sendActivationMail=false&entityGroupId={theirs.pk}", body, format="json"), 404)
    assert_error(api.post(f"/api/user?sendActivationMail=false&entityGroupIds={devices.pk}", body, format="json"),
                 400, "holds DEVICE entities")
    assert_error(api.post("/api/user?sendActivationMail=false&entityGroupIds=nope", body, format="json"), 400)
    assert not User.objects.filter(email="new@example.com").exists()
