"""Version control keeps the caller's rights on attributes and relations (READ_/WRITE_ATTRIBUTES, both ends
of a relation), and a malformed file in a repository fails its request with an error, never a 500 or a
request pending forever."""

import json
import uuid

import pytest
from dulwich.object_store import commit_tree_changes
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from devices.attributes import get_attributes
from devices.models import EntityGroup
from roles.models import GroupPermission, Role
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User
from transfer.tests.test_version_control import commit, configure, files_of, load

pytestmark = pytest.mark.django_db


def restricted(tenant, permissions: dict):
    """A tenant administrator whose only role grants ``permissions``."""
    user = User.objects.create_user(f"{uuid.uuid4().hex[:8]}@example.com", authority=Authority.TENANT_ADMIN,
                                    tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name=f"Limited {user.email}")
    group.users.add(user)
    role = Role.objects.create(tenant=tenant, name=f"Limited {user.email}", type="GENERIC", permissions=permissions)
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    return api_as(user)


def put_files(remote_path, files: dict, branch=b"main") -> str:
    """Commit ``files`` (path -> JSON-able or bytes) on ``branch`` of the bare repository, as a person would."""
    repo = Repo(remote_path)
    try:
        ref = b"refs/heads/" + branch
        parent = repo.refs[ref] if ref in repo.refs else None
        store = repo.object_store
        if parent:
            tree_id = store[parent].tree
        else:
            tree = Tree()
            store.add_object(tree)
            tree_id = tree.id
        entries = []
        for path, content in files.items():
            blob = Blob.from_string(content if isinstance(content, bytes) else json.dumps(content).encode())
            store.add_object(blob)
            entries.append((path.encode(), 0o100644, blob.id))
        made = Commit()
        made.tree = commit_tree_changes(store, tree_id, entries)
        made.parents = [parent] if parent else []
        made.author = made.committer = b"Someone <someone@example.com>"
        made.author_time = made.commit_time = 1_700_000_000
        made.author_timezone = made.commit_timezone = 0
        made.message = b"by hand\n"
        store.add_object(made)
        repo.refs[ref] = made.id
        return made.id.decode()
    finally:
        repo.close()


@pytest.fixture
def device(api, remote):
    configure(api, remote)
    made = api.post("/api/device", {"name": "d-1"}, format="json").json()
    api.post(f"/api/plugins/telemetry/DEVICE/{made['id']['id']}/attributes/SERVER_SCOPE", {"floor": 3}, format="json")
    return made


def test_attributes_are_not_committed_without_read_attributes(tenant, device, remote):
    limited = restricted(tenant, {"VERSION_CONTROL": ["ALL"], "DEVICE": ["READ"]})
    result = commit(limited, {"type": "SINGLE_ENTITY", "entityId": device["id"], "config": {"saveAttributes": True}})
    assert result["done"] is True and "permission" in result["error"]
    assert not (Repo(remote).refs.as_dict(b"refs/heads/"))  # nothing pushed
    # the diff does not show the current attributes either
    version = commit(api_as(User.objects.get(email="alice@example.com")),
                     {"type": "SINGLE_ENTITY", "entityId": device["id"], "config": {"saveAttributes": True}})
    res = limited.get(f"/api/entities/vc/diff/DEVICE/{device['id']['id']}?versionId={version['version']['id']}")
    assert_error(res, 403)


def test_attributes_are_not_loaded_without_write_attributes(api, tenant, device):
    version = commit(api, {"type": "SINGLE_ENTITY", "entityId": device["id"], "config": {"saveAttributes": True}})
    pk = device["id"]["id"]
    api.post(f"/api/plugins/telemetry/DEVICE/{pk}/attributes/SERVER_SCOPE", {"floor": 4}, format="json")
    limited = restricted(tenant, {"VERSION_CONTROL": ["ALL"], "DEVICE": ["READ", "WRITE"],
                                  "DEVICE_PROFILE": ["READ"]})
    loaded = load(limited, {"type": "SINGLE_ENTITY", "versionId": version["version"]["id"],
                            "externalEntityId": device["id"], "config": {"loadAttributes": True}})
    assert loaded["done"] is True and "permission" in loaded["error"]["message"]
    assert [a["value"] for a in get_attributes(uuid.UUID(pk), "SERVER_SCOPE")] == [4]


