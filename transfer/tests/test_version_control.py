"""Entities version control against real git repositories on disk (bare repositories made with
dulwich; the server fetches and pushes through a file path, as it would through a URL: the tests allow
local repositories, see conftest.py)."""

import json

import pytest
from dulwich.repo import Repo

from tbproject.testing.api import assert_error

pytestmark = pytest.mark.django_db


def configure(api, uri, **extra):
    res = api.post("/api/admin/repositorySettings", {"repositoryUri": uri, "authMethod": "USERNAME_PASSWORD",
                                                     "defaultBranch": "main", **extra}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def make_entities(api) -> dict:
    profile = api.post("/api/deviceProfile", {"name": "Thermometers"}, format="json").json()
    device = api.post("/api/device", {"name": "t-1", "deviceProfileId": profile["id"]}, format="json").json()
    dashboard = api.post("/api/dashboard", {"title": "Plant", "configuration": {"widgets": {}}}, format="json").json()
    chain = api.post("/api/ruleChain", {"name": "Routing"}, format="json").json()
    return {"DEVICE_PROFILE": profile, "DEVICE": device, "DASHBOARD": dashboard, "RULE_CHAIN": chain}


def commit(api, body) -> dict:
    res = api.post("/api/entities/vc/version", {"versionName": "v", "branch": "main", **body}, format="json")
    assert res.status_code == 200, res.content
    status = api.get(f"/api/entities/vc/version/{res.json()}/status")
    assert status.status_code == 200
    return status.json()


def complex_body(name="all", **config):
    types = {t: {"allEntities": True, "saveAttributes": True, "saveCredentials": True, "saveRelations": True, **config}
             for t in ("DEVICE_PROFILE", "DEVICE", "DASHBOARD", "RULE_CHAIN")}
    return {"type": "COMPLEX", "versionName": name, "syncStrategy": "MERGE", "entityTypes": types}


def load(api, body) -> dict:
    res = api.post("/api/entities/vc/entity", body, format="json")
    assert res.status_code == 200, res.content
    return api.get(f"/api/entities/vc/entity/{res.json()}/status").json()


def files_of(remote_path, branch=b"main") -> dict:
    repo = Repo(remote_path)
    try:
        tree = repo[repo.refs[b"refs/heads/" + branch]].tree
        from dulwich.object_store import iter_tree_contents
        return {e.path.decode(): json.loads(repo[e.sha].data) for e in iter_tree_contents(repo.object_store, tree)}
    finally:
        repo.close()


def test_it_stores_settings_with_write_only_secrets(api, remote):
    assert api.get("/api/admin/repositorySettings/exists").json() is False
    saved = configure(api, remote, username="git", password="s3cret")
    assert saved["repositoryUri"] == remote and "password" not in saved and saved["username"] == "git"
    assert "s3cret" not in api.get("/api/admin/repositorySettings").content.decode()
    assert api.get("/api/admin/repositorySettings/info").json() == {"configured": True, "readOnly": False}
    from transfer.models import RepositorySettings
    configure(api, remote, username="git")  # no password sent: the stored one stays
    assert RepositorySettings.objects.get().password == "s3cret"
    assert api.post("/api/admin/repositorySettings/checkAccess", {"repositoryUri": remote},
                    format="json").status_code == 200
    assert api.delete("/api/admin/repositorySettings").status_code == 200
    assert api.get("/api/admin/repositorySettings/exists").json() is False


def test_it_refuses_bad_settings_and_unreachable_repositories(api, remote, tmp_path):
    assert_error(api.post("/api/admin/repositorySettings", {}, format="json"), 400)
    assert_error(api.post("/api/admin/repositorySettings", {"repositoryUri": remote, "readOnly": "yes"},
                          format="json"), 400)
    assert_error(api.post("/api/admin/repositorySettings", {"repositoryUri": remote, "authMethod": "PRIVATE_KEY"},
                          format="json"), 400)
    res = api.post("/api/admin/repositorySettings/checkAccess", {"repositoryUri": str(tmp_path / "none.git")},
                   format="json")
    assert "Unable to access repository" in assert_error(res, 400)["message"]
    assert api.get("/api/admin/repositorySettings/exists").json() is False


def test_it_commits_lists_diffs_and_loads_back(api, remote):
    configure(api, remote)
    made = make_entities(api)
    api.post(f"/api/plugins/telemetry/DEVICE/{made['DEVICE']['id']['id']}/attributes/SERVER_SCOPE",
             {"floor": 3}, format="json")
    result = commit(api, complex_body("first"))
    assert result["done"] is True and result["error"] is None
    first = result["version"]["id"]
    stored = files_of(remote)
    device_path = f"device/{made['DEVICE']['id']['id']}.json"
    # and the tenant's default device profile and root rule chain
    assert result["added"] == len(stored) == 6
    assert {f"{t.lower()}/{e['id']['id']}.json" for t, e in made.items()} < set(stored)
    assert stored[device_path]["entity"]["name"] == "t-1"
    assert stored[device_path]["credentials"]["credentialsType"] == "ACCESS_TOKEN"
    assert stored[device_path]["attributes"]["SERVER_SCOPE"][0]["key"] == "floor"
    assert "metaData" in stored[f"rule_chain/{made['RULE_CHAIN']['id']['id']}.json"]

    device = api.get(f"/api/device/{made['DEVICE']['id']['id']}").json()
    api.post("/api/device", {**device, "label": "changed"}, format="json")
    diff = api.get(f"/api/entities/vc/diff/DEVICE/{device['id']['id']}?versionId={first}").json()
    assert diff["otherVersion"]["entity"]["label"] in ("", None)
    assert diff["currentVersion"]["entity"]["label"] == "changed"
    second = commit(api, {"type": "SINGLE_ENTITY", "versionName": "relabel", "entityId": device["id"],
                          "config": {"saveAttributes": False}})
    assert (second["added"], second["modified"]) == (0, 1)

    page = api.get("/api/entities/vc/version?branch=main&pageSize=10&page=0").json()
    assert [v["name"] for v in page["data"]] == ["relabel", "first"] and page["totalElements"] == 2
    assert page["data"][0]["author"].endswith("<alice@example.com>")
    only = api.get(f"/api/entities/vc/version/DASHBOARD/{made['DASHBOARD']['id']['id']}?branch=main&pageSize=10"
                   "&page=0").json()
    assert [v["name"] for v in only["data"]] == ["first"]
    assert len(api.get("/api/entities/vc/version/DEVICE?branch=main&pageSize=10&page=0").json()["data"]) == 2
    listed = api.get(f"/api/entities/vc/entity/DEVICE/{first}").json()
    assert listed == [{"externalId": device["id"], "path": device_path}]
    assert len(api.get(f"/api/entities/vc/entity/{first}").json()) == 6
    info = api.get(f"/api/entities/vc/info/{first}/DEVICE/{device['id']['id']}").json()
    assert info["hasAttributes"] is True and info["hasCredentials"] is True

    loaded = load(api, {"type": "SINGLE_ENTITY", "versionId": first, "externalEntityId": device["id"],
                        "config": {"loadAttributes": True, "loadCredentials": True}})
    assert loaded["error"] is None and loaded["result"][0]["updated"] == 1
    assert api.get(f"/api/device/{device['id']['id']}").json()["label"] in ("", None)


def test_it_restores_deleted_entities_of_a_type(api, remote):
    configure(api, remote)
    made = make_entities(api)
    version = commit(api, complex_body())["version"]["id"]
    assert api.delete(f"/api/device/{made['DEVICE']['id']['id']}").status_code == 200
    assert api.delete(f"/api/dashboard/{made['DASHBOARD']['id']['id']}").status_code == 200
    loaded = load(api, {"type": "ENTITY_TYPE", "versionId": version, "rollbackOnError": True,
                        "entityTypes": {"DEVICE_PROFILE": {}, "DEVICE": {"loadCredentials": True},
                                        "DASHBOARD": {}}})
    assert loaded["error"] is None, loaded
    counts = {r["entityType"]: (r["created"], r["updated"]) for r in loaded["result"]}
    assert counts == {"DEVICE_PROFILE": (0, 2), "DEVICE": (1, 0), "DASHBOARD": (1, 0)}  # with the default profile
    devices = api.get("/api/tenant/devices?pageSize=10&page=0").json()["data"]
    assert [d["name"] for d in devices] == ["t-1"] and devices[0]["deviceProfileId"] == made["DEVICE_PROFILE"]["id"]
    # loading again updates the re-created entities (their external ids are remembered)
    again = load(api, {"type": "ENTITY_TYPE", "versionId": version, "entityTypes": {"DEVICE": {}}})
    assert again["result"][0]["updated"] == 1 and again["result"][0]["created"] == 0
    # the re-created device is committed under its external id: the same file
    assert commit(api, complex_body("again"))["added"] == 0


def test_it_lists_branches_and_commits_to_a_new_one(api, remote):
    configure(api, remote)
    made = make_entities(api)
    commit(api, complex_body())
    res = commit(api, {"type": "SINGLE_ENTITY", "branch": "feature", "entityId": made["DEVICE"]["id"]})
    assert res["error"] is None
    assert api.get("/api/entities/vc/branches").json() == [{"name": "feature", "default": False},
                                                            {"name": "main", "default": True}]
    assert set(files_of(remote, b"feature")) == {f"device/{made['DEVICE']['id']['id']}.json"}


def test_it_refuses_to_commit_to_a_read_only_repository(api, remote):
    configure(api, remote, readOnly=True)
    made = make_entities(api)
    res = api.post("/api/entities/vc/version", {"type": "SINGLE_ENTITY", "versionName": "x",
                                                "entityId": made["DEVICE"]["id"]}, format="json")
    assert "read-only" in assert_error(res, 400)["message"]


def test_an_unreachable_repository_fails_the_request_with_its_reason(api, remote, tmp_path):
    configure(api, remote)
    made = make_entities(api)
    from transfer.models import RepositorySettings
    RepositorySettings.objects.update(repository_uri=str(tmp_path / "moved.git"))
    result = commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"]})
    assert result["done"] is True and "Not a git repository" in result["error"]
    loaded = load(api, {"type": "SINGLE_ENTITY", "versionId": "0" * 40, "externalEntityId": made["DEVICE"]["id"]})
    assert loaded["done"] is True and "Not a git repository" in loaded["error"]["message"]


def test_it_refuses_bad_requests(api, remote):
    assert_error(api.post("/api/entities/vc/version", {"type": "COMPLEX", "versionName": "x"}, format="json"), 404)
    configure(api, remote)
    for body in ({}, {"type": "NOPE", "versionName": "x"}, {"type": "SINGLE_ENTITY"},
                 {"type": "SINGLE_ENTITY", "versionName": "x", "entityId": {"entityType": "USER", "id": "x"}},
                 {"type": "COMPLEX", "versionName": "x", "entityTypes": {"TENANT": {}}}):
        assert_error(api.post("/api/entities/vc/version", body, format="json"), 400)
    assert_error(api.post("/api/entities/vc/entity", {"type": "ENTITY_TYPE", "versionId": "a"}, format="json"), 400)
    assert_error(api.get("/api/entities/vc/version/WIDGET/x?pageSize=1&page=0"), 400)
    assert_error(api.get("/api/entities/vc/version?pageSize=1"), 400)
    assert_error(api.get(f"/api/entities/vc/entity/{'f' * 40}"), 404)
    assert_error(api.get("/api/entities/vc/version/not-a-uuid/status"), 400)


def test_tenants_sharing_a_repository_never_see_each_other(api, mallory_api, remote, other_tenant):
    configure(api, remote)
    configure(mallory_api, remote)
    made = make_entities(api)
    ours = commit(api, complex_body("alice"))["version"]["id"]
    theirs = api_device = mallory_api.post("/api/device", {"name": "m-1"}, format="json").json()
    mine = commit(mallory_api, {"type": "SINGLE_ENTITY", "versionName": "mallory", "entityId": theirs["id"]})
    assert mine["error"] is None
    assert [v["name"] for v in mallory_api.get("/api/entities/vc/version?pageSize=10&page=0").json()["data"]] \
        == ["mallory"]
    assert [v["name"] for v in api.get("/api/entities/vc/version?pageSize=10&page=0").json()["data"]] == ["alice"]
    assert_error(mallory_api.get(f"/api/entities/vc/entity/{ours}"), 404)
    assert mallory_api.get(f"/api/entities/vc/entity/{mine['version']['id']}").json() == [
        {"externalId": api_device["id"], "path": f"device/{api_device['id']['id']}.json"}]
    # alice's device sits in the tree under mallory's commit, and still does not load there
    loaded = load(mallory_api, {"type": "ENTITY_TYPE", "versionId": mine["version"]["id"],
                                "entityTypes": {"DEVICE": {}}})
    assert loaded["result"][0]["updated"] == 1 and loaded["result"][0]["created"] == 0
    assert_error(mallory_api.get(f"/api/entities/vc/diff/DEVICE/{made['DEVICE']['id']['id']}?versionId={ours}"), 404)
    # request ids are per tenant
    request_id = api.post("/api/entities/vc/version", {"type": "SINGLE_ENTITY", "versionName": "x",
                                                       "entityId": made["DEVICE"]["id"]}, format="json").json()
    assert_error(mallory_api.get(f"/api/entities/vc/version/{request_id}/status"), 404)


def test_only_tenant_administrators_use_version_control(customer_api, sysadmin, remote):
    from tbproject.testing.fixtures import api_as
    assert_error(customer_api.get("/api/entities/vc/branches"), 403)
    assert_error(customer_api.post("/api/admin/repositorySettings", {"repositoryUri": remote}, format="json"), 403)
    assert_error(api_as(sysadmin).get("/api/entities/vc/version?pageSize=1&page=0"), 403)


def test_auto_commit_settings_round_trip(api):
    assert api.get("/api/admin/autoCommitSettings").json() == {}
    saved = api.post("/api/admin/autoCommitSettings", {"DEVICE": {"saveAttributes": True, "branch": "auto"}},
                     format="json").json()
    assert saved["DEVICE"]["saveAttributes"] is True and saved["DEVICE"]["branch"] == "auto"
    assert api.get("/api/admin/autoCommitSettings/exists").json() is True
    assert_error(api.post("/api/admin/autoCommitSettings", {"WIDGET": {}}, format="json"), 400)
    assert api.delete("/api/admin/autoCommitSettings").status_code == 200
    assert api.get("/api/admin/autoCommitSettings/exists").json() is False


def test_it_auto_commits_saved_entities_of_configured_types(api, remote, django_capture_on_commit_callbacks):
    configure(api, remote)
    api.post("/api/admin/autoCommitSettings", {"DEVICE": {"saveAttributes": False, "branch": "auto"}}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        device = api.post("/api/device", {"name": "auto-1"}, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/asset", {"name": "not-configured"}, format="json")
    assert set(files_of(remote, b"auto")) == {f"device/{device['id']['id']}.json"}
    names = [v["name"] for v in api.get("/api/entities/vc/version?branch=auto&pageSize=5&page=0").json()["data"]]
    assert names == ["Auto-commit: DEVICE auto-1"]


def test_wrong_credentials_are_refused_with_a_clear_error(api, http_remote, remote):
    res = api.post("/api/admin/repositorySettings", {"repositoryUri": http_remote, "username": "git",
                                                     "password": "wrong"}, format="json")
    assert "Unable to access repository" in assert_error(res, 400)["message"]
    configure(api, http_remote, username="git", password="right")
    made = make_entities(api)
    assert commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"]})["error"] is None
    assert f"device/{made['DEVICE']['id']['id']}.json" in files_of(remote)
    from transfer.models import RepositorySettings
    RepositorySettings.objects.update(password="changed-since")
    result = commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"]})
    assert result["done"] is True and ("401" in result["error"] or "uthentication" in result["error"])
    assert "changed-since" not in result["error"]


def test_the_answers_parse_as_the_thingsboard_client_models(api, remote):
    from tb_pe_client.models import (
        BranchInfo,
        EntityDataInfo,
        PageDataEntityVersion,
        RepositorySettings,
        RepositorySettingsInfo,
        VersionCreationResult,
        VersionedEntityInfo,
        VersionLoadResult,
    )

    assert RepositorySettings.from_dict(configure(api, remote)).repository_uri == remote
    assert RepositorySettingsInfo.from_dict(api.get("/api/admin/repositorySettings/info").json()).configured
    made = make_entities(api)
    created = VersionCreationResult.from_dict(commit(api, {"type": "SINGLE_ENTITY", "entityId": made["DEVICE"]["id"],
                                                           "config": {"saveCredentials": True}}))
    assert created.done and created.added == 1 and len(created.version.id) == 40
    page = PageDataEntityVersion.from_dict(api.get("/api/entities/vc/version?pageSize=5&page=0").json())
    assert page.data[0].id == created.version.id and page.has_next is False
    info = VersionedEntityInfo.from_dict(api.get(f"/api/entities/vc/entity/{created.version.id}").json()[0])
    assert str(info.external_id.id) == made["DEVICE"]["id"]["id"]
    data_info = EntityDataInfo.from_dict(
        api.get(f"/api/entities/vc/info/{created.version.id}/DEVICE/{made['DEVICE']['id']['id']}").json())
    assert data_info.has_credentials is True and data_info.has_attributes is False
    assert BranchInfo.from_dict(api.get("/api/entities/vc/branches").json()[0]).default is True
    loaded = VersionLoadResult.from_dict(load(api, {"type": "SINGLE_ENTITY", "versionId": created.version.id,
                                                    "externalEntityId": made["DEVICE"]["id"]}))
    assert loaded.done and loaded.error is None and loaded.result[0].updated == 1
