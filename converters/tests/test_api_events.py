"""`/api/events/...` (page, filter, clear) and `GET /api/converter/{id}/debugIn`."""

import uuid

import pytest
from django.apps import apps
from tb_pe_client.models import PageDataEventInfo

from converters import services
from converters.choices import DebugKind
from converters.models import Converter, DebugEvent
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error

T0 = 1_700_000_000_000


@pytest.fixture
def converter(tenant):
    return Converter.objects.create(tenant=tenant, name="dec", type="UPLINK", debug_failures_enabled=True,
                                    debug_all_enabled_until=now_ms() + 3_600_000,
                                    configuration={"decoder": "return {};"})


def record(converter, payload=b'{"t": 1}', *, error=None, out='{"deviceName":"d"}', at=T0, metadata=None,
           **extra):
    return services.record_debug(converter, payload, None, metadata or {"integrationName": "HTTP A"},
                                 None if error else out, error, now=at, **extra)


def url(converter, suffix="DEBUG_CONVERTER", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"tenantId": converter.tenant_id, "pageSize": 10, "page": 0,
                                              **params}.items())
    path = f"/api/events/CONVERTER/{converter.pk}" + (f"/{suffix}" if suffix else "")
    return f"{path}?{query}"


def times(res) -> list[int]:
    assert res.status_code == 200, res.content
    return [e["createdTime"] for e in res.json()["data"]]


def test_it_pages_events_newest_first_in_thingsboards_shape(api, converter, tenant):
    for i in range(5):
        record(converter, at=T0 + i)
    res = api.get(url(converter, pageSize=2, page=0))
    assert times(res) == [T0 + 4, T0 + 3]
    body = res.json()
    assert (body["totalElements"], body["totalPages"], body["hasNext"]) == (5, 3, True)
    event = body["data"][0]
    assert event["type"] == "DEBUG_CONVERTER" and event["uid"] == event["id"]["id"]
    assert event["entityId"] == {"entityType": "CONVERTER", "id": str(converter.pk)}
    assert event["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert event["body"] == {"type": "Uplink", "server": event["body"]["server"], "inMessageType": "JSON",
                             "in": '{"t": 1}', "metadata": '{"integrationName":"HTTP A"}',
                             "outMessageType": "JSON", "out": '{"deviceName":"d"}', "converterVersionNumber": 1}
    parsed = PageDataEventInfo.from_dict(body)
    assert parsed.data[0].created_time == T0 + 4 and str(parsed.data[0].entity_id.id) == str(converter.pk)
    assert times(api.get(url(converter, pageSize=2, page=2))) == [T0]
    assert times(api.get(url(converter, sortProperty="createdTime", sortOrder="ASC", pageSize=2))) == [T0, T0 + 1]
    assert times(api.get(url(converter, textSearch="anything"))) == [T0 + i for i in range(4, -1, -1)]


def test_it_limits_events_to_the_time_range_inclusive(api, converter):
    for i in range(5):
        record(converter, at=T0 + i * 1000)
    assert times(api.get(url(converter, startTime=T0 + 1000, endTime=T0 + 3000))) == [T0 + 3000, T0 + 2000,
                                                                                      T0 + 1000]
    assert times(api.get(url(converter, startTime=T0 + 3500))) == [T0 + 4000]
    assert times(api.get(url(converter, endTime=T0))) == [T0]
    assert_error(api.get(url(converter, startTime="yesterday")), 400, "startTime")


def test_it_shows_only_the_requested_type_and_entity(api, converter, tenant):
    record(converter)
    other = Converter.objects.create(tenant=tenant, name="other", type="UPLINK", debug_failures_enabled=True,
                                     configuration={"decoder": "return {};"})
    record(other, error="boom")
    DebugEvent.objects.create(tenant=tenant, entity_type="CONVERTER", entity_id=converter.pk, event_type="STATS",
                              created_time=T0, body={"messagesProcessed": 3, "errorsOccurred": 0})
    assert len(times(api.get(url(converter)))) == 1
    assert len(times(api.get(url(converter, "STATS")))) == 1
    assert times(api.get(url(converter, "LC_EVENT"))) == []
    assert_error(api.get(url(converter, "NONSENSE")), 400, "eventType")


