"""The reviewer's holes in READ shares, closed: a lowercase entity type in the path, relations and alarms
touching a shared entity, group permissions of another customer, a user moved to another customer, a
read-only share commanding devices. Setup: a tenant device "shared-1" in "Meters", shared READ with
Customer A's "Customer Users"; the caller is Customer A's user."""

import pytest

from devices.choices import GroupType
from devices.models import Attribute, EntityGroup, EntityRelation
from roles.defaults import DEFAULT_ROLES
from roles.models import GroupPermission
from roles.rights import rights_of
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer, make_device, make_group

TELEMETRY = "/api/plugins/telemetry"


def users_of(customer) -> EntityGroup:
    return EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")


@pytest.fixture
def shared(tenant):
    return make_device(tenant, "shared-1")


@pytest.fixture
def meters(api, tenant, customer, shared):
    group = make_group(tenant, "Meters", GroupType.DEVICE, [shared])
    body = {"allUserGroup": False, "userGroupId": {"entityType": "ENTITY_GROUP", "id": str(users_of(customer).pk)},
            "readElseWrite": True}
    assert api.post(f"/api/entityGroup/{group.pk}/share", body, format="json").status_code == 200
    return group


@pytest.mark.parametrize("kind", ["device", "Device"])
def test_a_lowercase_entity_type_does_not_skip_the_share_check(customer_api, meters, shared, kind):
    assert customer_api.get(f"{TELEMETRY}/{kind}/{shared.pk}/values/attributes").status_code == 200
    assert_error(customer_api.post(f"{TELEMETRY}/{kind}/{shared.pk}/attributes/SERVER_SCOPE", {"a": 1},
                                   format="json"), 403)
    assert_error(customer_api.post(f"{TELEMETRY}/{kind}/{shared.pk}/timeseries/ANY", {"t": 1}, format="json"), 403)
    Attribute.objects.create(entity_id=shared.pk, scope="SERVER_SCOPE", key="kept", last_update_ts=1, long_v=1)
    assert_error(customer_api.delete(f"{TELEMETRY}/{kind}/{shared.pk}/SERVER_SCOPE?keys=kept"), 403)
    assert list(Attribute.objects.filter(entity_id=shared.pk).values_list("key", flat=True)) == ["kept"]


def test_an_unknown_resource_is_denied_to_a_customer_user_with_group_grants(customer_api, meters, shared):
    res = customer_api.post(f"{TELEMETRY}/NOPE/{shared.pk}/attributes/SERVER_SCOPE", {"a": 1}, format="json")
    assert res.status_code in (400, 403, 404)
    assert not Attribute.objects.filter(entity_id=shared.pk).exists()


def test_relations_of_a_read_shared_entity_are_neither_saved_nor_wiped(customer_api, tenant, customer, meters,
                                                                       shared):
    own = make_device(tenant, "own-1", customer=customer)
    other = make_device(tenant, "tenants-own")
    EntityRelation.objects.create(tenant=tenant, from_type="DEVICE", from_id=shared.pk, to_type="DEVICE",
                                  to_id=other.pk, type="Contains", type_group="COMMON")
    body = {"from": {"entityType": "DEVICE", "id": str(shared.pk)}, "to": {"entityType": "DEVICE", "id": str(own.pk)},
            "type": "Contains"}
    assert_error(customer_api.post("/api/relation", body, format="json"), 403)
    assert_error(customer_api.post("/api/v2/relation", body, format="json"), 403)
    reverse = {**body, "from": body["to"], "to": body["from"]}
    assert_error(customer_api.post("/api/relation", reverse, format="json"), 403)
    assert_error(customer_api.delete(f"/api/relations?entityId={shared.pk}&entityType=DEVICE"), 403)
    assert_error(customer_api.delete(f"/api/relation?fromId={shared.pk}&fromType=DEVICE&relationType=Contains"
                                     f"&toId={other.pk}&toType=DEVICE"), 403)
    assert EntityRelation.objects.filter(from_id=shared.pk).count() == 1
    assert not EntityRelation.objects.filter(to_id=shared.pk).exists()
    res = customer_api.get(f"/api/relations?fromId={shared.pk}&fromType=DEVICE")
    assert res.status_code == 200, res.content  # reading stays allowed


def test_a_write_share_still_saves_relations(api, customer_api, tenant, customer, meters, shared):
    GroupPermission.objects.filter(entity_group=meters).delete()
    body = {"allUserGroup": False, "userGroupId": {"entityType": "ENTITY_GROUP", "id": str(users_of(customer).pk)},
            "readElseWrite": False}
    assert api.post(f"/api/entityGroup/{meters.pk}/share", body, format="json").status_code == 200
    own = make_device(tenant, "own-1", customer=customer)
    body = {"from": {"entityType": "DEVICE", "id": str(shared.pk)}, "to": {"entityType": "DEVICE", "id": str(own.pk)},
            "type": "Contains"}
    res = customer_api.post("/api/relation", body, format="json")
    assert res.status_code == 200, res.content


