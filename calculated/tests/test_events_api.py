"""Debug events of calculated fields through ThingsBoard's events API (/api/events/CALCULATED_FIELD/...)."""

import json

import pytest

from calculated.tests.helpers import save, simple, telemetry, ts_arg
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db(transaction=True)  # fields compute after the write commits

PAGE = {"pageSize": 10, "page": 0}


@pytest.fixture
def field(api, tenant):
    device = make_device(tenant, "events-1")
    body = simple(device, "a * 2", {"a": ts_arg("a")}, "double")
    body["debugSettings"] = {"failuresEnabled": True, "allEnabled": True}
    saved = save(api, body)
    telemetry(api, device, {"a": 21})
    telemetry(api, device, {"a": "x"})  # not a number: an error event
    return saved, device


def test_it_pages_the_fields_debug_events_as_thingsboard_does(api, field):
    saved, device = field
    pk = saved["id"]["id"]
    page = api.get(f"/api/events/CALCULATED_FIELD/{pk}/DEBUG_CALCULATED_FIELD", PAGE).json()
    assert page["totalElements"] == 2 and page["hasNext"] is False
    error, ok = page["data"]  # newest first
    assert ok["type"] == "DEBUG_CALCULATED_FIELD" and ok["entityId"] == {"entityType": "CALCULATED_FIELD", "id": pk}
    assert ok["tenantId"]["entityType"] == "TENANT" and isinstance(ok["createdTime"], int)
    assert ok["body"]["entityId"] == str(device.pk) and ok["body"]["entityType"] == "DEVICE"
    assert json.loads(ok["body"]["arguments"])["a"]["value"] == 21
    assert json.loads(ok["body"]["result"]) == {"double": 42.0}
    assert ok["body"]["error"] is None
    assert "not a number" in error["body"]["error"]
    from tb_pe_client.models import PageDataEventInfo

    assert PageDataEventInfo.from_dict(page).data[0].type == "DEBUG_CALCULATED_FIELD"


def test_a_filter_narrows_them_and_clear_removes_them(api, field):
    pk = field[0]["id"]["id"]
    url = f"/api/events/CALCULATED_FIELD/{pk}"
    errors = api.post(url + "?pageSize=10&page=0", {"eventType": "DEBUG_CALCULATED_FIELD", "isError": True},
                      format="json").json()
    assert [e["body"]["error"] is not None for e in errors["data"]] == [True]
    by_result = api.post(url + "?pageSize=10&page=0", {"eventType": "DEBUG_CALCULATED_FIELD", "result": "42"},
                         format="json").json()
    assert by_result["totalElements"] == 1
    assert api.post(url + "/clear", {"eventType": "DEBUG_CALCULATED_FIELD"}, format="json").status_code == 200
    assert api.get(url + "/DEBUG_CALCULATED_FIELD", PAGE).json()["totalElements"] == 0


def test_another_tenants_field_is_a_404_and_a_customer_user_a_403(field, mallory_api, customer_api):
    url = f"/api/events/CALCULATED_FIELD/{field[0]['id']['id']}/DEBUG_CALCULATED_FIELD"
    assert mallory_api.get(url, PAGE).status_code == 404
    assert customer_api.get(url, PAGE).status_code == 403


def test_an_unknown_field_is_a_404_and_a_bad_filter_a_400(api, field):
    assert api.get("/api/events/CALCULATED_FIELD/6a1f6ec3-0c39-4a1b-a9c3-3ac9b5cc1a41/DEBUG_CALCULATED_FIELD",
                   PAGE).status_code == 404
    res = api.post(f"/api/events/CALCULATED_FIELD/{field[0]['id']['id']}?pageSize=10&page=0", {"eventType": "NOPE"},
                   format="json")
    assert res.status_code == 400
