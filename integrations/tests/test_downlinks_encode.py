"""integrations.downlinks: submit (refusals, tenancy), the encoder (Downlink out, failures, debug
events), push-type supersede, route memory and the sweep. Encoding runs inline (eager tasks)."""

import base64
import json

import pytest

from converters.choices import EventType
from converters.events import all_enabled_until
from converters.models import DebugEvent
from integrations import pipeline
from integrations.downlinks import DownlinkRefused, delivery, submit
from integrations.messages import RawUplink
from integrations.models import DeviceRoute, DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import attributes_msg, make_encoder, with_downlink
from integrations.tests.factories import make_integration
from integrations.types.http import HttpIntegration
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device

S = DownlinkStatus


@pytest.fixture
def send(tenant, django_capture_on_commit_callbacks):
    """submit() and run what it schedules after commit (encoding, inline)."""

    def run(integration, msg=None, *, tenant_id=None):
        with django_capture_on_commit_callbacks(execute=True):
            submit(tenant_id or tenant.pk, integration.pk, msg or attributes_msg(tenant))
        return OutgoingDownlink.objects.filter(integration=integration).order_by("-created_ts", "-pk").first()

    return run


def test_it_encodes_a_message_into_a_pending_downlink(tenant, send):
    integration = with_downlink(tenant, kind="MQTT")
    row = send(integration, attributes_msg(tenant, "dev-7", {"firmware": "2.0"}))
    assert row.status == S.PENDING, row.error
    assert json.loads(bytes(row.payload)) == {"firmware": "2.0"}
    assert row.content_type == "JSON" and row.metadata == {"topic": "x/dev-7"} and row.device_name == "dev-7"
    message = delivery.as_message(row)
    assert message.payload == b'{"firmware":"2.0"}' and message.integration_id == str(integration.pk)
    assert message.device_name == "dev-7" and message.metadata == {"topic": "x/dev-7"}


def test_it_gives_the_encoder_msg_metadata_msg_type_and_integration_metadata(tenant, send):
    script = "return {contentType: 'TEXT', data: [msgType, metadata.scope, integrationMetadata.integrationName," \
             " integrationMetadata.site, msg.method].join('|')};"
    integration = with_downlink(tenant, script, kind="MQTT", name="Meters",
                                configuration={"clientConfiguration": {"host": "h"},
                                               "topicFilters": [{"filter": "a"}], "metadata": {"site": "north"}})
    row = send(integration, attributes_msg(tenant, data={"method": "reboot", "params": "{}"},
                                           msg_type="RPC_CALL_FROM_SERVER_TO_DEVICE"))
    assert bytes(row.payload) == b"RPC_CALL_FROM_SERVER_TO_DEVICE|SHARED_SCOPE|Meters|north|reboot"
    assert row.content_type == "TEXT"


def test_it_decodes_binary_data_from_base64(tenant, send):
    integration = with_downlink(tenant, "return {contentType: 'BINARY', data: btoa('\\x01\\x02\\xff')};", kind="MQTT")
    row = send(integration)
    assert bytes(row.payload) == b"\x01\x02\xff" and row.content_type == "BINARY"


def test_it_finds_the_device_name_of_the_originator_when_metadata_has_none(tenant, send):
    device = make_device(tenant, "boiler-3")
    integration = with_downlink(tenant, kind="MQTT")
    row = send(integration, attributes_msg(tenant, None, originator_id=device.pk))
    assert row.device_name == "boiler-3" and row.originator_id == device.pk


@pytest.mark.parametrize(("problem", "message"), [
    ("missing", "is not found"), ("other tenant", "is not found"), ("disabled", "is disabled"),
    ("no converter", "has no downlink converter"), ("bad id", "is not a valid id"),
])
def test_it_refuses_what_cannot_take_downlinks(tenant, other_tenant, problem, message):
    integration = with_downlink(other_tenant if problem == "other tenant" else tenant)
    integration_id = integration.pk
    if problem == "missing":
        integration_id = "00000000-0000-0000-0000-000000000001"
    elif problem == "bad id":
        integration_id = "not-an-id"
    elif problem == "disabled":
        integration.enabled = False
        integration.save()
    elif problem == "no converter":
        integration.downlink_converter = None
        integration.save()
    with pytest.raises(DownlinkRefused) as refused:
        submit(tenant.pk, integration_id, attributes_msg(tenant))
    assert message in refused.value.message
    assert not OutgoingDownlink.objects.exists()


