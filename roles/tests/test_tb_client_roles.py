"""Roles, user groups and group permissions through ThingsBoard's own generated client (tb-pe-client)
against the real ASGI server (the server fixtures of tests/test_tb_client.py)."""

import json

import pytest

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_roles_user_groups_and_permissions_through_the_client(client):  # noqa: F811
    from tb_pe_client.models import GroupPermission, Role, User
    from tb_pe_client.models.entity_group import EntityGroup

    roles = client.get_roles(page_size="50", page="0", type="GENERIC")
    assert {"Tenant Administrator", "Tenant User", "Customer User"} <= {r.name for r in roles.data}
    role = client.save_role(Role(name="Client readers", type="GROUP", permissions=["READ", "READ_TELEMETRY"]))
    assert role.id.id and role.type == "GROUP" and role.permissions == ["READ", "READ_TELEMETRY"]
    assert client.get_role_by_id(str(role.id.id)).name == "Client readers"
    assert [r.name for r in client.get_roles_by_ids(role_ids=[str(role.id.id)])] == ["Client readers"]

    users = client.save_entity_group(EntityGroup(name="Client operators", type="USER"))
    devices = client.save_entity_group(EntityGroup(name="Client meters", type="DEVICE"))
    user_groups = client.get_entity_groups_by_type_and_page_link(group_type="USER", page_size="10", page="0")
    assert {"All", "Tenant Administrators", "Tenant Users", "Client operators"} == {g.name for g in user_groups.data}

    saved = client.save_user(User(email="operator@client.test", authority="TENANT_ADMIN"),
                             send_activation_mail="false", entity_group_ids=[str(users.id.id)])
    members = client.get_users_by_entity_group_id(str(users.id.id), page_size=10, page=0)
    assert [u.email for u in members.data] == ["operator@client.test"]
    assert str(members.data[0].id.id) == str(saved.id.id)

    permission = client.save_group_permission(GroupPermission(user_group_id=users.id, role_id=role.id,
                                                              entity_group_id=devices.id))
    assert permission.entity_group_type == "DEVICE"
    infos = client.get_user_group_permissions(str(users.id.id))
    assert [(i.role.name, i.entity_group_name) for i in infos] == [("Client readers", "Client meters")]
    assert [i.user_group_name for i in client.get_entity_group_permissions(str(devices.id.id))] == ["Client operators"]
    info = client.get_group_permission_info_by_id(str(permission.id.id), is_user_group=True)
    assert info.user_group_name == "Client operators" and info.role.type == "GROUP"

    raw = json.loads(client.get_allowed_permissions_without_preload_content().data)
    assert raw["userPermissions"]["genericPermissions"] == {"ALL": ["ALL"]}

    with pytest.raises(Exception) as refused:
        client.delete_role(str(role.id.id))
    assert "referenced by group permissions" in str(refused.value)
    client.delete_group_permission(str(permission.id.id))
    client.delete_role(str(role.id.id))
