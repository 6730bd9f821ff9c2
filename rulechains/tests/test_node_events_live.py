"""A rule node's debug events over the live websocket (``/ws/events/RULE_NODE/{id}``), as the rule
chain page's side panel receives them; another tenant's node is refused like any other entity."""

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from integrations.tests.test_live_events import close_code, opened, socket
from rulechains import engine, nodes
from rulechains.models import RuleChain
from rulechains.tests.helpers import install_root, msg, node
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db(transaction=True)  # events are published when their transaction commits


def test_a_nodes_debug_events_arrive_as_the_chain_runs(tenant, tenant_admin):
    install_root(tenant, [node(nodes.SWITCH, "Switch", debug=True)], [])
    [row] = RuleChain.objects.get(tenant=tenant, root=True).nodes.all()
    device = make_device(tenant)

    async def scenario():
        communicator = await opened(socket(f"/ws/events/RULE_NODE/{row.pk}", user=tenant_admin))
        await database_sync_to_async(engine.process)([msg(tenant, device)])
        got = [await communicator.receive_json_from(3) for _ in range(2)]
        await communicator.disconnect()
        return got

    first, second = async_to_sync(scenario)()
    assert {first["body"]["type"], second["body"]["type"]} == {"IN", "OUT"}
    out = first if first["body"]["type"] == "OUT" else second
    assert out["type"] == "DEBUG_RULE_NODE" and out["body"]["relationType"] == "Post telemetry"
    assert out["entityId"] == {"entityType": "RULE_NODE", "id": str(row.pk)} and "duration" in out["body"]


def test_another_tenants_node_is_refused(tenant, mallory):
    install_root(tenant, [node(nodes.SWITCH, "Switch", debug=True)], [])
    [row] = RuleChain.objects.get(tenant=tenant, root=True).nodes.all()

    async def scenario():
        return (await close_code(socket(f"/ws/events/RULE_NODE/{row.pk}", user=mallory)),
                await close_code(socket(f"/ws/events/RULE_NODE/{uuid.uuid4()}", user=mallory)))

    assert async_to_sync(scenario)() == (4404, 4404)
