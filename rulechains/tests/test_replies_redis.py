"""The REST API's reply channel on real Redis (REDIS_URL; the PostgreSQL/Redis leg of CI): a rest
call reply node run in another process (as a worker runs it) reaches the caller waiting here."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from rulechains import replies
from tbproject.clock import now_ms

REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)")

#: the worker's side: the node itself, over an unsaved row, in a fresh process
WORKER = """
import sys, uuid, django
django.setup()
from rulechains.messages import Msg
from rulechains.models import RuleNode
from rulechains.nodes.base import NodeContext
from rulechains.nodes.rest_reply import RestCallReplyNode
node = RestCallReplyNode(RuleNode(type="rest.TbSendRestApiCallReplyNode", name="reply", configuration={}))
msg = Msg("REST_API_REQUEST", uuid.UUID(sys.argv[3]), "DEVICE", uuid.uuid4(), {"from": "worker"},
          {"serviceId": "web", "requestUUID": sys.argv[1], "expirationTime": sys.argv[2]})
[[out]] = node.process_batch(NodeContext(msg.tenant_id, 0), [msg])
print(out.relation)
"""


@pytest.fixture
def redis_client(settings):
    import redis

    settings.REDIS_URL = REDIS_URL
    return redis.Redis.from_url(REDIS_URL)


def test_a_reply_sent_by_a_node_in_another_process_reaches_the_waiting_caller(redis_client):
    request_id, tenant_id = str(uuid.uuid4()), uuid.uuid4()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "REDIS_URL": REDIS_URL}
    with replies.expecting(tenant_id, request_id) as wait:
        worker = subprocess.Popen([sys.executable, "-c", WORKER, request_id, str(now_ms() + 30_000), str(tenant_id)],
                                  cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        body = wait(60)  # a bound, not a measurement: the worker process starts Django first
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err[-2000:]
    assert out.strip() == "Success"
    assert json.loads(body) == {"from": "worker"}
    assert not redis_client.keys(f"*{request_id}*")  # handed over by pub/sub: nothing left behind


def test_a_reply_nobody_waits_for_is_dropped_and_leaves_nothing_in_redis(redis_client):
    """Pub/sub (tbproject/waits.py): the waiter is armed before the request is queued, so a reply
    never comes too early; one nobody waits for is gone, and no key is left behind."""
    request_id, tenant_id = str(uuid.uuid4()), uuid.uuid4()
    replies.send(tenant_id, [(request_id, '{"early": true}', now_ms() + 2000)])
    assert not redis_client.keys(f"*{request_id}*")
    with replies.expecting(tenant_id, request_id) as wait:
        assert wait(0.05) is None


def test_another_tenants_reply_with_the_same_request_id_is_not_taken(redis_client):
    request_id, mine, theirs = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    with replies.expecting(mine, request_id) as wait:
        replies.send(theirs, [(request_id, '{"forged": true}', now_ms() + 2000)])
        assert wait(0.2) is None
        replies.send(mine, [(request_id, '{"mine": true}', now_ms() + 2000)])
        assert json.loads(wait(30)) == {"mine": True}
