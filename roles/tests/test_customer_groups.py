"""Each customer's user groups ("All", "Customer Administrators", "Customer Users", owned by the customer)
with their GENERIC roles; customer users' rights from them, the authority as fallback; listing by owner;
``groupAll``; UserInfo ``groups``; the data migration for existing customers; protected "All"."""

import importlib

import pytest
from django.apps import apps as django_apps
from tb_pe_client.models import EntityGroupInfo, UserInfo

from devices.models import EntityGroup
from roles import rights
from roles.models import GroupPermission
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer
from tenants.models import User

PAGE = {"pageSize": 20, "page": 0}


def customer_group(customer, name) -> EntityGroup:
    return EntityGroup.objects.get(customer=customer, type="USER", name=name)


def test_every_customer_gets_its_user_groups_and_their_roles(tenant, customer):
    groups = EntityGroup.objects.filter(customer=customer, type="USER")
    assert sorted(groups.values_list("name", flat=True)) == ["All", "Customer Administrators", "Customer Users"]
    grants = {(p.user_group.name, p.role.name) for p in GroupPermission.objects.filter(user_group__customer=customer)}
    assert grants == {("Customer Administrators", "Customer Administrator"), ("Customer Users", "Customer User")}
    assert all(g.tenant_id == tenant.pk for g in groups)


def test_the_owners_groups_are_listed_by_owner(api, tenant, customer, customer_api):
    res = api.get(f"/api/entityGroups/CUSTOMER/{customer.pk}/USER", PAGE)
    assert res.status_code == 200, res.content
    infos = [EntityGroupInfo.from_dict(g) for g in res.json()["data"]]
    assert [g.name for g in infos] == ["All", "Customer Administrators", "Customer Users"]
    assert {g.owner_id.entity_type for g in infos} == {"CUSTOMER"}
    assert [g.group_all for g in infos] == [True, False, False]
    assert str(infos[0].owner_ids[0].id) == str(customer.pk)
    tenant_groups = api.get("/api/entityGroups/USER", PAGE).json()["data"]  # the caller's owner's: the tenant's
    assert sorted(g["name"] for g in tenant_groups) == ["All", "Tenant Administrators", "Tenant Users"]
    assert [g["groupAll"] for g in tenant_groups if g["name"] == "All"] == [True]
    mine = customer_api.get("/api/entityGroups/USER", PAGE).json()["data"]  # a customer user: its customer's
    assert [g["name"] for g in mine] == ["All", "Customer Administrators", "Customer Users"]
    other = make_customer(tenant, "Customer B")
    assert_error(customer_api.get(f"/api/entityGroups/CUSTOMER/{other.pk}/USER", PAGE), 404)
    assert_error(customer_api.get(f"/api/entityGroup/{customer_group(other, 'All').pk}"), 404)


