"""The audit log beyond converters, integrations and rule chains: devices, assets, customers,
groups and profiles changed by users, customer (un)assignment and logins/logouts, in
ThingsBoard's actionType and actionData shapes."""

import json

from audit.context import acting_as
from audit.models import AuditLog
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import PASSWORD


def rows(api, **params) -> list[dict]:
    res = api.get("/api/audit/logs", {"pageSize": 100, "page": 0, "sortProperty": "createdTime", "sortOrder": "ASC",
                                      **params})
    assert res.status_code == 200, res.content
    return res.json()["data"]


def test_a_devices_life_and_its_customer_assignment_are_logged(api, customer):
    created = api.post("/api/device", {"name": "Meter 1", "type": "default"}, format="json").json()
    device_id = created["id"]["id"]
    assert api.post("/api/device", {**created, "label": "Kitchen"}, format="json").status_code == 200
    assert api.post(f"/api/customer/{customer.pk}/device/{device_id}").status_code == 200
    assert api.delete(f"/api/customer/device/{device_id}").status_code == 200
    assert api.delete(f"/api/device/{device_id}").status_code == 200

    log = [r for r in rows(api) if r["entityId"]["entityType"] == "DEVICE"]
    assert [r["actionType"] for r in log] == ["ADDED", "UPDATED", "ASSIGNED_TO_CUSTOMER", "UNASSIGNED_FROM_CUSTOMER",
                                              "DELETED"]
    added, updated, assigned, unassigned, deleted = log
    assert all(r["entityId"]["id"] == device_id and r["entityName"] == "Meter 1" for r in log)
    assert added["actionData"]["entity"]["name"] == "Meter 1"
    assert [d["path"] for d in updated["actionData"]["diff"]] == ["label"]
    assert assigned["actionData"] == {"entityId": device_id, "assignedCustomerId": str(customer.pk),
                                      "assignedCustomerName": "Customer A"}
    assert unassigned["actionData"] == {"entityId": device_id, "unassignedCustomerId": str(customer.pk),
                                        "unassignedCustomerName": "Customer A"}
    assert deleted["actionData"] == {"entityId": device_id}


def test_customers_assets_groups_and_profiles_are_logged_by_their_thingsboard_types(api):
    customer = api.post("/api/customer", {"title": "Acme"}, format="json").json()
    asset = api.post("/api/asset", {"name": "Plant", "type": "building"}, format="json").json()
    group = api.post("/api/entityGroup", {"name": "Meters", "type": "DEVICE"}, format="json").json()
    profile = api.post("/api/deviceProfile", {"name": "Meter", "type": "DEFAULT", "transportType": "DEFAULT",
                                              "profileData": {}}, format="json")
    assert profile.status_code == 200, profile.content
    added = {(r["entityId"]["entityType"], r["entityName"]) for r in rows(api, actionTypes="ADDED")}
    assert {("CUSTOMER", "Acme"), ("ASSET", "Plant"), ("ENTITY_GROUP", "Meters"), ("DEVICE_PROFILE", "Meter")} <= added
    assert customer["id"]["id"] in {r["entityId"]["id"] for r in rows(api, actionTypes="ADDED")}
    assert asset["id"] and group["id"]


def test_devices_saved_with_no_user_acting_are_not_audited(tenant, tenant_admin):
    device = make_device(tenant, "auto-provisioned")  # the worker's provisioning: no one acting
    device.label = "changed by a worker"
    device.save()
    assert not AuditLog.objects.exists()
    with acting_as(tenant_admin):
        make_device(tenant, "scripted")
    assert AuditLog.objects.get().entity_type == "DEVICE"


def test_logins_wrong_passwords_and_logouts_are_logged(anon, tenant_admin):
    res = anon.post("/api/auth/login", {"username": "alice@example.com", "password": PASSWORD}, format="json",
                    HTTP_USER_AGENT="tb-rest-client", REMOTE_ADDR="10.1.2.3")
    assert res.status_code == 200
    token = res.json()["token"]
    assert anon.post("/api/auth/login", {"username": "alice@example.com", "password": "wrong"},
                     format="json").status_code == 401
    assert anon.post("/api/auth/login", {"username": "nobody@example.com", "password": "wrong"},
                     format="json").status_code == 401  # no such user: no tenant to log it to
    anon.credentials(HTTP_X_AUTHORIZATION=f"Bearer {token}")
    assert anon.post("/api/auth/logout").status_code == 200

    log = list(AuditLog.objects.order_by("created_time", "action_type"))
    assert [(r.action_type, r.action_status) for r in log] == [("LOGIN", "SUCCESS"), ("LOGIN", "FAILURE"),
                                                               ("LOGOUT", "SUCCESS")]
    login, failed, logout = log
    assert (login.entity_type, login.entity_id, login.entity_name) == ("USER", tenant_admin.pk, "alice@example.com")
    assert login.action_data == {"entityId": str(tenant_admin.pk), "clientAddress": "10.1.2.3",
                                 "userAgent": "tb-rest-client"}
    assert failed.action_failure_details == "Invalid username or password"
    assert "wrong" not in str(failed.action_data) and logout.user_id == tenant_admin.pk


def test_an_admin_sign_in_is_a_login_too(client, tenant_admin):
    assert client.login(username="alice@example.com", password=PASSWORD)
    assert AuditLog.objects.get().action_type == "LOGIN"


def test_a_users_life_is_logged_and_its_password_never(api, anon, customer):
    created = api.post("/api/user?sendActivationMail=false", {
        "email": "ivy@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}},
        format="json").json()
    user_id = created["id"]["id"]
    assert api.post("/api/user", {**created, "firstName": "Ivy"}, format="json").status_code == 200
    link = api.get(f"/api/user/{user_id}/activationLink").content.decode()
    assert anon.post("/api/noauth/activate", {"activateToken": link.rsplit("=", 1)[1], "password": "ivy-pass-1"},
                     format="json").status_code == 200
    assert api.delete(f"/api/user/{user_id}").status_code == 200

    log = [r for r in rows(api) if r["entityId"]["entityType"] == "USER"]
    assert [r["actionType"] for r in log] == ["ADDED", "UPDATED", "DELETED"]  # activation: no user acting
    assert all(r["entityName"] == "ivy@example.com" and r["entityId"]["id"] == user_id for r in log)
    assert [d["path"] for d in log[1]["actionData"]["diff"]] == ["firstName"]
    assert "password" not in str(log) and "ivy-pass-1" not in str(log)


def test_a_save_refused_for_unstorable_text_is_audited_with_that_text_made_storable(api):
    """The failure row quotes the refused input: PostgreSQL's text and jsonb columns refuse a NUL
    character or a lone surrogate, so the row holds U+FFFD / "?" instead (it was a 500 there)."""
    for name in ("pump\u0000", "pump\ud800"):
        res = api.post("/api/device", json.dumps({"name": name, "type": "default"}), content_type="application/json")
        assert res.status_code == 400, res.content
    rows = list(AuditLog.objects.filter(action_status="FAILURE", entity_type="DEVICE").order_by("created_time"))
    assert [row.entity_name for row in rows] == ["pump\ufffd", "pump?"]
    assert "\u0000" not in json.dumps(rows[0].action_data, ensure_ascii=False)
