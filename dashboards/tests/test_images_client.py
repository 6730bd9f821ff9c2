"""Images and resources through ThingsBoard's own generated client (tb-pe-client) against the real server:
upload and download byte for byte, ETag and 304 on the wire, public links without a login, deletes refused
while a dashboard shows the image, JS modules saved and downloaded.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import base64

import pytest
import urllib3
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Dashboard, TbResource

from dashboards.tests.test_images_api import GIF, png
from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def _get(server_url, path: str, token: str | None = None, **headers):  # noqa: F811
    if token:
        headers["X-Authorization"] = f"Bearer {token}"
    return urllib3.PoolManager().request("GET", f"{server_url}{path}", headers=headers)


def test_an_image_goes_up_and_comes_back_byte_for_byte(client, server_url):  # noqa: F811
    data = png(5, 4)
    info = client.upload_image(file=("boiler.png", data), title="Boiler")
    assert (info.resource_key, info.title, info.link) == ("boiler.png", "Boiler", "/api/images/tenant/boiler.png")
    assert bytes(client.download_image("tenant", "boiler.png")) == data
    assert client.get_image_info("tenant", "boiler.png").etag == info.etag
    res = _get(server_url, info.link, client.get_token())
    assert res.status == 200 and res.data == data and res.headers["Content-Type"] == "image/png"
    assert _get(server_url, info.link, client.get_token(), **{"If-None-Match": res.headers["ETag"]}).status == 304
    page = client.get_images(page_size=10, page=0)
    assert "boiler.png" in [i.resource_key for i in page.data]
    exported = client.export_image("tenant", "boiler.png")
    assert base64.b64decode(exported.data) == data


def test_public_images_need_no_login_and_private_ones_do(client, server_url):  # noqa: F811
    info = client.upload_image(file=("logo.gif", GIF))
    assert _get(server_url, info.link).status == 401
    public = client.update_image_public_status("tenant", "logo.gif", True)
    assert public.public is True and public.public_link == f"/api/images/public/{public.public_resource_key}"
    res = _get(server_url, public.public_link)
    assert res.status == 200 and res.data == GIF and res.headers["Content-Type"] == "image/gif"


def test_delete_is_refused_while_a_dashboard_shows_the_image(client):  # noqa: F811
    client.upload_image(file=("floor.png", png()))
    configuration = {"widgets": {}, "states": {"default": {"layouts": {"main": {"gridSettings": {
        "backgroundImageUrl": "tb-image;/api/images/tenant/floor.png"}}}}}}
    client.save_dashboard(Dashboard(title="Floor plan", configuration=configuration))
    with pytest.raises(ApiException) as refused:
        client.delete_image("tenant", "floor.png")
    assert refused.value.status == 400 and "Floor plan" in refused.value.body
    assert client.delete_image("tenant", "floor.png", force=True).success is True
    with pytest.raises(ApiException) as gone:
        client.get_image_info("tenant", "floor.png")
    assert gone.value.status == 404


def test_what_is_not_an_image_is_refused(client):  # noqa: F811
    with pytest.raises(ApiException) as refused:
        client.upload_image(file=("report.png", b"%PDF-1.7 not an image"))
    assert refused.value.status == 400 and "not an image" in refused.value.body


def test_a_js_module_is_saved_and_downloaded(client, server_url):  # noqa: F811
    code = b"export const answer = 42;\n"
    info = client.save_resource(TbResource(title="Answer", resource_type="JS_MODULE", file_name="answer.js",
                                           data=base64.b64encode(code).decode()))
    assert info.resource_type == "JS_MODULE" and info.link == "/api/resource/js_module/tenant/answer.js"
    rid = str(info.id.id)
    assert bytes(client.download_js_resource_if_changed(rid)) == code
    assert base64.b64decode(client.get_resource_by_id(rid).data) == code
    assert client.get_resource_info_by_id(rid).etag == info.etag
    assert [r.title for r in client.get_resources(page_size=10, page=0, resource_type=["JS_MODULE"]).data] == ["Answer"]
    res = _get(server_url, info.link, client.get_token(), **{"If-None-Match": f'"{info.etag}"'})
    assert res.status == 304
    assert client.delete_resource(rid).success is True
    uploaded = client.upload_resource("JS_MODULE", ("widgets.js", code), title="Widgets",
                                      descriptor='{"module": true}')
    assert (uploaded.resource_key, uploaded.descriptor) == ("widgets.js", {"module": True})
    assert bytes(client.download_resource_if_changed("js_module", "tenant", "widgets.js")) == code
    assert client.get_resource_info("js_module", "tenant", "widgets.js").id == uploaded.id
