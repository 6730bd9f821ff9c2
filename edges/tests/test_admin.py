"""The edge admin pages: they render for a tenant administrator, list only its tenant's edges, and never show
the secret."""

from edges.models import Edge, EdgeEvent


def test_the_admin_pages_render_without_the_secret(client, tenant_admin, tenant, other_tenant):
    edge = Edge.objects.create(tenant=tenant, name="admin-edge", secret="never-in-admin-pages")
    foreign = Edge.objects.create(tenant=other_tenant, name="foreign-edge")
    event = EdgeEvent.objects.create(tenant=tenant, edge=edge, seq_id=1, type="EDGE", action="ADDED")
    client.force_login(tenant_admin)
    for url in ("/admin/edges/edge/", f"/admin/edges/edge/{edge.pk}/change/", "/admin/edges/edge/add/",
                "/admin/edges/edgeevent/", f"/admin/edges/edgeevent/{event.pk}/change/"):
        res = client.get(url)
        assert res.status_code == 200, url
        assert b"never-in-admin-pages" not in res.content
    assert b"admin-edge" in client.get("/admin/edges/edge/").content
    assert b"foreign-edge" not in client.get("/admin/edges/edge/").content
    assert client.get(f"/admin/edges/edge/{foreign.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/edges/edgeevent/add/").status_code == 403


def test_the_system_administrator_opens_them_too(client, sysadmin, tenant):
    edge = Edge.objects.create(tenant=tenant, name="sys-edge", secret="never-in-admin-pages")
    client.force_login(sysadmin)
    for url in ("/admin/edges/edge/", f"/admin/edges/edge/{edge.pk}/change/", "/admin/edges/edgeevent/"):
        res = client.get(url)
        assert res.status_code == 200 and b"never-in-admin-pages" not in res.content, url
