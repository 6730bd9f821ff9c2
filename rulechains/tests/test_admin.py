"""The rule-chain admin: tenant-scoped lists and pages, the metadata JSON, make-root, node validation."""

from rulechains import nodes
from rulechains.models import RuleChain, RuleNode


def test_a_tenant_admin_sees_and_opens_only_its_own_chains(client, tenant_admin, tenant, other_tenant):
    client.force_login(tenant_admin)
    ours, theirs = RuleChain.objects.get(tenant=tenant), RuleChain.objects.get(tenant=other_tenant)
    listing = client.get("/admin/rulechains/rulechain/").content.decode()
    assert f"/admin/rulechains/rulechain/{ours.pk}/change/" in listing
    assert str(theirs.pk) not in listing
    page = client.get(f"/admin/rulechains/rulechain/{ours.pk}/change/")
    assert page.status_code == 200 and "TbMsgTypeSwitchNode" in page.content.decode()
    assert client.get(f"/admin/rulechains/rulechain/{theirs.pk}/change/").status_code == 302
    node = RuleNode.objects.filter(rule_chain=theirs).first()
    assert client.get(f"/admin/rulechains/rulenode/{node.pk}/change/").status_code == 302


def test_the_make_root_action_moves_the_root(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    spare = RuleChain.objects.create(tenant=tenant, name="Spare")
    res = client.post("/admin/rulechains/rulechain/", {"action": "make_root", "_selected_action": [str(spare.pk)]})
    assert res.status_code == 302
    assert list(RuleChain.objects.filter(tenant=tenant, root=True).values_list("name", flat=True)) == ["Spare"]


def test_a_node_with_a_configuration_its_type_cannot_run_is_refused(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    chain = RuleChain.objects.get(tenant=tenant)
    form = {"rule_chain": str(chain.pk), "index": "9", "type": nodes.REST_API_CALL, "name": "call",
            "configuration": "{}", "additional_info": "{}", "configuration_version": "0"}
    res = client.post("/admin/rulechains/rulenode/add/", form)
    assert res.status_code == 200 and "restEndpointUrlPattern" in res.content.decode()
    assert not RuleNode.objects.filter(name="call").exists()
    form["configuration"] = '{"restEndpointUrlPattern": "http://127.0.0.1:9/x"}'
    assert client.post("/admin/rulechains/rulenode/add/", form).status_code == 302
    assert RuleNode.objects.get(name="call").tenant_id == tenant.pk


def test_a_nodes_secrets_show_as_the_mask_and_are_kept(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    chain = RuleChain.objects.get(tenant=tenant)
    row = RuleNode.objects.create(tenant=tenant, rule_chain=chain, index=9, type=nodes.RABBITMQ, name="amqp",
                                  configuration={"host": "127.0.0.1", "password": "s3cr3t-amqp"})
    page = client.get(f"/admin/rulechains/rulenode/{row.pk}/change/").content.decode()
    assert "s3cr3t-amqp" not in page and "******" in page
    form = {"rule_chain": str(chain.pk), "index": "9", "type": nodes.RABBITMQ, "name": "amqp renamed",
            "configuration": '{"host": "127.0.0.1", "password": "******"}', "additional_info": "{}",
            "configuration_version": "0"}
    assert client.post(f"/admin/rulechains/rulenode/{row.pk}/change/", form).status_code == 302
    row.refresh_from_db()
    assert row.name == "amqp renamed" and row.configuration["password"] == "s3cr3t-amqp"


def test_the_chain_opens_in_the_editor_page_of_its_own_tenant_only(client, tenant_admin, tenant, other_tenant):
    client.force_login(tenant_admin)
    ours, theirs = RuleChain.objects.get(tenant=tenant), RuleChain.objects.get(tenant=other_tenant)
    editor = f"/admin/rulechains/rulechain/{ours.pk}/editor/"
    assert editor in client.get("/admin/rulechains/rulechain/").content.decode()
    assert editor in client.get(f"/admin/rulechains/rulechain/{ours.pk}/change/").content.decode()
    page = client.get(editor)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-chain-id="{ours.pk}"' in html and "ui/vendor/x6.js" in html and "ui/rulechain/editor.js" in html
    assert client.get(f"/admin/rulechains/rulechain/{theirs.pk}/editor/").status_code == 404
    assert client.get("/admin/rulechains/rulechain/00000000-0000-0000-0000-000000000000/editor/").status_code == 404
    client.logout()
    assert client.get(editor).status_code == 302  # to the login page


def test_alarms_show_their_assignee_and_where_they_propagate_to_their_tenant_only(client, tenant_admin, tenant,
                                                                                   other_tenant, mallory):
    from rulechains import alarm_propagation, alarms
    from tbproject.testing.factories import make_device

    alarm, _ = alarms.raise_alarm(tenant.pk, "DEVICE", make_device(tenant).pk, "Leak", "MAJOR", None, 1,
                                  propagation={"propagate_to_tenant": True})
    alarms.assign(alarm, tenant_admin, 2)
    [spread] = alarm.propagations.all()
    assert alarm_propagation.record([alarm]) == 1 and alarm.propagations.count() == 1  # recorded once
    client.force_login(tenant_admin)
    assert "alice@example.com" in client.get("/admin/rulechains/alarm/").content.decode()
    assert client.get(f"/admin/rulechains/alarm/{alarm.pk}/change/").status_code == 200
    assert str(tenant.pk) in client.get("/admin/rulechains/entityalarm/").content.decode()
    assert client.get(f"/admin/rulechains/entityalarm/{spread.pk}/change/").status_code == 200
    assert client.get("/admin/rulechains/entityalarm/add/").status_code == 403
    client.force_login(mallory)
    assert client.get(f"/admin/rulechains/entityalarm/{spread.pk}/change/").status_code == 302
    assert str(tenant.pk) not in client.get("/admin/rulechains/entityalarm/").content.decode()