def test_a_script_error_fails_the_downlink_with_debug_events(tenant, send):
    integration = with_downlink(tenant, "throw new Error('no firmware key');", kind="MQTT",
                                debug_all_enabled_until=all_enabled_until())
    converter = integration.downlink_converter
    converter.debug_all_enabled_until = all_enabled_until()
    converter.save()
    row = send(integration)
    assert row.status == S.FAILED and "no firmware key" in row.error
    event = DebugEvent.objects.get(entity_id=converter.pk, event_type=EventType.DEBUG_CONVERTER)
    assert event.body["type"] == "Downlink" and event.is_error and "no firmware key" in event.body["error"]
    assert json.loads(event.body["in"]) == {"firmware": "1.2"} and event.body["msgType"] == "ATTRIBUTES_UPDATED"
    assert json.loads(event.body["metadata"])["deviceName"] == "dev-1"
    failure = DebugEvent.objects.get(entity_id=integration.pk, event_type=EventType.DEBUG_INTEGRATION)
    assert failure.body["type"] == "Downlink" and failure.body["status"] == "ERROR"


def test_successful_encodings_are_recorded_while_debug_all_is_on(tenant, send):
    integration = with_downlink(tenant, kind="MQTT")
    converter = integration.downlink_converter
    converter.debug_all_enabled_until = all_enabled_until()
    converter.save()
    send(integration)
    event = DebugEvent.objects.get(entity_id=converter.pk, event_type=EventType.DEBUG_CONVERTER)
    assert not event.is_error and event.body["type"] == "Downlink"
    assert json.loads(event.body["out"]) == {"contentType": "JSON", "data": '{"firmware":"1.2"}',
                                             "metadata": {"topic": "x/dev-1"}}


@pytest.mark.parametrize(("script", "error"), [
    ("return {contentType: 'JSON'};", "data: is required"),
    ("return {contentType: 'BINARY', data: '***'};", "must be base64"),
    ("return 42;", "must return an object"),
])
def test_invalid_encoder_output_fails_the_downlink_saying_why(tenant, send, script, error):
    row = send(with_downlink(tenant, script, kind="MQTT"))
    assert row.status == S.FAILED and "Invalid converter output" in row.error and error in row.error


def test_push_integrations_keep_only_the_newest_downlink_per_device(tenant, send):
    integration = with_downlink(tenant)  # HTTP
    first = send(integration, attributes_msg(tenant, "dev-1", {"n": 1}))
    send(integration, attributes_msg(tenant, "dev-2", {"n": 2}))
    newest = send(integration, attributes_msg(tenant, "dev-1", {"n": 3}))
    first.refresh_from_db()
    assert first.status == S.SUPERSEDED and newest.status == S.PENDING
    assert OutgoingDownlink.objects.filter(status=S.PENDING).count() == 2
    assert delivery.take(integration, ["dev-1"]).pk == newest.pk
    assert delivery.take(integration, ["dev-1"]) is None


def test_the_pipeline_remembers_route_keys_of_each_devices_last_uplink(tenant, send, monkeypatch):
    monkeypatch.setattr(HttpIntegration, "route_keys", ("Header:x-addr",))
    integration = with_downlink(tenant)
    integration.default_converter.configuration["decoder"] = (
        "var d = JSON.parse(String.fromCharCode.apply(null, payload));"
        "return {deviceName: d.id, deviceType: 'meter', telemetry: {t: 1}};")
    integration.default_converter.save()

    def uplink(device, addr):
        return RawUplink(str(integration.pk), json.dumps({"id": device}).encode(),
                         {"integrationName": "I", "Header:x-addr": addr, "Header:other": "x"}, now_ms(), "JSON")

    outcomes = pipeline.process([uplink("d1", "10.0.0.1:5"), uplink("d2", "10.0.0.2:5"), uplink("d1", "10.0.0.9:7")])
    assert [o.status for o in outcomes] == [pipeline.OK] * 3
    routes = dict(DeviceRoute.objects.filter(integration=integration).values_list("device_name", "route"))
    assert routes == {"d1": {"Header:x-addr": "10.0.0.9:7"}, "d2": {"Header:x-addr": "10.0.0.2:5"}}
    row = send(integration, attributes_msg(tenant, "d1"))
    assert delivery.as_message(row).route == {"Header:x-addr": "10.0.0.9:7"}


def test_types_without_route_keys_write_no_routes(tenant):
    integration = with_downlink(tenant)
    pipeline.process([RawUplink(str(integration.pk), b'{"id": "d1", "t": 1}', {}, now_ms(), "JSON")])
    assert not DeviceRoute.objects.exists()


