"""GET /api/queues...: ThingsBoard's default rule-engine queues, read-only; changes refused as ThingsBoard does."""

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

LIST = "/api/queues?serviceType=TB_RULE_ENGINE&pageSize=10&page=0"


def test_the_three_default_queues_in_thingsboards_shape(api):
    res = api.get(LIST + "&sortProperty=name&sortOrder=ASC")
    assert res.status_code == 200, res.content
    page = res.json()
    assert page["totalElements"] == 3 and page["totalPages"] == 1 and page["hasNext"] is False
    assert [q["name"] for q in page["data"]] == ["HighPriority", "Main", "SequentialByOriginator"]
    main = api.get("/api/queues/name/Main").json()
    assert set(main) == {"id", "createdTime", "tenantId", "name", "topic", "pollInterval", "partitions",
                         "consumerPerPartition", "packProcessingTimeout", "submitStrategy", "processingStrategy",
                         "additionalInfo"}
    assert main["id"]["entityType"] == "QUEUE" and main["topic"] == "tb_rule_engine.main"
    assert main["submitStrategy"] == {"type": "BURST", "batchSize": 1000}
    assert main["processingStrategy"] == {"type": "SKIP_ALL_FAILURES", "retries": 3, "failurePercentage": 0.0,
                                          "pauseBetweenRetries": 3, "maxPauseBetweenRetries": 3}
    assert "one rule-engine queue" in main["additionalInfo"]["description"]
    sq = api.get("/api/queues/name/SequentialByOriginator").json()
    assert sq["submitStrategy"]["type"] == "SEQUENTIAL_BY_ORIGINATOR"
    assert api.get(f"/api/queues/{sq['id']['id']}").json() == sq


def test_ids_are_stable_and_the_same_for_every_tenant(api, mallory_api):
    assert api.get(LIST).json() == mallory_api.get(LIST).json()


def test_paging_sorting_and_search(api):
    page = api.get("/api/queues?serviceType=TB-RULE-ENGINE&pageSize=2&page=1&sortProperty=topic&sortOrder=DESC")
    assert [q["topic"] for q in page.json()["data"]] == ["tb_rule_engine.hp"]
    assert page.json()["totalPages"] == 2
    found = api.get(LIST + "&textSearch=prior").json()["data"]
    assert [q["name"] for q in found] == ["HighPriority"]
    assert api.get("/api/queues?serviceType=TB_CORE&pageSize=10&page=0").json() == {
        "data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}


@pytest.mark.parametrize(("url", "status"), [
    ("/api/queues?pageSize=10&page=0", 400),
    ("/api/queues?serviceType=NOPE&pageSize=10&page=0", 400),
    (LIST + "&sortProperty=partitions", 400),
    ("/api/queues?serviceType=TB_RULE_ENGINE&page=0", 400),
    ("/api/queues/not-a-uuid", 400),
    ("/api/queues/00000000-0000-0000-0000-000000000000", 404),
    ("/api/queues/name/Nope", 404),
])
def test_bad_requests(api, url, status):
    assert_error(api.get(url), status)


def test_a_tenant_admin_may_not_manage_queues(api):
    main = api.get("/api/queues/name/Main").json()
    body = {**main, "partitions": 20}
    assert_error(api.post("/api/queues?serviceType=TB_RULE_ENGINE", body, format="json"), 403,
                 "You don't have permission to perform this operation!")
    assert_error(api.delete(f"/api/queues/{main['id']['id']}"), 403)
    assert api.get("/api/queues/name/Main").json()["partitions"] == 10


def test_a_customer_user_may_not_read_them(customer_api):
    assert_error(customer_api.get(LIST), 403)
    assert_error(customer_api.get("/api/queues/name/Main"), 403)


def test_the_system_administrator_reads_them_and_changes_nothing(sysadmin):
    client = api_as(sysadmin)
    main = client.get("/api/queues/name/Main").json()
    assert main["name"] == "Main"
    assert_error(client.post("/api/queues?serviceType=TB_RULE_ENGINE", main, format="json"), 501, "fixed")
    assert_error(client.delete(f"/api/queues/{main['id']['id']}"), 501)


def test_anonymous_calls_are_refused(anon):
    assert anon.get(LIST).status_code == 401
