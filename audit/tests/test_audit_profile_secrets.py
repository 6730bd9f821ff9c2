"""A device profile's provision secret never reaches the audit log: the snapshot masks it, and a changed
secret shows as ``******`` -> ``******`` (audit/snapshots.py)."""

import json

from audit.models import AuditLog
from integrations.types.base import MASK


def profile_json(secret="first-secret-1") -> dict:
    kind = "ALLOW_CREATE_NEW_DEVICES"
    return {"name": "Provisioned", "type": "DEFAULT", "transportType": "DEFAULT", "provisionType": kind,
            "provisionDeviceKey": "audit-key-1",
            "profileData": {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"},
                            "provisionConfiguration": {"type": kind, "provisionDeviceSecret": secret}}}


def test_the_provision_secret_is_masked_in_every_row(api):
    created = api.post("/api/deviceProfile", profile_json(), format="json")
    assert created.status_code == 200, created.content
    body = created.json()
    assert body["profileData"]["provisionConfiguration"]["provisionDeviceSecret"] == "first-secret-1"  # the API's
    changed = {**body, "profileData": profile_json("rotated-secret-2")["profileData"], "description": "v2"}
    assert api.post("/api/deviceProfile", changed, format="json").status_code == 200

    rows = AuditLog.objects.filter(entity_type="DEVICE_PROFILE").order_by("created_time")
    added = rows.get(action_type="ADDED").action_data
    assert added["entity"]["profileData"]["provisionConfiguration"]["provisionDeviceSecret"] == MASK
    diff = {d["path"]: d for d in rows.get(action_type="UPDATED").action_data["diff"]}
    assert diff["profileData.provisionConfiguration.provisionDeviceSecret"] == {
        "path": "profileData.provisionConfiguration.provisionDeviceSecret", "old": MASK, "new": MASK}
    assert diff["description"]["new"] == "v2"
    stored = json.dumps(list(AuditLog.objects.values_list("action_data", flat=True)))
    assert "first-secret-1" not in stored and "rotated-secret-2" not in stored


def test_a_profile_without_a_secret_logs_as_it_is(api):
    res = api.post("/api/deviceProfile", {"name": "Plain"}, format="json")
    assert res.status_code == 200
    row = AuditLog.objects.get(entity_type="DEVICE_PROFILE", action_type="ADDED")
    assert row.action_data["entity"]["profileData"]["provisionConfiguration"]["provisionDeviceSecret"] is None