def test_it_filters_debug_converter_events(api, converter):
    record(converter, b"\x01\x02", at=T0)
    record(converter, b'{"temp": 21}', error="TypeError: cannot read property 'x' (line 3)", at=T0 + 1)
    record(converter, b"hello", error="timeout: the script ran longer than 500 ms", at=T0 + 2,
           metadata={"integrationName": "MQTT B"})
    record(converter, '{"rpc": 1}', kind=DebugKind.DOWNLINK, msg_type="RPC_CALL", at=T0 + 3)

    def search(**event_filter):
        res = api.post(url(converter, None), {"eventType": "DEBUG_CONVERTER", **event_filter}, format="json")
        return times(res)

    assert search() == [T0 + 3, T0 + 2, T0 + 1, T0]
    assert search(isError=True) == [T0 + 2, T0 + 1]
    assert search(isError="false") == [T0 + 3, T0]
    assert search(errorStr="TIMEOUT") == [T0 + 2]
    assert search(type="downlink") == [T0 + 3]
    assert search(type="Uplink", isError=False) == [T0]
    assert search(**{"in": "temp"}) == [T0 + 1]
    assert search(**{"in": "AQI="}) == [T0]  # binary input is shown (and searched) as base64
    assert search(metadata="mqtt b") == [T0 + 2]
    assert search(out="deviceName") == [T0 + 3, T0]
    assert search(server="no-such-server") == []
    assert search(notEmpty=False, isError=None, errorStr="") == [T0 + 3, T0 + 2, T0 + 1, T0]


def test_it_filters_statistics_and_lifecycle_events(api, converter, tenant):
    for i, (processed, errors) in enumerate(((5, 0), (50, 2), (500, 9))):
        DebugEvent.objects.create(tenant=tenant, entity_type="CONVERTER", entity_id=converter.pk, event_type="STATS",
                                  created_time=T0 + i, body={"messagesProcessed": processed, "errorsOccurred": errors})
    DebugEvent.objects.create(tenant=tenant, entity_type="CONVERTER", entity_id=converter.pk, event_type="LC_EVENT",
                              created_time=T0, body={"event": "STARTED", "status": "Success"})
    path = url(converter, None)
    stats = {"eventType": "STATS", "minMessagesProcessed": 10, "maxMessagesProcessed": 100}
    assert times(api.post(path, stats, format="json")) == [T0 + 1]
    assert times(api.post(path, {"eventType": "STATS", "minErrorsOccurred": 2}, format="json")) == [T0 + 2, T0 + 1]
    assert times(api.post(path, {"eventType": "LC_EVENT", "event": "started"}, format="json")) == [T0]
    assert times(api.post(path, {"eventType": "LC_EVENT", "status": "Failure"}, format="json")) == []
    assert_error(api.post(path, {"eventType": "STATS", "minErrorsOccurred": "many"}, format="json"), 400)


@pytest.mark.parametrize(("event_filter", "message"), [
    ({}, "eventType must be one of"),
    ({"eventType": "WHATEVER"}, "eventType must be one of"),
    ({"eventType": "DEBUG_CONVERTER", "isError": "maybe"}, "'isError' must be true or false"),
    ([], "must be a JSON object"),
])
def test_it_refuses_bad_event_filters(api, converter, event_filter, message):
    path = url(converter, None)
    assert_error(api.post(path, event_filter, format="json"), 400, message)
    assert_error(api.post(f"/api/events/CONVERTER/{converter.pk}/clear", event_filter, format="json"), 400, message)


def test_it_clears_events_by_filter_and_time_range(api, converter, tenant):
    for i in range(4):
        record(converter, error="boom" if i % 2 else None, at=T0 + i * 1000)
    other = Converter.objects.create(tenant=tenant, name="other", type="UPLINK", debug_failures_enabled=True,
                                     configuration={"decoder": "return {};"})
    record(other, error="boom", at=T0)
    clear = f"/api/events/CONVERTER/{converter.pk}/clear"
    res = api.post(f"{clear}?startTime={T0}&endTime={T0 + 1500}", {"eventType": "DEBUG_CONVERTER"}, format="json")
    assert res.status_code == 200
    assert times(api.get(url(converter))) == [T0 + 3000, T0 + 2000]
    assert api.post(clear, {"eventType": "DEBUG_CONVERTER", "isError": True}, format="json").status_code == 200
    assert times(api.get(url(converter))) == [T0 + 2000]
    assert api.post(clear, {"eventType": "DEBUG_CONVERTER"}, format="json").status_code == 200
    assert times(api.get(url(converter))) == []
    assert DebugEvent.objects.filter(entity_id=other.pk).count() == 1


