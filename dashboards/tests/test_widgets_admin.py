"""The widget library and resources in the admin: a tenant administrator sees the system's rows read-only
beside its own, never another tenant's; resource files are checked as the API checks them."""

import base64

from django.core.files.uploadedfile import SimpleUploadedFile

from dashboards.models import Resource, WidgetsBundle, WidgetType
from dashboards.tests.test_images_api import png


def test_a_tenant_admin_sees_system_rows_read_only_and_not_another_tenants(client, tenant_admin, tenant,
                                                                           other_tenant):
    system = WidgetsBundle.objects.create(tenant=None, alias="cards", title="System cards")
    mine = WidgetsBundle.objects.create(tenant=tenant, alias="mine", title="My bundle")
    theirs = WidgetsBundle.objects.create(tenant=other_tenant, alias="theirs", title="Their bundle")
    client.force_login(tenant_admin)
    listing = client.get("/admin/dashboards/widgetsbundle/").content.decode()
    assert "System cards" in listing and "My bundle" in listing and "Their bundle" not in listing
    assert client.get(f"/admin/dashboards/widgetsbundle/{system.pk}/change/").status_code == 200
    res = client.post(f"/admin/dashboards/widgetsbundle/{system.pk}/change/", {"title": "Mine now", "alias": "x"})
    assert res.status_code == 403 and WidgetsBundle.objects.get(pk=system.pk).title == "System cards"
    assert client.post(f"/admin/dashboards/widgetsbundle/{system.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"/admin/dashboards/widgetsbundle/{theirs.pk}/change/").status_code == 302
    assert mine.pk


def test_a_widget_type_descriptor_must_be_a_json_object(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    data = {"name": "Gauge", "fqn": "gauge", "descriptor_text": "[1]", "tags": "null"}
    res = client.post("/admin/dashboards/widgettype/add/", data)
    assert res.status_code == 200 and "must be a JSON object" in res.content.decode()
    res = client.post("/admin/dashboards/widgettype/add/", {**data, "descriptor_text": '{"type":"rpc","b":1}'})
    assert res.status_code == 302
    widget = WidgetType.objects.get(fqn="gauge")
    assert (widget.tenant_id, widget.widget_kind, widget.descriptor_text) == (tenant.pk, "rpc", '{"type":"rpc","b":1}')


def test_a_resource_is_uploaded_and_checked(client, sysadmin):
    client.force_login(sysadmin)
    bad = {"title": "Logo", "resource_type": "IMAGE", "upload": SimpleUploadedFile("logo.png", b"not an image")}
    res = client.post("/admin/dashboards/resource/add/", bad)
    assert res.status_code == 200 and "not an image" in res.content.decode()
    good = {"title": "Logo", "resource_type": "IMAGE", "upload": SimpleUploadedFile("logo.png", png())}
    assert client.post("/admin/dashboards/resource/add/", good).status_code == 302
    image = Resource.objects.get()
    assert (image.tenant_id, image.resource_key, image.media_type, bytes(image.data)) == \
        (None, "logo.png", "image/png", png())
    assert image.public_resource_key


XHTML = b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'


def test_a_resource_cannot_become_an_image_without_image_bytes(client, tenant_admin, api, anon):
    model = api.post("/api/resource", {"resourceType": "LWM2M_MODEL", "fileName": "p.xml",
                                       "data": base64.b64encode(XHTML).decode()}, format="json").json()
    row = Resource.objects.get(pk=model["id"]["id"])
    client.force_login(tenant_admin)
    form = {"title": "p", "resource_type": "IMAGE", "resource_key": "p.xml", "file_name": "p.xml", "is_public": "on"}
    res = client.post(f"/admin/dashboards/resource/{row.pk}/change/", form)
    assert res.status_code == 200 and "The stored file cannot be a IMAGE" in res.content.decode()
    row.refresh_from_db()
    assert (row.resource_type, row.media_type, row.is_public) == ("LWM2M_MODEL", "application/xml", False)
    # a row switched before this check (type IMAGE, XML bytes) is refused on its next save, and never public
    Resource.objects.filter(pk=row.pk).update(resource_type="IMAGE", is_public=True, public_resource_key="k" * 20)
    assert client.post(f"/admin/dashboards/resource/{row.pk}/change/", form).status_code == 200
    served = anon.get("/api/images/public/" + "k" * 20)
    assert "attachment" in served["Content-Disposition"] and "sandbox" in served["Content-Security-Policy"]
    # with image bytes the switch is fine, and the image becomes an image
    res = client.post(f"/admin/dashboards/resource/{row.pk}/change/",
                      {**form, "upload": SimpleUploadedFile("p.png", png())})
    assert res.status_code == 302
    row.refresh_from_db()
    assert (row.resource_type, row.media_type, bytes(row.data)) == ("IMAGE", "image/png", png())


def test_an_image_turned_into_a_js_module_is_served_as_one(client, tenant_admin, api):
    from dashboards.tests.test_images_api import upload
    info = upload(api, "x.png", png()).json()
    client.force_login(tenant_admin)
    res = client.post(f"/admin/dashboards/resource/{info['id']['id']}/change/",
                      {"title": "x", "resource_type": "JS_MODULE", "resource_key": "x.png", "file_name": "x.png"})
    assert res.status_code == 302
    assert Resource.objects.get(pk=info["id"]["id"]).media_type == "application/javascript"


def test_a_duplicate_system_row_is_a_form_error(client, sysadmin):
    client.raise_request_exception = False
    WidgetsBundle.objects.create(tenant=None, alias="dup", title="A")
    WidgetType.objects.create(tenant=None, fqn="dup", name="A", descriptor_text="{}")
    Resource.objects.create(tenant=None, title="x", resource_type="JS_MODULE", resource_key="a.js", file_name="a.js",
                            data=b"1", etag="e")
    client.force_login(sysadmin)
    res = client.post("/admin/dashboards/widgetsbundle/add/", {"title": "B", "alias": "dup", "rows-TOTAL_FORMS": "0",
                                                               "rows-INITIAL_FORMS": "0"})
    assert res.status_code == 200 and "alias already exists" in res.content.decode()
    res = client.post("/admin/dashboards/widgettype/add/", {"name": "B", "fqn": "dup", "descriptor_text": "{}",
                                                            "tags": "null"})
    assert res.status_code == 200 and "fqn already exists" in res.content.decode()
    res = client.post("/admin/dashboards/resource/add/", {"title": "y", "resource_type": "JS_MODULE",
                                                          "resource_key": "a.js",
                                                          "upload": SimpleUploadedFile("a.js", b"2")})
    assert res.status_code == 200 and "key already exists" in res.content.decode()
    assert (WidgetsBundle.objects.count(), WidgetType.objects.count(), Resource.objects.count()) == (1, 1, 1)


def test_a_duplicate_tenant_row_is_a_form_error(client, tenant_admin, tenant):
    client.raise_request_exception = False
    WidgetsBundle.objects.create(tenant=tenant, alias="dup", title="A")
    Resource.objects.create(tenant=tenant, title="x", resource_type="JS_MODULE", resource_key="a.js",
                            file_name="a.js", data=b"1", etag="e")
    client.force_login(tenant_admin)
    res = client.post("/admin/dashboards/widgetsbundle/add/", {"title": "B", "alias": "dup", "rows-TOTAL_FORMS": "0",
                                                               "rows-INITIAL_FORMS": "0"})
    assert res.status_code == 200
    res = client.post("/admin/dashboards/resource/add/", {"title": "y", "resource_type": "JS_MODULE",
                                                          "resource_key": "a.js",
                                                          "upload": SimpleUploadedFile("a.js", b"2")})
    assert res.status_code == 200 and Resource.objects.count() == 1
