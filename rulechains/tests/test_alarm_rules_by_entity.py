"""GET /api/alarm/rules/{entityType}/{entityId} and /api/alarm/rule/{id}/debug: no alarm rule (ThingsBoard 4.3's
calculated fields of type ALARM) is kept here, so an entity of the tenant has an empty page and an id none."""

import uuid

from tb_pe_client.models import PageDataAlarmRuleDefinition

from devices.models import DeviceProfile
from tbproject.testing.factories import make_device


def test_an_entity_of_the_tenant_has_an_empty_page_another_tenants_a_404(tenant, api, mallory_api):
    device = make_device(tenant)
    answer = api.get(f"/api/alarm/rules/DEVICE/{device.pk}", {"pageSize": 10, "page": 0, "sortProperty": "name"})
    assert answer.status_code == 200
    page = PageDataAlarmRuleDefinition.from_dict(answer.json())
    assert page.data == [] and page.total_elements == 0 and page.has_next is False
    profile = DeviceProfile.objects.get(tenant=tenant, name="default")
    assert api.get(f"/api/alarm/rules/DEVICE_PROFILE/{profile.pk}", {"pageSize": 5, "page": 0}).status_code == 200
    assert mallory_api.get(f"/api/alarm/rules/DEVICE/{device.pk}", {"pageSize": 10, "page": 0}).status_code == 404
    assert api.get(f"/api/alarm/rules/ASSET/{device.pk}", {"pageSize": 10, "page": 0}).status_code == 404


def test_bad_input_is_a_400_and_customer_users_are_refused(tenant, api, customer_api):
    device = make_device(tenant)
    for path, params in [("/api/alarm/rules/DASHBOARD/" + str(device.pk), {"pageSize": 10, "page": 0}),
                         ("/api/alarm/rules/DEVICE/not-a-uuid", {"pageSize": 10, "page": 0}),
                         (f"/api/alarm/rules/DEVICE/{device.pk}", {"page": 0}),
                         (f"/api/alarm/rules/DEVICE/{device.pk}", {"pageSize": 10, "page": 0, "sortProperty": "x"}),
                         ("/api/alarm/rule/not-a-uuid/debug", {})]:
        assert api.get(path, params).status_code == 400, path
    assert customer_api.get(f"/api/alarm/rules/DEVICE/{device.pk}", {"pageSize": 10, "page": 0}).status_code == 403


def test_the_debug_event_of_an_alarm_rule_is_a_404(api):
    answer = api.get(f"/api/alarm/rule/{uuid.uuid4()}/debug")
    assert answer.status_code == 404 and answer.json()["errorCode"] == 32
