"""OTA packages in the Django admin: a tenant admin uploads a file (checksum computed, a wrong expected
one refused), sees only its tenant's packages, assigns one to a profile (its devices are told), and
cannot delete one in use."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from devices.models import DeviceGroupOtaPackage, DeviceProfile, OtaPackage
from devices.ota.checksums import checksum
from devices.tests.ota_support import shared
from tbproject.testing.factories import default_profile, make_device, make_group

DATA = b"admin-firmware" * 50
ADD = "/admin/devices/otapackage/add/"


def add_form(profile, **extra):
    return {"device_profile": str(profile.pk), "type": "FIRMWARE", "title": "adm", "package_version": "1",
            "tag": "", "url": "", "additional_info": "{}", "upload_checksum_algorithm": "SHA512",
            "upload_checksum": "", **extra}


@pytest.fixture
def admin_client(client, tenant_admin):
    client.force_login(tenant_admin)
    return client


def test_a_tenant_admin_uploads_a_package(admin_client, tenant):
    profile = default_profile(tenant)
    res = admin_client.post(ADD, add_form(profile, upload=SimpleUploadedFile("a.bin", DATA)))
    assert res.status_code == 302, res.content.decode()[-2000:]
    package = OtaPackage.objects.get(title="adm")
    assert (package.tenant_id, package.checksum, package.data_size) == (tenant.pk, checksum("SHA512", DATA), len(DATA))
    assert bytes(package.data) == DATA and package.has_data and package.file_name == "a.bin"
    assert admin_client.get(f"/admin/devices/otapackage/{package.pk}/change/").status_code == 200
    assert "adm" in admin_client.get("/admin/devices/otapackage/").content.decode()


def test_a_wrong_expected_checksum_is_a_form_error(admin_client, tenant):
    res = admin_client.post(ADD, add_form(default_profile(tenant), upload=SimpleUploadedFile("a.bin", DATA),
                                          upload_checksum="0" * 128))
    assert res.status_code == 200 and "Wrong otaPackage file!" in res.content.decode()
    assert not OtaPackage.objects.exists()


def test_another_tenants_packages_and_profiles_are_out_of_reach(admin_client, other_tenant):
    foreign = OtaPackage.objects.create(tenant=other_tenant, device_profile=default_profile(other_tenant),
                                        type="FIRMWARE", title="zz-secret", package_version="1")
    assert "zz-secret" not in admin_client.get("/admin/devices/otapackage/").content.decode()
    assert admin_client.get(f"/admin/devices/otapackage/{foreign.pk}/change/").status_code in (302, 403, 404)
    res = admin_client.post(ADD, add_form(default_profile(other_tenant), title="x"))
    assert res.status_code == 200 and not OtaPackage.objects.filter(title="x").exists()


def test_a_profile_assignment_in_the_admin_tells_its_devices(admin_client, tenant):
    profile = default_profile(tenant)
    device = make_device(tenant, "adm-dev")
    admin_client.post(ADD, add_form(profile, upload=SimpleUploadedFile("a.bin", DATA)))
    package = OtaPackage.objects.get(title="adm")
    res = admin_client.post(f"/admin/devices/deviceprofile/{profile.pk}/change/", {
        "name": profile.name, "description": "", "is_default": "on", "additional_info": "{}",
        "firmware": str(package.pk), "software": ""})
    assert res.status_code == 302, res.content.decode()[-3000:]
    assert DeviceProfile.objects.get(pk=profile.pk).firmware_id == package.pk
    assert shared(device)["fw_checksum"] == checksum("SHA512", DATA)
    res = admin_client.post(f"/admin/devices/otapackage/{package.pk}/delete/", {"post": "yes"})
    assert OtaPackage.objects.filter(pk=package.pk).exists()


def test_a_group_package_in_the_admin_tells_the_groups_devices(admin_client, tenant):
    device = make_device(tenant, "grouped")
    group = make_group(tenant, "g", members=[device])
    admin_client.post(ADD, add_form(default_profile(tenant), upload=SimpleUploadedFile("a.bin", DATA)))
    package = OtaPackage.objects.get(title="adm")
    res = admin_client.post("/admin/devices/devicegroupotapackage/add/", {
        "group": str(group.pk), "ota_package_type": "SOFTWARE", "ota_package": str(package.pk)})
    assert res.status_code == 200 and "with type: FIRMWARE" in res.content.decode()
    res = admin_client.post("/admin/devices/devicegroupotapackage/add/", {
        "group": str(group.pk), "ota_package_type": "FIRMWARE", "ota_package": str(package.pk)})
    assert res.status_code == 302, res.content.decode()[-3000:]
    assert DeviceGroupOtaPackage.objects.get().tenant_id == tenant.pk
    assert shared(device)["fw_title"] == "adm"


def _bulk_delete(admin_client, model: str, pks):
    return admin_client.post(f"/admin/devices/{model}/", {"action": "delete_selected", "post": "yes",
                                                        "_selected_action": [str(pk) for pk in pks]})


def test_delete_selected_keeps_packages_in_use(admin_client, tenant):
    profile = default_profile(tenant)
    admin_client.post(ADD, add_form(profile, upload=SimpleUploadedFile("a.bin", DATA)))
    admin_client.post(ADD, add_form(profile, title="spare", upload=SimpleUploadedFile("b.bin", DATA)))
    used, spare = OtaPackage.objects.get(title="adm"), OtaPackage.objects.get(title="spare")
    device = make_device(tenant, "user")
    device.firmware_id = used.pk
    device.save()
    res = _bulk_delete(admin_client, "otapackage", [used.pk, spare.pk])
    assert "referenced by the devices cannot be deleted" in res.content.decode()
    assert OtaPackage.objects.count() == 2  # a refusal deletes none of them
    res = _bulk_delete(admin_client, "otapackage", [spare.pk])
    assert res.status_code == 302 and list(OtaPackage.objects.all()) == [used]


def test_delete_queryset_checks_each_package(tenant, tenant_admin, rf):
    from django.contrib import admin as django_admin
    from django.core.exceptions import ValidationError

    profile = default_profile(tenant)
    package = OtaPackage.objects.create(tenant=tenant, device_profile=profile, type="FIRMWARE", title="p",
                                        package_version="1", has_data=True)
    DeviceProfile.objects.filter(pk=profile.pk).update(firmware_id=package.pk)
    model_admin = django_admin.site._registry[OtaPackage]
    with pytest.raises(ValidationError, match="device profile"):
        model_admin.delete_queryset(rf.post("/"), OtaPackage.objects.all())
    assert OtaPackage.objects.exists()


def test_delete_selected_group_packages_tells_the_groups_devices(admin_client, tenant):
    device = make_device(tenant, "grouped")
    group = make_group(tenant, "g", members=[device])
    admin_client.post(ADD, add_form(default_profile(tenant), upload=SimpleUploadedFile("a.bin", DATA)))
    package = OtaPackage.objects.get(title="adm")
    res = admin_client.post("/admin/devices/devicegroupotapackage/add/", {
        "group": str(group.pk), "ota_package_type": "FIRMWARE", "ota_package": str(package.pk)})
    assert res.status_code == 302 and shared(device)["fw_title"] == "adm"
    rows = DeviceGroupOtaPackage.objects.values_list("pk", flat=True)
    res = _bulk_delete(admin_client, "devicegroupotapackage", rows)
    assert res.status_code == 302 and not DeviceGroupOtaPackage.objects.exists()
    assert "fw_title" not in shared(device)


class _Unread(SimpleUploadedFile):
    def read(self, *args):
        raise AssertionError("the file was read before its size was checked")

    chunks = read


def test_an_oversize_upload_is_refused_before_it_is_read(tenant, settings):
    from devices.ota_admin import OtaPackageForm

    settings.OTA_PACKAGE_MAX_BYTES = 1024
    form = OtaPackageForm(add_form(default_profile(tenant)), {"upload": _Unread("big.bin", b"x" * 1025)})
    assert not form.is_valid()
    assert "larger than 1024 bytes" in str(form.errors["upload"])
    small = OtaPackageForm(add_form(default_profile(tenant)), {"upload": SimpleUploadedFile("s.bin", b"x" * 1024)})
    assert small.is_valid(), small.errors
