"""OTA packages through the REST API (ThingsBoard's OtaPackageController): info saves, file uploads
with each checksum algorithm, downloads byte for byte, pages, limits, bad input and isolation."""

import base64
import hashlib
import zlib

import pytest
from tb_pe_client.models import OtaPackage as TbOtaPackage
from tb_pe_client.models import OtaPackageInfo, PageDataOtaPackageInfo

from devices.models import DeviceProfile, OtaPackage
from devices.ota.checksums import checksum
from devices.tests.ota_support import make_package, save_info, upload
from tbproject.testing.api import assert_error
from tbproject.testing.factories import default_profile, make_group
from tbproject.testing.limits import limit_tenant

DATA = bytes(range(256)) * 7 + b"tail"


@pytest.fixture
def profile(tenant):
    return default_profile(tenant)


def test_it_saves_an_info_and_answers_the_client_shape(api, profile):
    res = save_info(api, profile, title="esp", version="1.2", tag="esp 1.2", additionalInfo={"description": "d"})
    assert res.status_code == 200, res.content
    info = OtaPackageInfo.from_dict(res.json())
    assert (info.title, info.version, info.tag, info.type.value) == ("esp", "1.2", "esp 1.2", "FIRMWARE")
    assert info.has_data is False and info.data_size is None and info.name == "esp"
    assert str(info.device_profile_id.id) == str(profile.pk) and info.additional_info == {"description": "d"}
    assert res.json()["id"]["entityType"] == "OTA_PACKAGE"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA256", "SHA384", "SHA512", "CRC32", "MURMUR3_32", "MURMUR3_128"])
def test_it_stores_the_file_with_each_checksum_algorithm(api, profile, algorithm):
    package_id = save_info(api, profile, title=f"fw-{algorithm}").json()["id"]["id"]
    expected = checksum(algorithm, DATA)
    res = upload(api, package_id, DATA, algorithm, checksum=expected.upper(), name="app.bin",
                 content_type="application/x-binary")
    assert res.status_code == 200, res.content
    info = OtaPackageInfo.from_dict(res.json())
    assert (info.checksum_algorithm.value, info.checksum, info.data_size) == (algorithm, expected, len(DATA))
    assert (info.file_name, info.content_type, info.has_data) == ("app.bin", "application/x-binary", True)
    assert bytes(OtaPackage.objects.get(pk=package_id).data) == DATA


def test_the_checksums_are_thingsboards():
    assert checksum("MD5", DATA) == hashlib.md5(DATA).hexdigest()
    assert checksum("SHA384", DATA) == hashlib.sha384(DATA).hexdigest()
    assert checksum("CRC32", b"123456789") == "2639f4cb"  # Guava's HashCode of 0xcbf43926: little-endian
    assert zlib.crc32(b"123456789") == 0xCBF43926
    assert checksum("MURMUR3_32", b"") == "00000000" and len(checksum("MURMUR3_128", DATA)) == 32


def test_a_wrong_given_checksum_is_refused_and_nothing_is_stored(api, profile):
    package_id = save_info(api, profile).json()["id"]["id"]
    assert_error(upload(api, package_id, DATA, "SHA256", checksum="00" * 32), 400, "Wrong otaPackage file!")
    assert OtaPackage.objects.get(pk=package_id).has_data is False
    assert upload(api, package_id, DATA, "SHA256", checksum="0x" + checksum("SHA256", DATA)).status_code == 200
    assert_error(upload(api, package_id, DATA, "SHA256"), 400, "Updating otaPackage data is prohibited!")


def test_it_refuses_uploads_without_algorithm_file_or_known_algorithm(api, profile):
    package_id = save_info(api, profile).json()["id"]["id"]
    assert_error(api.post(f"/api/otaPackage/{package_id}", {}, format="multipart"), 400, "checksum algorithm")
    assert_error(upload(api, package_id, DATA, "SHA1"), 400, "checksumAlgorithm")
    assert_error(api.post(f"/api/otaPackage/{package_id}?checksumAlgorithm=MD5", {}, format="multipart"), 400,
                 "data should be specified")


def test_it_downloads_the_bytes_with_the_file_name(api, profile):
    info = make_package(api, profile, DATA, title="dl")
    res = api.get(f"/api/otaPackage/{info['id']['id']}/download")
    assert res.status_code == 200
    assert res.content == DATA
    assert res["Content-Disposition"] == 'attachment;filename="fw.bin"' and res["x-filename"] == "fw.bin"
    full = api.get(f"/api/otaPackage/{info['id']['id']}").json()
    assert base64.b64decode(TbOtaPackage.from_dict(full).data) == DATA
    assert OtaPackageInfo.from_dict(api.get(f"/api/otaPackage/info/{info['id']['id']}").json()).has_data


