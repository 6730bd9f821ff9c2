"""A device profile's provision fields that no column holds are a 400, not PostgreSQL's error (run with
DATABASE_URL too); two saves racing for one provision key answer ThingsBoard's 400 for the key, not the
unique index's error or the name's message."""

import json

import pytest

from devices.api.profiles import DeviceProfileResource
from devices.models import DeviceProfile

DUPLICATE_KEY = "Device profile with such provision device key already exists!"


def profile_json(name="Provisioned", key="pk-1", secret="ps-1") -> dict:
    kind = "ALLOW_CREATE_NEW_DEVICES"
    return {"name": name, "type": "DEFAULT", "transportType": "DEFAULT", "provisionType": kind,
            "provisionDeviceKey": key,
            "profileData": {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"},
                            "provisionConfiguration": {"type": kind, "provisionDeviceSecret": secret}}}


@pytest.mark.parametrize(("body", "field"), [
    (profile_json(key="k" * 300), "provisionDeviceKey"),
    (profile_json(key="k\x00y"), "provisionDeviceKey"),
    (profile_json(secret="s\x00"), "profileData"),
    ({**profile_json(), "image": "i\x00"}, "image"),
])
def test_provision_fields_no_column_holds_are_a_400(api, body, field):
    res = api.post("/api/deviceProfile", body, format="json")
    assert res.status_code == 400, res.content
    assert res.json()["message"].startswith(f"{field}: ")
    assert not DeviceProfile.objects.filter(name="Provisioned").exists()


def test_a_lone_surrogate_in_the_key_is_a_400(api):
    raw = json.dumps(profile_json(key="KEY")).replace('"KEY"', '"k\\ud800"')
    res = api.post("/api/deviceProfile", raw, content_type="application/json")
    assert res.status_code == 400, res.content
    assert res.json()["message"].startswith("provisionDeviceKey: ")


def test_a_key_of_255_characters_is_kept(api):
    res = api.post("/api/deviceProfile", profile_json(key="k" * 255), format="json")
    assert res.status_code == 200, res.content
    assert DeviceProfile.objects.get(name="Provisioned").provision_device_key == "k" * 255


def test_a_save_that_loses_the_race_for_a_key_answers_thingsboards_400(api, mallory_api, monkeypatch):
    assert api.post("/api/deviceProfile", profile_json(name="first"), format="json").status_code == 200
    # both saves passed the check before either committed: the unique index decides
    monkeypatch.setattr(DeviceProfileResource, "before_save", lambda self, serializer: None)
    for client in (api, mallory_api):
        res = client.post("/api/deviceProfile", profile_json(name="second"), format="json")
        assert res.status_code == 400, res.content
        assert res.json()["message"] == DUPLICATE_KEY
    assert DeviceProfile.objects.filter(name="second").count() == 0
    # a name clash is still the name's message
    res = api.post("/api/deviceProfile", profile_json(name="first", key="other"), format="json")
    assert res.status_code == 400 and res.json()["message"] == "Device profile with such name already exists!"
