"""Images through the API: upload and download byte for byte, ETag and 304, public links, deletes refused
while a dashboard shows the image, what is not an image, sizes."""

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboards.models import Dashboard, Resource
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
       b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'


def png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(client, name: str, data: bytes, **fields):
    return client.post("/api/image", {"file": SimpleUploadedFile(name, data, "application/octet-stream"), **fields},
                       format="multipart")


def test_it_stores_and_serves_an_image_byte_for_byte_with_an_etag(api):
    data = png()
    info = upload(api, "tank.png", data, title="Tank").json()
    assert (info["resourceType"], info["resourceSubType"], info["resourceKey"], info["title"]) == \
        ("IMAGE", "IMAGE", "tank.png", "Tank")
    assert info["link"] == "/api/images/tenant/tank.png" and info["public"] is False and info["publicLink"] is None
    assert info["descriptor"]["mediaType"] == "image/png" and (info["descriptor"]["width"],
                                                               info["descriptor"]["height"]) == (3, 2)
    res = api.get(info["link"])
    assert res.status_code == 200 and res.content == data and res["Content-Type"] == "image/png"
    assert res["ETag"] == f'"{info["etag"]}"'
    again = api.get(info["link"], HTTP_IF_NONE_MATCH=res["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert api.get(info["link"], HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert api.get(f"{info['link']}/preview").content == data
    assert api.get(f"{info['link']}/info").json()["etag"] == info["etag"]


def test_a_second_upload_of_the_same_name_gets_its_own_key(api):
    upload(api, "tank.png", png())
    assert upload(api, "tank.png", GIF).json()["resourceKey"] == "tank_(1).png"


def test_replacing_the_bytes_changes_the_etag(api):
    info = upload(api, "logo.gif", GIF).json()
    res = api.put(info["link"], {"file": SimpleUploadedFile("logo.png", png(), "image/png")}, format="multipart")
    assert res.status_code == 200 and res.json()["etag"] != info["etag"]
    assert api.get(info["link"])["Content-Type"] == "image/png"
    assert api.put(f"{info['link']}/info", {"title": "Logo"}, format="json").json()["title"] == "Logo"


def test_a_public_image_needs_no_login_and_a_private_one_does(api, anon):
    info = upload(api, "map.png", png()).json()
    assert anon.get(info["link"]).status_code == 401
    assert anon.get(f"/api/images/public/{info['publicResourceKey']}").status_code == 404
    made_public = api.put(f"{info['link']}/public/true").json()
    assert made_public["public"] is True
    res = anon.get(made_public["publicLink"])
    assert res.status_code == 200 and res.content == png() and res["ETag"] == f'"{info["etag"]}"'
    assert anon.get(made_public["publicLink"], HTTP_IF_NONE_MATCH=res["ETag"]).status_code == 304
    api.put(f"{info['link']}/public/false")
    assert anon.get(made_public["publicLink"]).status_code == 404


def test_delete_is_refused_while_a_dashboard_shows_the_image_and_forced_works(api, tenant):
    info = upload(api, "bg.png", png()).json()
    Dashboard.objects.create(tenant=tenant, title="Plant", configuration_text=(
        '{"states":{"default":{"layouts":{"main":{"gridSettings":{"backgroundImageUrl":"tb-image;/api/images/tenant/'
        'bg.png"}}}}}}'))
    Dashboard.objects.create(tenant=tenant, title="Other",
                             configuration_text='{"x":"tb-image;/api/images/tenant/bg.png.old"}')
    res = api.delete(info["link"])
    body = assert_error(res, 400, "dashboard 'Plant'")
    assert body["success"] is False and [r["name"] for r in body["references"]["DASHBOARD"]] == ["Plant"]
    assert api.get(info["link"]).status_code == 200
    forced = api.delete(info["link"], QUERY_STRING="force=true")
    assert forced.status_code == 200 and forced.json()["success"] is True
    assert api.get(info["link"]).status_code == 404


def test_what_is_not_an_image_is_refused(api):
    assert_error(upload(api, "evil.png", b"MZ\x90\x00 not a picture"), 400, "not an image")
    script = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert_error(upload(api, "x.svg", script), 400, "script")
    handler = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    assert_error(upload(api, "y.svg", handler), 400, "script")
    assert upload(api, "ok.svg", SVG).json()["descriptor"]["mediaType"] == "image/svg+xml"
    assert_error(upload(api, "s.png", png(), imageSubType="SCADA_SYMBOL"), 400, "SVG")
    assert not Resource.objects.filter(resource_key="s.png").exists()


def test_an_oversize_image_is_413(api, settings):
    settings.RESOURCE_MAX_BYTES = 1024
    assert_error(upload(api, "big.png", png() + b"\x00" * 2048), 413, "RESOURCE_MAX_BYTES")
    assert not Resource.objects.exists()


def test_export_and_import_round_trip(api, mallory_api):
    info = upload(api, "pump.gif", GIF, title="Pump").json()
    exported = api.get(f"{info['link']}/export").json()
    assert exported["resourceKey"] == "pump.gif" and exported["mediaType"] == "image/gif"
    imported = mallory_api.put("/api/image/import", exported, format="json").json()
    assert (imported["resourceKey"], imported["title"], imported["etag"]) == ("pump.gif", "Pump", info["etag"])
    assert mallory_api.get(imported["link"]).content == GIF
    assert mallory_api.put("/api/image/import", exported, format="json").json()["id"] == imported["id"]


def test_another_tenants_image_is_404_by_key_and_a_system_one_is_read_only(api, mallory_api, sysadmin):
    info = upload(mallory_api, "secret.png", png()).json()
    for method in ("get", "delete"):
        assert getattr(api, method)("/api/images/tenant/secret.png").status_code == 404
    assert api.get("/api/images/tenant/secret.png/info").status_code == 404
    root = api_as(sysadmin)
    system = upload(root, "logo.png", png()).json()
    assert system["link"] == "/api/images/system/logo.png"
    assert api.get(system["link"]).content == png()
    assert_error(api.delete(system["link"]), 403)
    assert_error(api.put(f"{system['link']}/public/true"), 403)
    page = api.get("/api/images", {"pageSize": 10, "page": 0, "includeSystemImages": "true"}).json()
    assert [r["resourceKey"] for r in page["data"]] == ["logo.png"]
    assert api.get("/api/images", {"pageSize": 10, "page": 0}).json()["totalElements"] == 0
    assert info["resourceKey"] == "secret.png"


@pytest.mark.parametrize("field, value", [("title", "a\x00b"), ("title", "t" * 300)])
def test_bad_image_fields_are_400(api, field, value):
    assert_error(upload(api, "a.png", png(), **{field: value}), 400)


_NS = b'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize("body", [
    b'<svg/onload=alert(1)>',
    b'<svg><svg onLoad="alert(1)"/></svg>',
    b'<a xlink:href="&#106;avascript:alert(1)"><rect/></a>',
    b'<a href="  java&#x09;script:alert(1)"><rect/></a>',
    b'<a xlink:href="&#x01;JAVASCRIPT:alert(1)"><rect/></a>',
    b'<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"><rect/></a>',
    b'<a href="vbscript:x"><rect/></a>',
    b'<a><animate attributeName="href" values="javascript:alert(1)"/><rect/></a>',
    b'<a><set attributeName="xlink:href" to="javascript:alert(1)"/><rect/></a>',
    b'<rect><set attributeName="onmouseover" to="alert(1)"/></rect>',
    b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>',
    b'<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
    b'<SCRIPT>alert(1)</SCRIPT>',
    b'<image href="x.png" xml:base="javascript:alert(1)//"/>',
], ids=lambda b: b.decode()[:40])
def test_an_svg_that_could_run_script_is_refused(api, body):
    svg = b'<svg ' + _NS + b'>' + body + b'</svg>'
    assert_error(upload(api, "x.svg", svg), 400, "could run script")
    assert not Resource.objects.exists()


@pytest.mark.parametrize("svg", [
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg ' + _NS + b'>&a;</svg>',
    b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="x.xsl"?><svg ' + _NS + b'/>',
])
def test_an_svg_with_entities_or_a_stylesheet_is_refused(api, svg):
    assert_error(upload(api, "x.svg", svg), 400)


def test_an_ordinary_svg_with_links_is_an_image(api):
    svg = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg ' + _NS + b' xmlns:inkscape="x:i">'
           b'<a href="https://example.com/a?b=1"><rect inkscape:label="r" width="4" height="4"/></a>'
           b'<use xlink:href="#r"/><image href="data:image/png;base64,iVBORw0KGgo="/>'
           b'<animate attributeName="opacity" values="0;1" dur="1s"/></svg>')
    assert upload(api, "ok.svg", svg).json()["descriptor"]["mediaType"] == "image/svg+xml"