def test_no_alarm_is_raised_on_a_read_shared_device(customer_api, tenant, customer, meters, shared):
    from rulechains.models import Alarm

    body = {"originator": {"entityType": "DEVICE", "id": str(shared.pk)}, "type": "Overheat", "severity": "CRITICAL"}
    assert_error(customer_api.post("/api/alarm", body, format="json"), 403)
    assert not Alarm.objects.filter(originator_id=shared.pk).exists()
    own = make_device(tenant, "own-1", customer=customer)
    res = customer_api.post("/api/alarm", {**body, "originator": {"entityType": "DEVICE", "id": str(own.pk)}},
                            format="json")
    assert res.status_code == 200, res.content


def test_a_customer_user_sees_no_group_permissions(api, customer_api, tenant, customer, meters):
    other = make_customer(tenant, "Customer B")
    body = {"allUserGroup": False, "userGroupId": {"entityType": "ENTITY_GROUP", "id": str(users_of(other).pk)},
            "readElseWrite": True}
    assert api.post(f"/api/entityGroup/{meters.pk}/share", body, format="json").status_code == 200
    assert_error(customer_api.get(f"/api/entityGroup/{meters.pk}/groupPermissions"), 403)
    assert len(api.get(f"/api/entityGroup/{meters.pk}/groupPermissions").json()) == 2


def test_a_user_moved_to_another_customer_leaves_the_old_ones_groups(api, customer_api, customer_user, tenant,
                                                                     customer, meters, shared):
    assert customer_api.get(f"/api/device/{shared.pk}").status_code == 200
    other = make_customer(tenant, "Customer B")
    body = {"id": {"entityType": "USER", "id": str(customer_user.pk)}, "email": customer_user.email,
            "authority": "CUSTOMER_USER", "customerId": {"entityType": "CUSTOMER", "id": str(other.pk)}}
    res = api.post("/api/user?sendActivationMail=false", body, format="json")
    assert res.status_code == 200, res.content
    customer_user.refresh_from_db()
    assert customer_user.customer_id == other.pk
    assert set(customer_user.entity_groups.values_list("name", "customer_id")) == {("All", other.pk),
                                                                                  ("Customer Users", other.pk)}
    assert not rights_of(customer_user).groups
    assert_error(customer_api.get(f"/api/device/{shared.pk}"), 404)


def test_a_read_only_share_does_not_command_devices():
    assert "RPC_CALL" not in DEFAULT_ROLES["Entity Group Read-only User"][1]


def test_a_new_customers_defaults_cost_three_queries_and_ensuring_again_changes_nothing(tenant, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from roles import customer_defaults
    from roles.models import Role
    from tenants.models import Customer

    with CaptureQueriesContext(connection) as ctx:
        fresh = Customer.objects.create(tenant=tenant, title="Fresh")
    # + 1: its "All" device, asset and entity view groups, one INSERT (devices/all_groups.py)
    assert len([q for q in ctx.captured_queries if "tenants_customer" not in q["sql"]]) <= 3 + 1
    for owner in (fresh, customer):
        customer_defaults.ensure_customer(owner, EntityGroup, Role, GroupPermission)
        assert EntityGroup.objects.filter(customer=owner, type="USER").count() == 3
        assert GroupPermission.objects.filter(user_group__customer=owner).count() == 2
    EntityGroup.objects.filter(customer=customer, name="Customer Users").delete()
    groups = customer_defaults.ensure_customer(customer, EntityGroup, Role, GroupPermission)
    assert GroupPermission.objects.filter(user_group=groups["Customer Users"], role__name="Customer User").exists()


def test_a_customers_group_takes_only_that_customers_entities(api, tenant, customer):
    theirs = EntityGroup.objects.create(tenant=tenant, customer=customer, type="DEVICE", name="Theirs")
    own, tenants = make_device(tenant, "own-1", customer=customer), make_device(tenant, "tenants-1")
    path = f"/api/entityGroup/{theirs.pk}/addEntities"
    assert_error(api.post(path, [str(own.pk), str(tenants.pk)], format="json"), 400, "not owned")
    assert not theirs.devices.exists()
    assert api.post(path, [str(own.pk)], format="json").status_code == 200
    assert list(theirs.devices.all()) == [own]


def test_the_migration_takes_rpc_call_out_of_unedited_read_only_share_roles(tenant):
    import importlib

    from django.apps import apps as django_apps

    from roles.models import Role

    migration = importlib.import_module("roles.migrations.0005_read_only_share_role_without_rpc")
    role = Role.objects.get(tenant=tenant, name="Entity Group Read-only User")
    Role.objects.filter(pk=role.pk).update(permissions=migration._OLD)
    edited = Role.objects.create(tenant=tenant, name="Operators", type="GROUP", permissions=["READ", "RPC_CALL"])
    migration.forward(django_apps, None)
    role.refresh_from_db()
    edited.refresh_from_db()
    assert "RPC_CALL" not in role.permissions and edited.permissions == ["READ", "RPC_CALL"]