def test_relations_keep_the_rights_on_both_ends(api, tenant, device, remote):
    asset = api.post("/api/asset", {"name": "a-1"}, format="json").json()
    relation = {"from": device["id"], "to": asset["id"], "type": "Contains"}
    assert api.post("/api/relation", relation, format="json").status_code == 200
    full = commit(api, {"type": "SINGLE_ENTITY", "entityId": device["id"], "config": {"saveRelations": True}})
    assert len(files_of(remote)[f"device/{device['id']['id']}.json"]["relations"]) == 1
    # a role that does not read assets commits the device without the relation to the asset
    reader = restricted(tenant, {"VERSION_CONTROL": ["ALL"], "DEVICE": ["READ"]})
    commit(reader, {"type": "SINGLE_ENTITY", "branch": "reader", "entityId": device["id"],
                    "config": {"saveRelations": True}})
    assert files_of(remote, b"reader")[f"device/{device['id']['id']}.json"]["relations"] == []
    # nor does a role that writes devices but not assets load it
    api.delete(f"/api/relation?fromId={device['id']['id']}&fromType=DEVICE&relationType=Contains"
               f"&toId={asset['id']['id']}&toType=ASSET")
    writer = restricted(tenant, {"VERSION_CONTROL": ["ALL"], "DEVICE": ["ALL"], "DEVICE_PROFILE": ["READ"]})
    loaded = load(writer, {"type": "SINGLE_ENTITY", "versionId": full["version"]["id"],
                           "externalEntityId": device["id"], "config": {"loadRelations": True}})
    assert loaded["done"] is True and "permission" in loaded["error"]["message"]
    assert api.get(f"/api/relations?fromId={device['id']['id']}&fromType=DEVICE").json() == []


BAD_FILES = {
    "entity without id": lambda ext: {"entityType": "DEVICE", "entity": {"name": "x", "type": "default"}},
    "entity is a list": lambda ext: {"entityType": "DEVICE", "entity": [1]},
    "id of another type": lambda ext: {"entityType": "DEVICE", "entity": {"id": {"entityType": "ASSET", "id": ext},
                                                                          "name": "x"}},
    "attribute without key": lambda ext: {"entityType": "DEVICE", "entity": {"id": {"entityType": "DEVICE",
                                                                                    "id": ext}, "name": "x"},
                                          "attributes": {"SERVER_SCOPE": [{"value": 1}]}},
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_file_fails_the_load_with_an_error(api, remote, case):
    configure(api, remote)
    ext = str(uuid.uuid4())
    version = put_files(remote, {f"device/{ext}.json": BAD_FILES[case](ext)})
    config = {"loadAttributes": True}
    for body in ({"type": "SINGLE_ENTITY", "versionId": version, "config": config,
                  "externalEntityId": {"entityType": "DEVICE", "id": ext}},
                 {"type": "ENTITY_TYPE", "versionId": version, "entityTypes": {"DEVICE": config}}):
        loaded = load(api, body)
        assert loaded["done"] is True and loaded["error"] is not None, (case, body["type"])
        assert "not a valid entity file" in loaded["error"]["message"]
    assert api.get("/api/tenant/devices?pageSize=10&page=0").json()["data"] == []
    assert api.get(f"/api/entities/vc/entity/{version}").status_code == 200
    assert api.get(f"/api/entities/vc/info/{version}/DEVICE/{ext}").status_code in (200, 404)


def test_an_unexpected_failure_ends_the_request(api, remote, monkeypatch):
    from transfer.vc import versions

    configure(api, remote)
    device = api.post("/api/device", {"name": "d"}, format="json").json()
    monkeypatch.setattr(versions, "create_version", lambda *a: 1 / 0)
    result = commit(api, {"type": "SINGLE_ENTITY", "entityId": device["id"]})
    assert result["done"] is True and result["error"] and "division" not in result["error"]


def test_auto_commit_survives_an_endpoint_refusal(api, remote, monkeypatch):
    from transfer.vc import autocommit, entities
    from transfer.vc.calls import CallError

    configure(api, remote)
    api.post("/api/admin/autoCommitSettings", {"DEVICE": {}}, format="json")
    device = api.post("/api/device", {"name": "d"}, format="json").json()

    def refuse(*args):
        raise CallError(403, "no")

    monkeypatch.setattr(entities, "export_entity", refuse)
    assert autocommit.commit(device["tenantId"]["id"], "DEVICE", device["id"]["id"]) is None
