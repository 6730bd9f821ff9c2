"""Small rule chain editor reads: output labels of a chain, TBEL capability."""

from tbproject.testing.api import assert_error


def test_a_chains_output_labels_are_its_output_node_names(api, tenant, other_tenant):
    from rulechains.models import RuleChain, RuleNode
    from rulechains.nodes import RULE_CHAIN_OUTPUT

    chain = RuleChain.objects.create(tenant=tenant, name="nested")
    for index, name in enumerate(("Done", "Failed", "Done")):
        RuleNode.objects.create(tenant=tenant, rule_chain=chain, index=index, type=RULE_CHAIN_OUTPUT, name=name)
    RuleNode.objects.create(tenant=tenant, rule_chain=chain, index=3, type="other", name="Ignored")
    res = api.get(f"/api/ruleChain/{chain.pk}/output/labels")
    assert res.status_code == 200 and res.json() == ["Done", "Failed"]
    theirs = RuleChain.objects.create(tenant=other_tenant, name="theirs")
    assert_error(api.get(f"/api/ruleChain/{theirs.pk}/output/labels"), 404)


def test_tbel_is_enabled(api):
    res = api.get("/api/ruleChain/tbelEnabled")
    assert res.status_code == 200 and res.json() is True
