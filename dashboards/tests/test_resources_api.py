"""Resources (TbResource) through the API: JS modules, key stores, LwM2M models, downloads by id and by key
with ETag and 304, scopes, bad input and sizes."""

import base64
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboards.models import Resource
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

JS = b"export function hello(name) {\n  return 'Hello ' + name;\n}\n"


def save(client, **fields):
    body = {"title": "Greeter", "resourceType": "JS_MODULE", "fileName": "greeter.js",
            "data": base64.b64encode(JS).decode(), **fields}
    return client.post("/api/resource", body, format="json")


def test_it_saves_a_js_module_and_serves_it_by_id_and_by_key(api):
    info = save(api).json()
    assert (info["resourceType"], info["resourceKey"], info["fileName"]) == ("JS_MODULE", "greeter.js", "greeter.js")
    assert info["etag"] == hashlib.sha256(JS).hexdigest() and "data" not in info
    assert info["link"] == "/api/resource/js_module/tenant/greeter.js"
    rid = info["id"]["id"]
    full = api.get(f"/api/resource/{rid}").json()
    assert base64.b64decode(full["data"]) == JS
    for url in (f"/api/resource/{rid}/download", f"/api/resource/js/{rid}/download", info["link"],
                "/api/resource/JS_MODULE/tenant/greeter.js"):
        res = api.get(url)
        assert res.status_code == 200 and res.content == JS and res["ETag"] == f'"{info["etag"]}"', url
        assert api.get(url, HTTP_IF_NONE_MATCH=f'W/"{info["etag"]}"').status_code == 304
    assert api.get(f"/api/resource/jks/{rid}/download").status_code == 404
    assert api.get(f"{info['link']}/info").json()["id"] == info["id"]
    assert api.get(f"/api/resource/info/{rid}").json()["title"] == "Greeter"


def test_it_uploads_updates_and_deletes(api):
    res = api.post("/api/resource/upload", {"resourceType": "PKCS_12", "title": "Broker keys",
                                            "file": SimpleUploadedFile("broker.p12", b"\x30\x82\x01\x00keys")},
                   format="multipart")
    info = res.json()
    assert info["resourceType"] == "PKCS_12" and info["title"] == "Broker keys"
    rid = info["id"]["id"]
    res = api.put(f"/api/resource/{rid}/data", {"file": SimpleUploadedFile("broker2.p12", b"\x30\x82new")},
                  format="multipart")
    assert res.json()["etag"] == hashlib.sha256(b"\x30\x82new").hexdigest()
    assert api.get(f"/api/resource/pkcs12/{rid}/download").content == b"\x30\x82new"
    assert api.put(f"/api/resource/{rid}/info", {"title": "Renamed"}, format="json").json()["title"] == "Renamed"
    updated = save(api, id={"entityType": "TB_RESOURCE", "id": rid}, title="Again", data=None).json()
    assert updated["title"] == "Again" and updated["resourceType"] == "PKCS_12"
    assert api.delete(f"/api/resource/{rid}").json() == {"success": True}
    assert api.get(f"/api/resource/{rid}").status_code == 404


def test_the_pages_list_the_tenants_and_the_systems(api, sysadmin):
    root = api_as(sysadmin)
    save(root, title="System module", fileName="sys.js")
    save(api)
    model = base64.b64encode(b"<LWM2M/>").decode()
    save(api, title="Model", resourceType="LWM2M_MODEL", fileName="3303.xml", data=model)
    page = {"pageSize": 10, "page": 0}
    titles = lambda res: [r["title"] for r in res.json()["data"]]  # noqa: E731
    assert titles(api.get("/api/resource", page)) == ["Greeter", "Model", "System module"]
    assert titles(api.get("/api/resource", {**page, "resourceType": "LWM2M_MODEL"})) == ["Model"]
    assert titles(api.get("/api/resource/tenant", page)) == ["Greeter", "Model"]
    assert titles(root.get("/api/resource", page)) == ["System module"]
    assert api.get("/api/resource/js_module/system/sys.js").content == JS
    assert_error(api.get("/api/resource/lwm2m", {"sortOrder": "ASC", "sortProperty": "id"}), 501)


