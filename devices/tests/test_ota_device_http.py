"""A device downloads its package over ThingsBoard's HTTP device API
(/api/v1/{accessToken}/firmware|software?title&version&size&chunk), whole or in chunks."""

import pytest

from devices.api import device_http, ota_device_http
from devices.models import DeviceCredentials, OtaPackage
from devices.tests.ota_support import make_package
from tbproject.testing.factories import default_profile, make_device

DATA = bytes(range(256)) * 4 + b"0123456789"  # 1034 bytes: chunks of 100 end with a 34-byte one


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "ota-http")


@pytest.fixture
def token(device):
    return DeviceCredentials.objects.get(device=device).credentials_id


@pytest.fixture
def firmware(api, tenant, device):
    info = make_package(api, default_profile(tenant), DATA, title="fw", version="1.0")
    device.firmware_id = info["id"]["id"]
    device.save()
    return info


def get(client, token, what="firmware", **params):
    query = "&".join(f"{k}={v}" for k, v in {"title": "fw", "version": "1.0", **params}.items())
    return client.get(f"/api/v1/{token}/{what}?{query}")


def test_it_serves_the_whole_file(client, token, firmware):
    res = get(client, token)
    assert res.status_code == 200 and res.content == DATA
    assert res["Content-Type"] == "application/octet-stream" and res["x-filename"] == "fw.bin"


@pytest.mark.parametrize(("chunk", "expected"), [
    (0, DATA[:100]), (5, DATA[500:600]), (10, DATA[1000:]), (11, b""), (10_000, b""),
])
def test_it_serves_chunks(client, token, firmware, chunk, expected):
    res = get(client, token, size=100, chunk=chunk)
    assert res.status_code == 200 and res.content == expected


def test_chunks_put_together_are_the_file(client, token, firmware):
    parts, chunk = [], 0
    while part := get(client, token, size=256, chunk=chunk).content:
        parts.append(part)
        chunk += 1
    assert b"".join(parts) == DATA and chunk == 5


@pytest.mark.parametrize("params", [{"title": "other"}, {"version": "2.0"}])
def test_a_title_or_version_not_assigned_is_404(client, token, firmware, params):
    res = get(client, token, **params)
    assert res.status_code == 404 and res.content == b""


def test_without_a_package_it_is_404(client, token):
    assert get(client, token).status_code == 404
    assert get(client, token, "software").status_code == 404


def test_software_is_served_from_its_own_path(api, client, tenant, device, token, firmware):
    info = make_package(api, default_profile(tenant), b"soft-bytes", title="app", version="3", ota_type="SOFTWARE")
    device.software_id = info["id"]["id"]
    device.save()
    assert get(client, token, "software", title="app", version="3").content == b"soft-bytes"
    assert get(client, token, "firmware", title="app", version="3").status_code == 404


def test_a_profile_package_is_served_to_its_devices(api, client, tenant, token):
    profile = default_profile(tenant)
    info = make_package(api, profile, DATA, title="fw", version="1.0")
    profile.firmware_id = info["id"]["id"]
    profile.save()
    assert get(client, token).content == DATA


def test_a_bad_token_is_401(client, firmware):
    res = get(client, "no-such-token")
    assert res.status_code == 401 and res.content == b""


@pytest.mark.parametrize("params", [{"size": "-1"}, {"chunk": "x"}, {"size": str(2**31)}, {"chunk": "1e3"},
                                    {"title": ""}])
def test_bad_parameters_are_400(client, token, firmware, params):
    assert get(client, token, **params).status_code == 400


def test_only_get_is_allowed(client, token, firmware):
    assert client.post(f"/api/v1/{token}/firmware?title=fw&version=1.0").status_code == 405


def test_a_chunk_is_cut_in_the_database(client, token, firmware):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        res = get(client, token, size=100, chunk=3)
    assert res.content == DATA[300:400]
    columns = [q["sql"].split(" FROM ")[0] for q in queries.captured_queries if "otapackage" in q["sql"]]
    reads = [sql for sql in columns if '"data"' in sql]  # the selected columns that touch the file
    assert reads and all("SUBSTR" in sql.upper() for sql in reads), reads
    with CaptureQueriesContext(connection) as queries:  # past the end: the file is not read at all
        assert get(client, token, size=2**31 - 1, chunk=2**31 - 1).content == b""
    assert not [q for q in queries.captured_queries if "SUBSTR" in q["sql"].upper()]


@pytest.mark.parametrize("params", [{}, {"size": 100, "chunk": 1}])
def test_a_package_gone_between_lookup_and_read_is_404(client, token, firmware, monkeypatch, params):
    real = ota_device_http.package_bytes

    def vanishing(package, size, chunk):
        OtaPackage.objects.filter(pk=package.pk).delete()
        return real(package, size, chunk)

    monkeypatch.setattr(ota_device_http, "package_bytes", vanishing)
    res = get(client, token, **params)
    assert res.status_code == 404 and res.content == b""