def test_a_customer_user_created_through_the_api_joins_customer_users(api, tenant, customer):
    body = {"email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    res = api.post("/api/user?sendActivationMail=false", body, format="json")
    assert res.status_code == 200, res.content
    dave = User.objects.get(email="dave@example.com")
    assert set(dave.entity_groups.values_list("name", "customer_id")) == {("All", customer.pk),
                                                                         ("Customer Users", customer.pk)}
    info = UserInfo.from_dict(api.get(f"/api/user/info/{dave.pk}").json())
    assert sorted(g.name for g in info.groups) == ["All", "Customer Users"]


def test_a_customer_user_named_into_groups_joins_them_and_its_all(api, tenant, customer):
    admins = customer_group(customer, "Customer Administrators")
    body = {"email": "erin@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    res = api.post(f"/api/user?sendActivationMail=false&entityGroupIds={admins.pk}", body, format="json")
    assert res.status_code == 200, res.content
    erin = User.objects.get(email="erin@example.com")
    assert set(erin.entity_groups.values_list("name", flat=True)) == {"All", "Customer Administrators"}
    assert rights.rights_of(erin).merged() == {"ALL": ["ALL"]}  # its group's role: Customer Administrator


def test_a_user_is_named_only_into_its_owners_user_groups(api, tenant, customer):
    other = make_customer(tenant, "Customer B")
    body = {"email": "finn@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    theirs = customer_group(other, "Customer Users")
    assert_error(api.post(f"/api/user?sendActivationMail=false&entityGroupIds={theirs.pk}", body, format="json"),
                 400, "another owner")
    tenant_users = EntityGroup.objects.get(tenant=tenant, customer=None, name="Tenant Users")
    assert_error(api.post(f"/api/user?sendActivationMail=false&entityGroupId={tenant_users.pk}", body,
                          format="json"), 400, "another owner")
    assert not User.objects.filter(email="finn@example.com").exists()


def test_customer_rights_come_from_groups_with_the_authority_as_fallback(customer_user, customer):
    assert rights.rights_of(customer_user).allows("DEVICE", "READ")  # "Customer Users" -> "Customer User"
    assert not rights.rights_of(customer_user).allows("DEVICE", "WRITE")
    customer_user.entity_groups.clear()  # no group grants anything: the tenant's "Customer User" role
    fallback = rights.rights_of(customer_user)
    assert fallback.allows("DEVICE", "READ") and not fallback.allows("DEVICE", "WRITE")
    customer_group(customer, "Customer Administrators").users.add(customer_user)
    assert rights.rights_of(customer_user).allows("DEVICE", "WRITE")


def test_the_allowed_permissions_of_a_customer_user_are_its_groups(customer_api, customer_user, customer):
    customer_group(customer, "Customer Administrators").users.add(customer_user)
    res = customer_api.get("/api/permissions/allowedPermissions")
    assert res.status_code == 200
    assert res.json()["userPermissions"]["genericPermissions"]["ALL"][0] == "ALL"
    assert res.json()["userOwnerId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}


def test_a_customers_all_group_is_protected(api, customer, customer_user):
    every = customer_group(customer, "All")
    assert_error(api.delete(f"/api/entityGroup/{every.pk}"), 400, "can't be deleted")
    body = {**api.get(f"/api/entityGroup/{every.pk}").json(), "name": "Everybody"}
    assert_error(api.post("/api/entityGroup", body, format="json"), 400, "can't be renamed")
    assert_error(api.post(f"/api/entityGroup/{every.pk}/deleteEntities", [str(customer_user.pk)], format="json"),
                 400, "can't be removed")
    users = customer_group(customer, "Customer Users")
    assert api.post(f"/api/entityGroup/{users.pk}/deleteEntities", [str(customer_user.pk)],
                    format="json").status_code == 200
    assert every.users.filter(pk=customer_user.pk).exists()


def test_the_customers_of_another_tenant_stay_unseen(api, other_tenant):
    theirs = make_customer(other_tenant, "Theirs")
    assert_error(api.get(f"/api/entityGroups/CUSTOMER/{theirs.pk}/USER", PAGE), 404)
    assert_error(api.get(f"/api/entityGroup/{customer_group(theirs, 'All').pk}"), 404)


@pytest.mark.django_db
def test_the_data_migration_gives_existing_customers_their_groups(tenant, customer, customer_user):
    EntityGroup.objects.filter(customer=customer).delete()
    assert not customer_user.entity_groups.exists()
    migration = importlib.import_module("roles.migrations.0004_customer_default_groups")
    migration.forward(django_apps, None)
    migration.forward(django_apps, None)  # twice: nothing doubled
    assert EntityGroup.objects.filter(customer=customer).count() == 3
    assert GroupPermission.objects.filter(user_group__customer=customer).count() == 2
    assert set(customer_user.entity_groups.values_list("name", flat=True)) == {"All", "Customer Users"}


def test_restore_default_roles_remakes_the_customers_groups(tenant, customer, customer_user):
    from io import StringIO

    from django.core.management import call_command

    EntityGroup.objects.filter(customer=customer, name__in=("All", "Customer Users")).delete()
    call_command("restore_default_roles", tenant=str(tenant.pk), stdout=StringIO())
    assert EntityGroup.objects.filter(customer=customer).count() == 3
    assert customer_group(customer, "All").users.filter(pk=customer_user.pk).exists()
    assert GroupPermission.objects.filter(user_group=customer_group(customer, "Customer Users")).count() == 1
