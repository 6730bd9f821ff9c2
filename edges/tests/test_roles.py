"""Edge routes under GENERIC roles (roles/enforcement.py: the EDGE resource): an edge reader reads edges but
saves, deletes, assigns and syncs none; edges/enabled is open to every authority."""

import pytest

from devices.models import EntityGroup
from edges.models import Edge
from roles.models import GroupPermission, Role
from rulechains.models import RuleChain
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

NO = "You don't have permission to perform this operation!"


def restricted(tenant, permissions: dict) -> User:
    user = User.objects.create_user(f"{len(permissions)}-{id(permissions)}@example.com",
                                    authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name=f"group {id(permissions)}")
    group.users.add(user)
    role = Role.objects.create(tenant=tenant, name=f"role {id(permissions)}", type="GENERIC", permissions=permissions)
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    return user


@pytest.fixture
def edge(api):
    res = api.post("/api/edge", {"name": "roles-edge", "type": "default"}, format="json")
    return Edge.objects.get(pk=res.json()["id"]["id"])


def test_an_edge_reader_reads_but_changes_nothing(tenant, edge, sysadmin):
    client = api_as(restricted(tenant, {"EDGE": ["READ"], "RULE_CHAIN": ["READ"]}))
    assert client.get(f"/api/edge/{edge.pk}").status_code == 200
    assert client.get("/api/tenant/edges?pageSize=10&page=0").json()["totalElements"] == 1
    assert client.get(f"/api/edge/{edge.pk}/events?pageSize=10&page=0").status_code == 200
    chain = RuleChain.objects.create(tenant=tenant, name="c", type="EDGE")
    assert_error(client.post("/api/edge", {"name": "other", "type": "default"}, format="json"), 403, NO)
    assert_error(client.delete(f"/api/edge/{edge.pk}"), 403, NO)
    assert_error(client.post(f"/api/edge/{edge.pk}/ruleChain/{chain.pk}"), 403, NO)
    assert_error(client.post(f"/api/edge/sync/{edge.pk}"), 403, NO)
    assert Edge.objects.filter(tenant=tenant).count() == 1


def test_a_user_without_edge_rights_reads_no_edge_but_may_ask_whether_edges_are_enabled(tenant, edge, sysadmin):
    client = api_as(restricted(tenant, {"DEVICE": ["READ"]}))
    assert_error(client.get(f"/api/edge/{edge.pk}"), 403, NO)
    assert_error(client.get("/api/tenant/edges?pageSize=10&page=0"), 403, NO)
    assert client.get("/api/edges/enabled").json() is True
    assert api_as(sysadmin).get("/api/edges/enabled").json() is True
