"""The edge template root and the edges' root rule chains as ThingsBoard shows and guards them: the template
root renders "root": true, neither it nor an edge's root may be deleted (400, nothing deleted), a tenant's
deletion still takes them, and concurrent edgeTemplateRoot calls never fail."""

import threading

from django.db import connections

from edges.models import Edge, EdgeRuleChainFlags
from edges.tests.test_api_assignments import chain, new_edge
from rulechains.models import RuleChain
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants import deletion


def _roots(api, path="/api/ruleChains?type=EDGE&pageSize=20&page=0") -> dict:
    res = api.get(path)
    assert res.status_code == 200, res.content
    return {c["name"]: c["root"] for c in res.json()["data"]}


def test_the_template_root_renders_root_true(api, tenant):
    edge = new_edge(api)  # makes the "Edge Root Rule Chain" template root
    other = chain(tenant, "Other")
    assert _roots(api) == {"Edge Root Rule Chain": True, "Other": False}
    res = api.post(f"/api/ruleChain/{other.pk}/edgeTemplateRoot")
    assert res.status_code == 200 and res.json()["root"] is True
    assert _roots(api) == {"Edge Root Rule Chain": False, "Other": True}
    assert api.get(f"/api/ruleChain/{other.pk}").json()["root"] is True
    # the CORE root is still the only one the engine runs
    assert list(RuleChain.objects.filter(tenant=tenant, root=True).values_list("type", flat=True)) == ["CORE"]
    # an edge's page of rule chains: "root" is the chain's own flag, as ThingsBoard's (its UI compares
    # with the edge's rootRuleChainId)
    api.post(f"/api/edge/{edge.pk}/ruleChain/{other.pk}")
    assert _roots(api, f"/api/edge/{edge.pk}/ruleChains?pageSize=10&page=0") == {
        "Edge Root Rule Chain": False, "Other": True}


def test_a_template_root_or_an_edges_root_cannot_be_deleted(api, tenant):
    edge = new_edge(api, "Plant edge")
    template = RuleChain.objects.get(name="Edge Root Rule Chain")
    assert_error(api.delete(f"/api/ruleChain/{template.pk}"), 400, "Deletion of Root Tenant Rule Chain is prohibited!")
    own = chain(tenant, "Own root")
    assert api.post(f"/api/edge/{edge.pk}/{own.pk}/root").status_code == 200
    assert_error(api.delete(f"/api/ruleChain/{own.pk}"), 400,
                 "Can't delete rule chain that is root for edge [Plant edge]. Please assign another root rule chain "
                 "first to the edge!")
    assert RuleChain.objects.filter(pk__in=[template.pk, own.pk]).count() == 2
    spare = chain(tenant, "Spare")
    api.post(f"/api/edge/{edge.pk}/ruleChain/{spare.pk}")
    assert api.delete(f"/api/ruleChain/{spare.pk}").status_code == 200  # assigned, not a root: it goes
    api.post(f"/api/edge/{edge.pk}/{template.pk}/root")
    api.post(f"/api/ruleChain/{own.pk}/edgeTemplateRoot")
    assert api.delete(f"/api/ruleChain/{template.pk}").status_code == 400  # the edge's root again
    edge.delete()
    assert api.delete(f"/api/ruleChain/{template.pk}").status_code == 200


def test_a_tenant_with_edges_and_their_roots_is_still_deleted(api, tenant):
    new_edge(api)
    tenant_id = tenant.pk
    assert deletion.mark(tenant)
    assert deletion.run(tenant_id)
    assert not Edge.objects.filter(tenant_id=tenant_id).exists()
    assert not RuleChain.objects.filter(tenant_id=tenant_id).exists()


def test_concurrent_template_root_calls_all_succeed(transactional_db, tenant, tenant_admin):
    chains = [chain(tenant, f"chain-{i}") for i in range(4)]
    barrier = threading.Barrier(len(chains))
    statuses, errors = [], []

    def worker(c):
        try:
            client = api_as(tenant_admin)
            barrier.wait()
            statuses.append(client.post(f"/api/ruleChain/{c.pk}/edgeTemplateRoot").status_code)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(c,)) for c in chains]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and statuses == [200] * len(chains)
    assert EdgeRuleChainFlags.objects.filter(tenant=tenant, template_root=True).count() == 1