def test_the_sweep_requeues_stale_claims_and_prunes_old_rows(tenant, settings):
    integration = with_downlink(tenant, kind="MQTT")
    old = now_ms() - delivery.STALE_MS - 1000

    def row(status, **extra):
        return OutgoingDownlink.objects.create(tenant=tenant, integration=integration, msg_type="X", status=status,
                                               **extra)

    encoding, sending = row(S.ENCODING, claimed_ts=old), row(S.SENDING, claimed_ts=old)
    fresh = row(S.SENDING, claimed_ts=now_ms())
    ancient = row(S.DELIVERED, created_ts=now_ms() - (settings.DOWNLINKS_TTL_DAYS + 1) * 86_400_000)
    counts = delivery.sweep()
    assert counts["requeued"] == 1 and counts["resent"] == 1 and counts["deleted"] == 1
    statuses = dict(OutgoingDownlink.objects.values_list("pk", "status"))
    assert statuses[encoding.pk] == S.QUEUED and statuses[sending.pk] == S.PENDING and statuses[fresh.pk] == S.SENDING
    assert ancient.pk not in statuses


def test_a_submitted_downlink_is_stored_before_anything_runs(tenant):
    integration = with_downlink(tenant, kind="MQTT")
    submit(tenant.pk, integration.pk, attributes_msg(tenant))  # no commit yet: nothing scheduled
    row = OutgoingDownlink.objects.get()
    assert row.status == S.QUEUED and row.msg == {"firmware": "1.2"} and row.msg_type == "ATTRIBUTES_UPDATED"
    assert row.msg_metadata["deviceName"] == "dev-1" and row.tenant_id == tenant.pk


def test_binary_payloads_show_as_base64_in_the_debug_event_of_a_failed_send(tenant):
    integration = with_downlink(tenant, kind="MQTT", debug_failures_enabled=True)
    row = OutgoingDownlink.objects.create(tenant=tenant, integration=integration, msg_type="X", status=S.SENDING,
                                          payload=b"\x00\xff", content_type="BINARY")
    delivery.finish({integration.pk: integration}, [(row, "broker said no", True)])
    row.refresh_from_db()
    assert row.status == S.FAILED and row.error == "broker said no"
    event = DebugEvent.objects.get(entity_id=integration.pk)
    assert event.body["message"] == base64.b64encode(b"\x00\xff").decode() and event.body["error"] == "broker said no"


def test_retries_back_off_then_fail_visibly(tenant, settings):
    settings.DOWNLINK_MAX_ATTEMPTS, settings.DOWNLINK_RETRY_SECONDS = 3, 5
    integration = with_downlink(tenant, kind="MQTT")
    row = OutgoingDownlink.objects.create(tenant=tenant, integration=integration, msg_type="X", status=S.SENDING)
    seen = []
    for _ in range(3):
        before = now_ms()
        delivery.finish({integration.pk: integration}, [(row, "Not connected to MQTT broker", False)])
        after = now_ms()
        row.refresh_from_db()
        seen.append((row.status, row.attempts, before, row.next_attempt_ts, after))
        row.status = S.SENDING
        row.save(update_fields=["status"])
    assert [(s, a) for s, a, *_ in seen] == [(S.PENDING, 1), (S.PENDING, 2), (S.FAILED, 3)]
    for (_, _, before, due, after), wait in zip(seen[:2], (5000, 10000), strict=True):
        assert before + wait <= due <= after + wait  # doubling back-off from DOWNLINK_RETRY_SECONDS
    row.refresh_from_db()
    assert "gave up after 3 attempts" in row.error


def test_a_converter_shared_by_integrations_encodes_each_with_its_own_metadata(tenant, send):
    encoder = make_encoder(tenant, "return {data: integrationMetadata.integrationName};")
    one = make_integration(tenant, "one", kind="MQTT", downlink_converter=encoder)
    two = make_integration(tenant, "two", kind="MQTT", downlink_converter=encoder)
    assert bytes(send(one).payload) == b"one" and bytes(send(two).payload) == b"two"


def test_a_push_integration_fails_a_downlink_that_names_no_device(tenant, send):
    row = send(with_downlink(tenant), attributes_msg(tenant, None))  # HTTP; the originator is no known device
    assert row.status == S.FAILED and "names no device" in row.error


@pytest.mark.django_db
def test_it_still_registers_the_tasks_under_their_names_from_before_the_move():
    """Messages an older deployment queued name converters.downlink.tasks.* (issue 16 moved them)."""
    from integrations import tasks  # noqa: F401  (what a worker imports)
    from tbproject.celery import app

    for name in ("encode_downlinks", "sweep_downlinks"):
        assert f"converters.downlink.tasks.{name}" in app.tasks
        assert f"integrations.downlinks.tasks.{name}" in app.tasks
    assert app.tasks["converters.downlink.tasks.sweep_downlinks"].apply().get() == {
        "requeued": 0, "resent": 0, "deleted": 0, "queued": 0}