def test_another_tenants_resources_are_404_and_system_ones_read_only(api, mallory_api, sysadmin, customer_api):
    theirs = save(mallory_api, fileName="secret.js").json()
    rid = theirs["id"]["id"]
    for url in (f"/api/resource/{rid}", f"/api/resource/info/{rid}", f"/api/resource/{rid}/download",
                "/api/resource/js_module/tenant/secret.js"):
        assert api.get(url).status_code == 404, url
    assert api.delete(f"/api/resource/{rid}").status_code == 404
    assert api.get("/api/resource/list", {"resourceIds": rid}).json() == []
    system = save(api_as(sysadmin), fileName="sys.js").json()
    assert_error(api.delete(f"/api/resource/{system['id']['id']}"), 403)
    assert_error(save(api, id=system["id"], title="Mine"), 403)
    # a customer user loads JS modules (its dashboards need them) but reads no key store, nor resource pages
    keys = save(api, resourceType="JKS", fileName="k.jks").json()
    assert customer_api.get(f"/api/resource/js/{system['id']['id']}/download").status_code == 200
    assert customer_api.get(f"/api/resource/{keys['id']['id']}/download").status_code == 404
    assert customer_api.get(f"/api/resource/{keys['id']['id']}").status_code == 403
    assert customer_api.get("/api/resource/jks/tenant/k.jks").status_code == 404


@pytest.mark.parametrize("fields, status, message", [
    ({"resourceType": "PDF"}, 400, "resourceType"),
    ({"data": "***"}, 400, "base64"),
    ({"data": 5}, 400, "base64"),
    ({"fileName": None}, 400, "file name"),
    ({"title": "a\x00b"}, 400, "NUL"),
    ({"fileName": "f" * 300}, 400, "255"),
    ({"descriptor": {"a": "\x00"}}, 400, "NUL"),
    ({"resourceType": "IMAGE", "fileName": "x.png"}, 400, "not an image"),
])
def test_bad_resources_are_refused(api, fields, status, message):
    assert_error(save(api, **fields), status, message)
    assert not Resource.objects.exists()


def test_an_oversize_resource_is_413(api, settings):
    settings.RESOURCE_MAX_BYTES = 1024
    assert_error(save(api, data=base64.b64encode(b"x" * 2048).decode()), 413, "RESOURCE_MAX_BYTES")
    big = SimpleUploadedFile("big.js", b"x" * 2048)
    assert_error(api.post("/api/resource/upload", {"resourceType": "JS_MODULE", "file": big}, format="multipart"), 413)
    assert not Resource.objects.exists()


XHTML = b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(document.domain)</script></html>'


def test_only_images_are_served_inline_everything_else_as_a_sandboxed_attachment(api):
    from dashboards.tests.test_images_api import png, upload
    model = save(api, resourceType="LWM2M_MODEL", fileName="m.xml", data=base64.b64encode(XHTML).decode()).json()
    for path in ("/api/resource/lwm2m_model/tenant/m.xml", f"/api/resource/{model['id']['id']}/download",
                 f"/api/resource/lwm2m/{model['id']['id']}/download"):
        res = api.get(path)
        assert res.status_code == 200 and res.content == XHTML, path
        assert res["Content-Disposition"].startswith("attachment;"), path
        assert "sandbox" in res["Content-Security-Policy"] and res["X-Content-Type-Options"] == "nosniff", path
    upload(api, "dot.png", png())
    for path in ("/api/images/tenant/dot.png", "/api/resource/image/tenant/dot.png"):
        res = api.get(path)
        assert res.status_code == 200 and res["Content-Type"] == "image/png", path
        assert "Content-Disposition" not in res and "Content-Security-Policy" not in res, path


def test_a_key_from_a_file_name_is_one_path_segment(api):
    info = save(api, fileName="a/../b?c#d\\e\x01.js").json()
    assert info["resourceKey"] == "a_.._b_c_d_e_.js" and info["fileName"] == "a/../b?c#d\\e\x01.js"
    assert api.get(info["link"]).content == JS
    info = save(api, fileName="x.js", resourceKey="dir/y.js").json()
    assert info["resourceKey"] == "dir_y.js" and api.get(info["link"]).status_code == 200


def test_a_taken_255_character_key_gets_a_suffix_that_fits(api):
    name = "a" * 252 + ".js"
    keys = [save(api, fileName=name).json()["resourceKey"] for _ in range(12)]
    assert keys[0] == name and len(set(keys)) == 12 and all(len(k) <= 255 for k in keys)
    assert keys[1] == "a" * 248 + "_(1).js" and keys[11] == "a" * 247 + "_(11).js"
    bare = "b" * 255
    assert [save(api, fileName=bare).json()["resourceKey"] for _ in range(2)] == [bare, "b" * 251 + "_(1)"]


def test_a_unique_key_is_one_query(api, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dashboards.resources import _unique_key
    for _ in range(6):
        save(api)
    with CaptureQueriesContext(connection) as queries:
        assert _unique_key(tenant, "JS_MODULE", "greeter.js") == "greeter_(6).js"
    assert len(queries) == 1
