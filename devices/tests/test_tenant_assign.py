"""POST /api/tenant/{tenantId}/device/{deviceId} (devices/tenant_assign.py): a tenant hands its device to another
tenant, as ThingsBoard's assignDeviceToTenant; refusals leave the device where it was."""

import uuid

from django.test import override_settings
from tb_pe_client.models import Device as ClientDevice

from audit.models import AuditLog
from devices.models import Device, DeviceCredentials, DeviceProfile, EntityRelation
from tbproject.testing.factories import make_asset, make_device, make_group
from tenants.models import Tenant


def test_a_device_moves_with_its_credentials_and_leaves_its_customer_relations_and_groups(
        tenant, other_tenant, customer, api, mallory_api):
    profile = DeviceProfile.objects.create(tenant=tenant, name="thermostat")
    device = make_device(tenant, name="moving", profile=profile, customer=customer)
    token = DeviceCredentials.objects.get(device=device).credentials_id
    EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=make_asset(tenant).pk, to_type="DEVICE",
                                  to_id=device.pk, type="Contains")
    make_group(tenant, members=[device])

    answer = api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}")
    assert answer.status_code == 200
    moved = ClientDevice.from_dict(answer.json())
    assert str(moved.tenant_id.id) == str(other_tenant.pk) and moved.name == "moving" and moved.type == "thermostat"
    device.refresh_from_db()
    assert (device.tenant_id, device.customer_id) == (other_tenant.pk, None)
    assert device.profile.tenant_id == other_tenant.pk and device.profile.name == "thermostat"
    credentials = DeviceCredentials.objects.get(device=device)
    assert (credentials.tenant_id, credentials.credentials_id) == (other_tenant.pk, token)
    assert not EntityRelation.objects.filter(to_id=device.pk).exists()
    # only its new tenant's "All" group (devices/all_groups.py)
    assert list(device.groups.values_list("tenant_id", "group_all")) == [(other_tenant.pk, True)]
    assert api.get(f"/api/device/{device.pk}").status_code == 404  # no longer ours
    assert mallory_api.get(f"/api/device/{device.pk}").status_code == 200


def test_refusals_leave_the_device_where_it_was(tenant, other_tenant, api, mallory_api, customer_api):
    device = make_device(tenant, name="staying")
    make_device(other_tenant, name="taken")
    taken = make_device(tenant, name="taken")
    assert api.post(f"/api/tenant/{uuid.uuid4()}/device/{device.pk}").status_code == 400  # no such tenant
    assert api.post(f"/api/tenant/{other_tenant.pk}/device/{taken.pk}").status_code == 400  # name in use there
    assert api.post(f"/api/tenant/not-a-uuid/device/{device.pk}").status_code == 400
    assert mallory_api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}").status_code == 404  # not theirs
    assert customer_api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}").status_code == 403
    assert set(Device.objects.filter(tenant=tenant).values_list("name", flat=True)) == {"staying", "taken"}


# --- review fixes ---------------------------------------------------------------------------------

def test_a_tenant_being_deleted_is_no_target(tenant, other_tenant, api):
    device = make_device(tenant, name="staying")
    Tenant.objects.filter(pk=other_tenant.pk).update(deleting_ts=1)
    answer = api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}")
    assert answer.status_code == 400 and answer.json()["message"] == "Could not find the specified Tenant!"
    assert Device.objects.get(pk=device.pk).tenant_id == tenant.pk


def test_the_move_is_audited_and_told_to_both_tenants_rule_engines(tenant, other_tenant, api, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from rulechains import services

    sent = []
    monkeypatch.setattr(services, "_queue_from_request", sent.append)
    device = make_device(tenant, name="audited")
    AuditLog.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}").status_code == 200
    log = AuditLog.objects.get()  # the old tenant's; the new one's log shows no stranger's user
    assert (log.tenant_id, log.entity_id, log.action_type) == (tenant.pk, device.pk, "ASSIGNED_TO_TENANT")
    assert log.action_data["assignedToTenantId"] == str(other_tenant.pk)
    by_type = {msg.msg_type: msg for msg in sent}
    to, came = by_type["ENTITY_ASSIGNED_TO_TENANT"], by_type["ENTITY_ASSIGNED_FROM_TENANT"]
    assert (to.tenant_id, to.originator_id, to.metadata["assignedToTenantId"], to.metadata["assignedToTenantName"]) \
        == (tenant.pk, device.pk, str(other_tenant.pk), "Mallory Ltd")
    assert (came.tenant_id, came.metadata["assignedFromTenantId"], came.data["name"]) == \
        (other_tenant.pk, str(tenant.pk), "audited")


@override_settings(DEVICE_ASSIGN_TO_OTHER_TENANTS=False)
def test_operators_can_turn_the_route_off(tenant, other_tenant, api):
    device = make_device(tenant, name="staying")
    assert api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}").status_code == 403
    assert Device.objects.get(pk=device.pk).tenant_id == tenant.pk


def test_the_http_api_forgets_the_token_and_the_old_tenant_its_calculated_fields(
        tenant, other_tenant, api, django_capture_on_commit_callbacks):
    from calculated.models import CalculatedField
    from devices.api import device_http

    device = make_device(tenant, name="cached")
    CalculatedField.objects.create(tenant=tenant, entity_type="DEVICE", entity_id=device.pk, kind="SIMPLE", name="f")
    token = DeviceCredentials.objects.get(device=device).credentials_id
    assert device_http.device_of(token).tenant_id == tenant.pk  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}").status_code == 200
    assert device_http.device_of(token).tenant_id == other_tenant.pk
    assert not CalculatedField.objects.filter(entity_id=device.pk).exists()


def test_a_name_taken_meanwhile_is_a_400(tenant, other_tenant, api, monkeypatch):
    from devices import tenant_assign

    device = make_device(tenant, name="racing")
    make_device(other_tenant, name="racing")
    monkeypatch.setattr(tenant_assign, "_name_taken", lambda device, tenant: False)  # another request won the race
    answer = api.post(f"/api/tenant/{other_tenant.pk}/device/{device.pk}")
    assert answer.status_code == 400 and answer.json()["message"] == "Device with such name already exists!"
    assert Device.objects.get(pk=device.pk).tenant_id == tenant.pk