def test_another_tenants_events_are_not_reachable(mallory_api, customer_api, api, converter, mallory, tenant):
    record(converter)
    assert_error(mallory_api.get(url(converter)), 403)  # the tenantId of someone else
    own = url(converter).replace(f"tenantId={tenant.pk}", f"tenantId={mallory.tenant_id}")
    assert_error(mallory_api.get(own), 404)
    assert_error(mallory_api.post(f"/api/events/CONVERTER/{converter.pk}/clear", {"eventType": "DEBUG_CONVERTER"},
                                  format="json"), 404)
    assert_error(customer_api.get(url(converter)), 403)
    assert DebugEvent.objects.count() == 1
    assert_error(api.get(url(converter).replace(str(converter.pk), "nope")), 400, "Invalid UUID string")
    assert_error(api.get(url(converter).replace("/CONVERTER/", "/SPACESHIP/")), 400, "entityType")
    assert_error(api.get(url(converter).replace(str(converter.pk), str(uuid.uuid4()))), 404)


def integration_id_in(tenant, converter) -> uuid.UUID:
    """An integration of ``tenant``: a real row once the integrations app has its model."""
    try:
        model = apps.get_model("integrations", "Integration")
    except LookupError:
        return uuid.uuid4()
    return model.objects.create(tenant=tenant, name="HTTP A", type="HTTP", default_converter=converter).pk


def test_it_serves_integration_events_of_the_callers_tenant_only(api, mallory_api, tenant, converter):
    integration_id = integration_id_in(tenant, converter)
    DebugEvent.objects.create(tenant=tenant, entity_type="INTEGRATION", entity_id=integration_id,
                              event_type="DEBUG_INTEGRATION", created_time=T0, is_error=True,
                              body={"type": "Uplink", "message": "POST /x", "status": "ERROR", "error": "bad"})
    path = f"/api/events/INTEGRATION/{integration_id}/DEBUG_INTEGRATION?pageSize=10&page=0"
    assert times(api.get(path)) == [T0]
    if _has_integration_model():
        assert_error(mallory_api.get(path), 404)
    else:
        assert times(mallory_api.get(path)) == []
    filtered = f"/api/events/INTEGRATION/{integration_id}?pageSize=10&page=0"
    body = {"eventType": "DEBUG_INTEGRATION", "statusIntegration": "error", "message": "post"}
    assert times(api.post(filtered, body, format="json")) == [T0]


def _has_integration_model() -> bool:
    try:
        apps.get_model("integrations", "Integration")
    except LookupError:
        return False
    return True


# --- debugIn ----------------------------------------------------------------------------------------

def test_debug_in_is_empty_without_events(api, converter):
    res = api.get(f"/api/converter/{converter.pk}/debugIn")
    assert res.status_code == 200 and res.json() == {}


def test_debug_in_returns_the_latest_real_uplink_input(api, converter):
    record(converter, b'{"old": 1}', at=T0)
    record(converter, b"\x00\xff", error="boom", at=T0 + 5, metadata={"integrationName": "LoRa", "fPort": "2"})
    res = api.get(f"/api/converter/{converter.pk}/debugIn?converterType=UPLINK&integrationType=HTTP"
                  "&converterVersion=1")
    assert res.json() == {"inContentType": "BINARY", "inContent": "AP8=",
                          "inMetadata": '{"integrationName":"LoRa","fPort":"2"}'}
    res = api.get(f"/api/converter/{converter.pk}/debugIn?integrationName=HTTP A")
    assert res.json()["inContent"] == '{"old": 1}'
    assert api.get(f"/api/converter/{converter.pk}/debugIn?integrationName=Nope").json() == {}


def test_debug_in_of_a_downlink_converter_has_the_message_type(api, tenant):
    encoder = Converter.objects.create(tenant=tenant, name="enc", type="DOWNLINK", debug_failures_enabled=True,
                                       debug_all_enabled_until=now_ms() + 60_000,
                                       configuration={"encoder": "return {data: '1'};"})
    services.record_debug(encoder, '{"temp": 42}', "JSON", {"deviceName": "d"}, '{"data":"1"}', None,
                          DebugKind.DOWNLINK, msg_type="ATTRIBUTES_UPDATED",
                          integration_metadata={"integrationName": "MQTT"})
    assert api.get(f"/api/converter/{encoder.pk}/debugIn").json() == {
        "inContentType": "JSON", "inContent": '{"temp": 42}', "inMetadata": '{"deviceName":"d"}',
        "inMsgType": "ATTRIBUTES_UPDATED", "inIntegrationMetadata": '{"integrationName":"MQTT"}'}
    assert api.get(f"/api/converter/{encoder.pk}/debugIn?integrationName=MQTT").json()["inMsgType"] == (
        "ATTRIBUTES_UPDATED")


def test_debug_in_of_another_tenants_converter_is_a_404(mallory_api, customer_api, converter):
    record(converter)
    assert_error(mallory_api.get(f"/api/converter/{converter.pk}/debugIn"), 404)
    assert_error(customer_api.get(f"/api/converter/{converter.pk}/debugIn"), 403)