def test_a_url_package_has_data_but_nothing_to_download(api, profile):
    res = save_info(api, profile, title="remote", usesUrl=True, url="https://example.com/fw.bin",
                    checksumAlgorithm="SHA256", checksum="ab" * 32)
    assert res.status_code == 200, res.content
    body = res.json()
    assert (body["hasData"], body["url"], body["checksum"]) == (True, "https://example.com/fw.bin", "ab" * 32)
    assert_error(api.get(f"/api/otaPackage/{body['id']['id']}/download"), 400, "external URL")
    assert_error(save_info(api, profile, title="no-url", usesUrl=True), 400, "URL should be specified")


def test_title_and_version_are_unique_per_tenant(api, profile, other_tenant, mallory_api):
    assert save_info(api, profile, title="same").status_code == 200
    assert_error(save_info(api, profile, title="same"), 400, "OtaPackage with such title and version already exists!")
    assert save_info(api, profile, title="same", version="1.1").status_code == 200
    assert save_info(mallory_api, default_profile(other_tenant), title="same").status_code == 200


def test_a_saved_package_keeps_what_identifies_it(api, profile):
    body = save_info(api, profile, title="keep").json()
    assert_error(api.post("/api/otaPackage", {**body, "title": "other"}, format="json"), 400,
                 "Updating otaPackage title is prohibited!")
    assert_error(api.post("/api/otaPackage", {**body, "type": "SOFTWARE"}, format="json"), 400,
                 "Updating type is prohibited!")
    res = api.post("/api/otaPackage", {**body, "additionalInfo": {"description": "new"}}, format="json")
    assert res.status_code == 200 and res.json()["additionalInfo"] == {"description": "new"}


@pytest.mark.parametrize(("change", "message"), [
    ({"title": "a\x00b"}, "title"), ({"version": "v" * 256}, "version"), ({"tag": "t\x00"}, "tag"),
    ({"title": ""}, "title should be specified"), ({"type": "BOOT"}, "type"), ({"title": ["a"]}, "title"),
    ({"url": "u" * 300, "usesUrl": True}, "url"), ({"additionalInfo": {"k": "\x00"}}, "additionalInfo"),
    ({"usesUrl": "yes"}, "usesUrl"), ({"deviceProfileId": None}, "deviceProfileId"),
    ({"deviceProfileId": {"id": "not-a-uuid"}}, "deviceProfileId"),
])
def test_bad_infos_answer_400(api, profile, change, message):
    res = save_info(api, profile, **change)
    assert_error(res, 400, message)
    assert not OtaPackage.objects.exists()


def test_malformed_json_and_non_objects_answer_400(api):
    assert_error(api.post("/api/otaPackage", "{bad", content_type="application/json"), 400)
    assert_error(api.post("/api/otaPackage", [1], format="json"), 400)


def test_an_oversize_upload_is_refused_with_413(api, profile, settings):
    settings.OTA_PACKAGE_MAX_BYTES = 1024
    package_id = save_info(api, profile).json()["id"]["id"]
    assert_error(upload(api, package_id, b"x" * 1025), 413, "OTA_PACKAGE_MAX_BYTES")
    assert_error(upload(api, package_id, b"x" * 200_000), 413, "OTA_PACKAGE_MAX_BYTES")  # refused before parsing
    assert upload(api, package_id, b"x" * 1024).status_code == 200


def test_the_tenant_profiles_total_is_enforced(api, profile, tenant):
    tenant_profile = limit_tenant(tenant)
    tenant_profile.profile_data["configuration"]["maxOtaPackagesInBytes"] = 3000
    tenant_profile.save()
    make_package(api, profile, b"a" * 2000, title="first")
    package_id = save_info(api, profile, title="second").json()["id"]["id"]
    assert_error(upload(api, package_id, b"b" * 1001), 400, "files size limit is exhausted 3000 bytes")
    assert upload(api, package_id, b"b" * 1000).status_code == 200


def test_pages_list_packages_and_offer_only_those_with_data_for_a_profile(api, profile, tenant):
    other_profile = DeviceProfile.objects.create(tenant=tenant, name="other")
    make_package(api, profile, title="alpha")
    make_package(api, profile, title="soft", ota_type="SOFTWARE")
    save_info(api, profile, title="empty")
    make_package(api, other_profile, title="beta")
    page = PageDataOtaPackageInfo.from_dict(api.get("/api/otaPackages?pageSize=10&page=0&sortProperty=title"
                                                    "&sortOrder=ASC").json())
    assert [p.title for p in page.data] == ["alpha", "beta", "empty", "soft"] and page.total_elements == 4
    search = api.get("/api/otaPackages?pageSize=10&page=0&textSearch=ET").json()
    assert [p["title"] for p in search["data"]] == ["beta"]
    offered = api.get(f"/api/otaPackages/{profile.pk}/FIRMWARE?pageSize=10&page=0").json()
    assert [p["title"] for p in offered["data"]] == ["alpha"]
    assert [p["title"] for p in api.get(f"/api/otaPackages/{profile.pk}/SOFTWARE?pageSize=10&page=0")
            .json()["data"]] == ["soft"]
    assert_error(api.get(f"/api/otaPackages/{profile.pk}/BOOT?pageSize=10&page=0"), 400, "OTA package type")


