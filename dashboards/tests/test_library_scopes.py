"""System-level widget library, images and resources: the category tests/test_tenant_isolation.py leaves here.

A system row (tenant null, the system administrator's) is read by every tenant, its administrators and
its customer users alike, and changed by none of them: every GET of every id route of the library answers
200 to a tenant, every write 403 (ThingsBoard's "You don't have permission to perform this operation!"),
and the row is unchanged. Routes are taken from the URL configuration, as the isolation test does, so a
new route is covered without editing this file.
"""

import pytest

from dashboards.models import Resource, WidgetsBundle, WidgetType
from tbproject.testing.fixtures import api_as
from tests.test_tenant_isolation import _call, id_routes

PREFIXES = ("api/widget", "api/resource", "api/image")
#: GETs that answer 404 for the system world as they would for a tenant's: a typed download of another type,
#: the public link of an image that is not public
NOT_FOUND = {"api/resource/jks/<str:pk>/download", "api/resource/pkcs12/<str:pk>/download",
             "api/resource/lwm2m/<str:pk>/download", "api/images/public/<str:public_key>"}
#: reads ThingsBoard keeps for administrators (the resource JSON with its bytes, pages of resources)
ADMIN_ONLY = {"api/resource/<str:pk>", "api/resource/info/<str:pk>", "api/images/<str:image_type>/<str:key>/export"}


@pytest.fixture
def system_world(db):
    bundle = WidgetsBundle.objects.create(tenant=None, alias="cards", title="Cards")
    widget = WidgetType.objects.create(tenant=None, fqn="cards.table", name="Table",
                                       descriptor_text='{"type":"latest"}')
    bundle.rows.create(widget_type=widget)
    js = Resource.objects.create(tenant=None, title="Lib", resource_type="JS_MODULE", resource_key="lib.js",
                                 file_name="lib.js", data=b"export {}", etag="0" * 64,
                                 media_type="application/javascript")
    image = Resource.objects.create(tenant=None, title="Logo", resource_type="IMAGE", resource_key="logo.gif",
                                    file_name="logo.gif", data=b"GIF89a", etag="1" * 64, media_type="image/gif",
                                    public_resource_key="logo-public")
    return {"widgetsBundle": bundle, "widgetType": widget, "widgetTypeInfo": widget, "resource": js, "images": image}


def _url(path: str, kwargs: list[str], world: dict) -> str:
    first = path.split("/")[1]
    values = {"pk": lambda: world[first].pk, "image_type": lambda: "system", "resource_scope": lambda: "system",
              "resource_type": lambda: "js_module", "is_public": lambda: "true",
              "key": lambda: world["images" if first == "images" else "resource"].resource_key,
              "public_key": lambda: world["images"].public_resource_key}
    url = path
    for name in kwargs:
        url = url.replace(next(p for p in url.split("/") if p.startswith("<") and p.endswith(f":{name}>")),
                          str(values[name]()), 1)
    return "/" + url


def _routes():
    return [r for r in id_routes() if r[0].startswith(PREFIXES)]


def _snapshot():
    return [list(m.objects.values()) for m in (WidgetsBundle, WidgetType, Resource)]


@pytest.mark.parametrize("who", ["tenant_admin", "customer_user", "mallory"])
def test_every_tenant_reads_the_system_library_and_changes_none_of_it(request, system_world, who):
    client = api_as(request.getfixturevalue(who))
    before = _snapshot()
    reads = writes = 0
    for path, kwargs, methods in _routes():
        url = _url(path, kwargs, system_world)
        for method in methods:
            res = _call(client, method, url + "?pageSize=10&page=0" if method == "get" else url)
            if method == "get":
                admin_only = path in ADMIN_ONLY and who == "customer_user"
                expected = 404 if path in NOT_FOUND else 403 if admin_only else 200
                reads += 1
            else:
                expected = 403
                writes += 1
            assert res.status_code == expected, f"{who} {method.upper()} {url}: {res.status_code} {res.content[:200]}"
    assert reads >= 15 and writes >= 10, (reads, writes)
    assert _snapshot() == before
