"""QueueStats (GET /api/queueStats...): a row per tenant, queue and service as the engine runs the tenant's
messages, once per process; the three reads, their tenancy and their bad input."""

import pytest
from django.test import override_settings
from tb_pe_client.models import PageDataQueueStats
from tb_pe_client.models import QueueStats as ClientQueueStats

from rulechains import engine, queue_stats
from rulechains.models import QueueStats
from rulechains.tests.helpers import msg
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as


@pytest.fixture(autouse=True)
def _fresh_process():
    queue_stats.forget()
    yield
    queue_stats.forget()


@override_settings(TB_SERVICE_ID="tb-rule-engine-1")
def test_the_engine_makes_one_row_per_tenant_and_queue_once(tenant, other_tenant, django_assert_num_queries,
                                                            django_capture_on_commit_callbacks):
    device, theirs = make_device(tenant), make_device(other_tenant, name="dev-2")
    with django_capture_on_commit_callbacks(execute=True):  # made after the batch's transaction, not inside it
        engine.process([msg(tenant, device), msg(tenant, device), msg(other_tenant, theirs)])
    rows = QueueStats.objects.order_by("tenant__title")
    assert [(r.tenant_id, r.queue_name, r.service_id) for r in rows] == [
        (tenant.pk, "Main", "tb-rule-engine-1"), (other_tenant.pk, "Main", "tb-rule-engine-1")]
    with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=True) as again:
        queue_stats.noted([tenant.pk, other_tenant.pk])  # noted once per process: no query per message
    assert again == []
    queue_stats.forget()
    with django_capture_on_commit_callbacks(execute=True):
        queue_stats.noted([tenant.pk])  # another process of the same service: the same row
    assert QueueStats.objects.count() == 2


def _noted(tenant_ids):
    queue_stats._record(list(tenant_ids), queue_stats.MAIN_QUEUE)


def test_the_reads_answer_the_clients_models_within_the_tenant(tenant, other_tenant, api, mallory_api, sysadmin):
    _noted([tenant.pk, other_tenant.pk])
    mine = QueueStats.objects.get(tenant=tenant)
    theirs = QueueStats.objects.get(tenant=other_tenant)

    page = api.get("/api/queueStats", {"pageSize": 10, "page": 0, "textSearch": "mai", "sortProperty": "queueName"})
    assert page.status_code == 200
    parsed = PageDataQueueStats.from_dict(page.json())
    assert [str(q.id.id) for q in parsed.data] == [str(mine.pk)] and parsed.total_elements == 1
    assert parsed.data[0].queue_name == "Main" and str(parsed.data[0].tenant_id.id) == str(tenant.pk)
    assert parsed.data[0].id.entity_type == "QUEUE_STATS"

    one = api.get(f"/api/queueStats/{mine.pk}")
    assert ClientQueueStats.from_dict(one.json()).service_id == mine.service_id
    assert api.get(f"/api/queueStats/{theirs.pk}").status_code == 404
    assert mallory_api.get(f"/api/queueStats/{mine.pk}").status_code == 404
    listed = api.get("/api/queueStats/list", {"queueStatsIds": f"{theirs.pk},{mine.pk}"})
    assert [q["id"]["id"] for q in listed.json()] == [str(mine.pk)]

    root = api_as(sysadmin).get("/api/queueStats", {"pageSize": 10, "page": 0})
    assert root.json()["totalElements"] == 2  # the system administrator: every tenant's


def test_customer_users_are_refused_and_bad_input_is_a_400(tenant, api, customer_api):
    assert customer_api.get("/api/queueStats", {"pageSize": 10, "page": 0}).status_code == 403
    for path, params in [("/api/queueStats", {"page": 0}),
                         ("/api/queueStats", {"pageSize": 10, "page": 0, "sortProperty": "nope"}),
                         ("/api/queueStats", {"pageSize": 10, "page": 0, "sortOrder": "UP"}),
                         ("/api/queueStats/list", {}),
                         ("/api/queueStats/list", {"queueStatsIds": "not-a-uuid"}),
                         ("/api/queueStats/not-a-uuid", {})]:
        answer = api.get(path, params)
        assert answer.status_code == 400, (path, params)
        assert answer.json()["errorCode"] == 31


@override_settings(TB_SERVICE_ID="tb-rule-engine-7")
def test_text_search_matches_the_queue_name_or_the_service_id_and_roles_may_grant_it(tenant, api):
    _noted([tenant.pk])
    for text, found in (("main", 1), ("engine-7", 1), ("TB-RULE", 1), ("nothing", 0)):
        page = api.get("/api/queueStats", {"pageSize": 10, "page": 0, "textSearch": text}).json()
        assert page["totalElements"] == found, text
    assert "QUEUE_STATS" in api.get("/api/permissions/allowedPermissions").json()["allowedResources"]