def test_a_groups_page_offers_the_packages_of_its_devices_profiles(api, profile, tenant):
    from tbproject.testing.factories import make_device

    other_profile = DeviceProfile.objects.create(tenant=tenant, name="other")
    group = make_group(tenant, "g", members=[make_device(tenant, "d1", profile=other_profile)])
    make_package(api, profile, title="alpha")
    make_package(api, other_profile, title="beta")
    res = api.get(f"/api/otaPackages/group/{group.pk}/FIRMWARE?pageSize=10&page=0")
    assert [p["title"] for p in res.json()["data"]] == ["beta"]


def test_another_tenants_package_is_404_everywhere(api, mallory_api, other_tenant, profile):
    foreign = make_package(mallory_api, default_profile(other_tenant), title="secret")
    fid = foreign["id"]["id"]
    for url in (f"/api/otaPackage/{fid}", f"/api/otaPackage/info/{fid}", f"/api/otaPackage/{fid}/download"):
        assert_error(api.get(url), 404)
    assert_error(api.delete(f"/api/otaPackage/{fid}"), 404)
    assert_error(upload(api, fid, DATA), 404)
    assert_error(api.post("/api/otaPackage", {**foreign, "additionalInfo": {"x": 1}}, format="json"), 404)
    assert "secret" not in api.get("/api/otaPackages?pageSize=10&page=0").content.decode()
    assert_error(save_info(api, default_profile(other_tenant), title="into-theirs"), 404)
    assert OtaPackage.objects.filter(pk=fid).exists()


def test_customer_users_read_infos_but_change_nothing(customer_api, api, profile):
    info = make_package(api, profile, title="seen")
    assert customer_api.get(f"/api/otaPackage/info/{info['id']['id']}").status_code == 200
    assert customer_api.get("/api/otaPackages?pageSize=10&page=0").json()["totalElements"] == 1
    assert_error(customer_api.get(f"/api/otaPackage/{info['id']['id']}/download"), 403)
    assert_error(customer_api.delete(f"/api/otaPackage/{info['id']['id']}"), 403)
    assert_error(save_info(customer_api, profile, title="mine"), 403)


def test_an_unused_package_is_deleted(api, profile):
    info = make_package(api, profile)
    assert api.delete(f"/api/otaPackage/{info['id']['id']}").status_code == 200
    assert not OtaPackage.objects.exists()


def test_bad_upload_parameters_answer_400(api, profile):
    package_id = save_info(api, profile).json()["id"]["id"]
    assert_error(upload(api, package_id, DATA, "SHA256", checksum="ab%00cd"), 400, "NUL")
    assert_error(upload(api, package_id, DATA, "SHA%00256"), 400, "checksumAlgorithm")
    assert_error(upload(api, package_id, DATA, "SHA256", checksum="a" * 2000), 400, "checksum")
    assert_error(upload(api, package_id, b""), 400, "data should be specified")
    assert_error(api.post(f"/api/otaPackage/{package_id}?checksumAlgorithm=MD5", {"a": 1}, format="json"), 415)
    assert OtaPackage.objects.get(pk=package_id).has_data is False
    # Django's upload handling shortens a long file name (keeping its extension) to what the column holds
    res = upload(api, package_id, DATA, name="n" * 300 + ".bin")
    assert res.status_code == 200 and len(res.json()["fileName"]) == 255 and res.json()["fileName"].endswith(".bin")


def test_an_update_without_tag_or_url_keeps_them_and_a_url_may_be_added_to_an_empty_package(api, profile):
    body = save_info(api, profile, title="partial", tag="t1").json()
    slim = {k: body[k] for k in ("id", "title", "version", "type", "deviceProfileId")}
    res = api.post("/api/otaPackage", {**slim, "additionalInfo": {"description": "x"}}, format="json")
    assert res.status_code == 200 and res.json()["tag"] == "t1"
    res = api.post("/api/otaPackage", {**slim, "usesUrl": True, "url": "https://example.com/late.bin"}, format="json")
    assert res.status_code == 200 and res.json()["hasData"] is True
    assert_error(api.post("/api/otaPackage", {**slim, "url": "https://example.com/other.bin"}, format="json"), 400,
                 "Updating otaPackage url is prohibited!")
