import pytest
from devices.tests.test_device_provision_limits import profile_json
from devices.api.profiles import DeviceProfileResource

def test_probe(api, monkeypatch, db):
    from django.db import connection
    print("VENDOR", connection.vendor)
    for body in [profile_json(name="a", key="k"*300), profile_json(name="b", key="k\x00y"),
                 profile_json(name="c", secret="s\x00"), {**profile_json(name="d\x00", key="dd")},
                 {**profile_json(name="e", key="ee"), "description": "x\x00"}]:
        res = api.post("/api/deviceProfile", body, format="json")
        print(res.status_code, res.content[:200])
    api.post("/api/deviceProfile", profile_json(name="f", key="same"), format="json")
    monkeypatch.setattr(DeviceProfileResource, "before_save", lambda self, s: None)
    res = api.post("/api/deviceProfile", profile_json(name="g", key="same"), format="json")
    print("race", res.status_code, res.content[:200])
