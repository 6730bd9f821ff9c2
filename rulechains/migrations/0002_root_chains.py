"""Existing tenants get the default root chain (new ones get it from the post_save signal)."""

from django.db import migrations


def create_root_chains(apps, schema_editor):
    from rulechains.defaults import ROOT_CHAIN  # a constant: safe to use from a migration

    Tenant = apps.get_model("tenants", "Tenant")
    RuleChain = apps.get_model("rulechains", "RuleChain")
    RuleNode = apps.get_model("rulechains", "RuleNode")
    RuleNodeConnection = apps.get_model("rulechains", "RuleNodeConnection")
    info, metadata = ROOT_CHAIN["ruleChain"], ROOT_CHAIN["metadata"]
    for tenant in Tenant.objects.exclude(pk__in=RuleChain.objects.filter(root=True).values("tenant_id")):
        chain = RuleChain.objects.create(tenant_id=tenant.pk, name=info["name"], type=info["type"], root=True,
                                         first_node_index=metadata["firstNodeIndex"])
        nodes = [RuleNode.objects.create(tenant_id=tenant.pk, rule_chain=chain, index=i, type=n["type"], name=n["name"],
                                         configuration=n["configuration"], additional_info=n["additionalInfo"])
                 for i, n in enumerate(metadata["nodes"])]
        for c in metadata["connections"]:
            RuleNodeConnection.objects.create(tenant_id=tenant.pk, rule_chain=chain, from_node=nodes[c["fromIndex"]],
                                              to_node=nodes[c["toIndex"]], type=c["type"])


class Migration(migrations.Migration):
    dependencies = [("rulechains", "0001_initial")]

    operations = [migrations.RunPython(create_root_chains, migrations.RunPython.noop)]
