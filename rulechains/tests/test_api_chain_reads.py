"""Rule chain reads and the default chain: `GET /api/ruleChains/list`, `.../output/labels/usage`,
`GET /api/ruleNode/{id}/debugIn`, `POST /api/ruleChain/device/default`, and the component
descriptors by type and by class (`/api/components/{type}`, `/api/component/{clazz}`)."""

from tb_pe_client.models import ComponentDescriptor, RuleChainOutputLabelsUsage
from tb_pe_client.models import RuleChain as TbRuleChain

from converters.models import DebugEvent
from rulechains import nodes, services
from rulechains.debug import DEBUG_RULE_NODE, RULE_NODE
from rulechains.defaults import ROOT_CHAIN
from rulechains.metadata import export_metadata
from rulechains.models import RuleChain
from rulechains.tests.helpers import chain_json, node
from tbproject.testing.api import assert_error

T0 = 1_700_000_000_000


def make_chain(tenant, name, node_list=(), connections=()):
    data = chain_json(name, list(node_list), list(connections), first=0 if node_list else -1)
    return services.create_chain(tenant.pk, data, check=False)


def caller(name, target, **extra):
    return node(nodes.RULE_CHAIN_INPUT, name, ruleChainId=str(target.pk), **extra)


# --- ruleChains/list --------------------------------------------------------------------------
def test_it_lists_chains_by_ids_in_request_order(api, tenant, other_tenant):
    a, b = make_chain(tenant, "A"), make_chain(tenant, "B")
    theirs = make_chain(other_tenant, "Theirs")
    res = api.get("/api/ruleChains/list", {"ruleChainIds": f"{b.pk},{theirs.pk},{a.pk}"})
    assert res.status_code == 200
    assert [TbRuleChain.from_dict(c).name for c in res.json()] == ["B", "A"]
    repeated = api.get(f"/api/ruleChains/list?ruleChainIds={a.pk}&ruleChainIds={b.pk}").json()
    assert [c["name"] for c in repeated] == ["A", "B"]


def test_chains_by_ids_refuse_bad_ids_and_customer_users(api, customer_api, tenant):
    assert_error(api.get("/api/ruleChains/list", {"ruleChainIds": "nope"}), 400, "Invalid UUID")
    assert_error(api.get("/api/ruleChains/list"), 400, "ruleChainIds")
    chain = make_chain(tenant, "A")
    assert_error(customer_api.get("/api/ruleChains/list", {"ruleChainIds": str(chain.pk)}), 403)


# --- output/labels/usage ----------------------------------------------------------------------
def test_it_lists_the_rule_chain_nodes_using_a_chains_output_labels(api, tenant):
    nested = make_chain(tenant, "Nested", [node(nodes.RULE_CHAIN_OUTPUT, "Done")])
    other = make_chain(tenant, "Other")
    log = node(nodes.LOG, "Log", scriptLang="JS", jsScript="return '';")
    make_chain(tenant, "Zeta", [caller("Call nested", nested), log, log], [(0, 1, "Done"), (0, 2, "Failure")])
    make_chain(tenant, "Alpha", [caller("Second", nested), caller("First", nested), log, caller("Other", other)],
               [(0, 2, "Done"), (1, 2, "Done"), (3, 2, "Done")])
    make_chain(tenant, "Unwired", [caller("Idle", nested)])  # no outgoing connection: no usage
    res = api.get(f"/api/ruleChain/{nested.pk}/output/labels/usage")
    assert res.status_code == 200
    usages = [RuleChainOutputLabelsUsage.from_dict(u) for u in res.json()]
    assert [(u.rule_chain_name, u.rule_node_name, u.labels) for u in usages] == [
        ("Alpha", "First", ["Done"]), ("Alpha", "Second", ["Done"]), ("Zeta", "Call nested", ["Done", "Failure"])]
    first = res.json()[0]
    alpha = RuleChain.objects.get(name="Alpha")
    assert first["ruleChainId"] == {"entityType": "RULE_CHAIN", "id": str(alpha.pk)}
    assert first["ruleNodeId"] == {"entityType": "RULE_NODE", "id": str(alpha.nodes.get(name="First").pk)}


def test_labels_usage_is_tenant_scoped(api, mallory_api, tenant, other_tenant, customer_api):
    nested = make_chain(tenant, "Nested", [node(nodes.RULE_CHAIN_OUTPUT, "Done")])
    assert mallory_api.get(f"/api/ruleChain/{nested.pk}/output/labels/usage").status_code == 404
    assert_error(api.get("/api/ruleChain/nope/output/labels/usage"), 400, "Invalid UUID")
    assert_error(customer_api.get(f"/api/ruleChain/{nested.pk}/output/labels/usage"), 403)
    theirs = make_chain(other_tenant, "Theirs", [node(nodes.LOG, "Log", scriptLang="JS", jsScript="return '';"),
                                                 caller("Sneaky", nested)], [(1, 0, "Done")])
    assert theirs and api.get(f"/api/ruleChain/{nested.pk}/output/labels/usage").json() == []


# --- ruleNode debugIn -------------------------------------------------------------------------
def debug_event(row, direction, ts, data):
    body = {"type": direction, "msgType": "POST_TELEMETRY_REQUEST", "data": data, "metadata": "{}",
            "relationType": "Success", "dataType": "JSON", "entityType": "DEVICE", "entityId": "x"}
    DebugEvent.objects.create(tenant_id=row.tenant_id, entity_type=RULE_NODE, entity_id=row.pk,
                              event_type=DEBUG_RULE_NODE, created_time=ts, body=body)


def test_debug_in_is_the_latest_in_event_among_the_two_newest(api, tenant):
    chain = make_chain(tenant, "C", [node(nodes.LOG, "Log", scriptLang="JS", jsScript="return '';")])
    row = chain.nodes.get()
    url = f"/api/ruleNode/{row.pk}/debugIn"
    none = api.get(url)
    assert none.status_code == 200 and none.content == b""
    debug_event(row, "IN", T0, '{"a":1}')
    debug_event(row, "IN", T0 + 1, '{"a":2}')
    debug_event(row, "OUT", T0 + 2, '{"a":2}')
    res = api.get(url)
    assert res.status_code == 200 and res.json()["data"] == '{"a":2}' and res.json()["type"] == "IN"
    debug_event(row, "OUT", T0 + 3, '{"a":3}')
    assert api.get(url).content == b""  # ThingsBoard looks at the two newest events only


def test_debug_in_is_tenant_scoped(api, mallory_api, customer_api, tenant):
    chain = make_chain(tenant, "C", [node(nodes.LOG, "Log", scriptLang="JS", jsScript="return '';")])
    row = chain.nodes.get()
    debug_event(row, "IN", T0, "{}")
    assert_error(mallory_api.get(f"/api/ruleNode/{row.pk}/debugIn"), 404)
    assert_error(customer_api.get(f"/api/ruleNode/{row.pk}/debugIn"), 403)
    assert_error(api.get("/api/ruleNode/nope/debugIn"), 400, "Invalid UUID")


# --- ruleChain/device/default -----------------------------------------------------------------
def test_it_creates_a_chain_from_the_root_template(api, tenant):
    res = api.post("/api/ruleChain/device/default", {"name": "Thermostats"}, format="json")
    assert res.status_code == 200, res.content
    chain = TbRuleChain.from_dict(res.json())
    assert (chain.name, chain.type, chain.root) == ("Thermostats", "CORE", False)
    saved = RuleChain.objects.get(pk=chain.id.id, tenant=tenant)
    meta = export_metadata(saved)
    assert [n["type"] for n in meta["nodes"]] == [n["type"] for n in ROOT_CHAIN["metadata"]["nodes"]]
    assert len(meta["connections"]) == len(ROOT_CHAIN["metadata"]["connections"])
    assert RuleChain.objects.get(tenant=tenant, root=True).name == "Root Rule Chain"


def test_the_default_chain_needs_a_name_and_a_tenant_admin(api, customer_api):
    for body in ({}, {"name": ""}, {"name": "  "}, {"name": 5}, ["x"], {"name": "x" * 256}, {"name": "a\x00b"}):
        assert_error(api.post("/api/ruleChain/device/default", body, format="json"), 400)
    assert_error(customer_api.post("/api/ruleChain/device/default", {"name": "X"}, format="json"), 403)
    assert not RuleChain.objects.filter(name="X").exists()


# --- components -------------------------------------------------------------------------------
def test_components_by_type_and_by_class(api):
    res = api.get("/api/components/FLOW", {"ruleChainType": "CORE"})
    assert res.status_code == 200
    flow = [ComponentDescriptor.from_dict(d) for d in res.json()]
    assert flow and {d.type for d in flow} == {"FLOW"}
    assert nodes.RULE_CHAIN_INPUT in {d.clazz for d in flow}
    assert res.json() == api.get("/api/components", {"componentTypes": "FLOW"}).json()
    one = api.get(f"/api/component/{nodes.SAVE_TIMESERIES}")
    assert one.status_code == 200
    descriptor = ComponentDescriptor.from_dict(one.json())
    assert (descriptor.clazz, descriptor.type) == (nodes.SAVE_TIMESERIES, "ACTION")


def test_components_refuse_unknown_types_and_classes(api, customer_api):
    assert_error(api.get("/api/components/MAGIC"), 400, "MAGIC")
    assert_error(api.get("/api/components/FLOW", {"ruleChainType": "CLOUD"}), 400, "ruleChainType")
    assert_error(api.get("/api/component/org.example.NoSuchNode"), 404)
    assert_error(customer_api.get("/api/components/FLOW"), 403)
    assert_error(customer_api.get(f"/api/component/{nodes.SAVE_TIMESERIES}"), 403)
