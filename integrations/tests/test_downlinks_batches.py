"""integrations.downlinks.submit_many as a worker runs it (tasks not eager): the batch is encoded
before it is stored, one INSERT; when the encoder cannot run, the messages wait QUEUED for the
encoding task. And delivery.release: claimed, not sent, back to the queue (issue 18)."""

import json

import pytest

from converters import downlink as converter_downlink
from converters.engine import EngineError
from integrations.downlinks import DownlinkRefused, delivery, submit_many
from integrations.downlinks import tasks as downlink_tasks
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import attributes_msg, with_downlink
from tbproject.clock import now_ms

S = DownlinkStatus


def test_a_batch_is_encoded_and_stored_with_one_insert(tenant, as_in_a_worker, django_assert_max_num_queries):
    integration = with_downlink(tenant, kind="MQTT")
    msgs = [attributes_msg(tenant, f"dev-{i}", {"firmware": f"1.{i}"}) for i in range(40)]
    submit_many(tenant.pk, integration.pk, msgs[:1])  # warm: the integration check is cached
    with django_assert_max_num_queries(12) as captured:  # not one per message
        submit_many(tenant.pk, integration.pk, msgs[1:])
    inserts = [q["sql"] for q in captured.captured_queries
               if ("INSERT INTO" in q["sql"] or "COPY" in q["sql"]) and "outgoingdownlink" in q["sql"]]
    assert len(inserts) == 1
    rows = OutgoingDownlink.objects.filter(integration=integration)
    assert rows.count() == 40 and set(rows.values_list("status", flat=True)) == {S.PENDING}
    row = rows.get(device_name="dev-7")
    assert json.loads(bytes(row.payload)) == {"firmware": "1.7"} and row.metadata == {"topic": "x/dev-7"}
    assert row.encoded_ts and row.tenant_id == tenant.pk


def test_script_errors_fail_their_own_messages_only(tenant, as_in_a_worker):
    script = "if (msg.bad) throw new Error('nope'); return {data: 'ok', metadata: {topic: 't'}};"
    integration = with_downlink(tenant, script, kind="MQTT")
    submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, "a", {"bad": 1}), attributes_msg(tenant, "b", {})])
    statuses = dict(OutgoingDownlink.objects.values_list("device_name", "status"))
    assert statuses == {"a": S.FAILED, "b": S.PENDING}
    assert "nope" in OutgoingDownlink.objects.get(device_name="a").error


def test_when_the_encoder_cannot_run_the_batch_waits_queued(tenant, as_in_a_worker, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    def engine_down(*args, **kwargs):
        raise EngineError("converter workers cannot start")

    scheduled = []
    monkeypatch.setattr(converter_downlink, "encode", engine_down)
    monkeypatch.setattr(downlink_tasks, "schedule", lambda: scheduled.append(1))
    integration = with_downlink(tenant, kind="MQTT")
    before = now_ms()
    with django_capture_on_commit_callbacks(execute=True):
        submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, f"d{i}") for i in range(3)])
    rows = OutgoingDownlink.objects.filter(integration=integration)
    assert rows.count() == 3 and set(rows.values_list("status", flat=True)) == {S.QUEUED}
    assert all(ts >= before + 5000 for ts in rows.values_list("next_attempt_ts", flat=True))  # back-off
    assert scheduled == [1]


def test_a_refusal_covers_the_whole_batch_and_stores_nothing(tenant, other_tenant, as_in_a_worker):
    theirs = with_downlink(other_tenant, kind="MQTT")
    with pytest.raises(DownlinkRefused, match="is not found"):
        submit_many(tenant.pk, theirs.pk, [attributes_msg(tenant), attributes_msg(tenant, "dev-2")])
    assert not OutgoingDownlink.objects.exists()


def test_a_warm_batch_asks_the_database_only_for_routes_health_and_the_insert(tenant, as_in_a_worker,
                                                                               django_assert_max_num_queries):
    integration = with_downlink(tenant, kind="MQTT")
    submit_many(tenant.pk, integration.pk, [attributes_msg(tenant)])  # loads the integration and its converter
    with django_assert_max_num_queries(6) as captured:  # routes, converter health, BEGIN, COPY, COMMIT
        submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, f"d{i}") for i in range(16)])
    assert not [q["sql"] for q in captured.captured_queries if "integrations_integration" in q["sql"]]


def test_an_edited_converter_or_integration_applies_to_the_next_batch(tenant, as_in_a_worker):
    integration = with_downlink(tenant, kind="MQTT")
    submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, "a")])
    converter = integration.downlink_converter
    converter.configuration = {"scriptLang": "JS", "encoder": "return {data: 'v2', metadata: {topic: 't'}};"}
    converter.save()
    submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, "b")])
    assert bytes(OutgoingDownlink.objects.get(device_name="b").payload) == b"v2"
    integration.enabled = False
    integration.save()
    with pytest.raises(DownlinkRefused, match="is disabled"):
        submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, "c")])


def test_a_cached_integration_is_still_not_found_by_another_tenant(tenant, other_tenant, as_in_a_worker):
    theirs = with_downlink(other_tenant, kind="MQTT")
    submit_many(other_tenant.pk, theirs.pk, [attributes_msg(other_tenant)])  # now cached
    with pytest.raises(DownlinkRefused, match="is not found"):
        submit_many(tenant.pk, theirs.pk, [attributes_msg(tenant)])
    assert OutgoingDownlink.objects.filter(tenant=tenant).count() == 0


def test_claimed_downlinks_that_were_not_sent_go_back_to_the_queue(tenant, as_in_a_worker):
    integration = with_downlink(tenant, kind="MQTT")
    submit_many(tenant.pk, integration.pk, [attributes_msg(tenant, f"d{i}") for i in range(3)])
    claimed = delivery.claim([integration.pk], "host-1")
    assert len(claimed) == 3 and {r.status for r in claimed} == {S.SENDING}
    assert delivery.release(claimed) == 3
    rows = OutgoingDownlink.objects.filter(integration=integration)
    assert set(rows.values_list("status", "attempts", "claim")) == {(S.PENDING, 0, "")}
    assert len(delivery.claim([integration.pk], "host-2")) == 3


def test_copy_rows_stores_every_field_as_bulk_create_does(tenant):
    """tbproject.db.copy_rows (COPY on PostgreSQL) against Django's bulk_create, field by field:
    JSON with non-ASCII text and nesting, bytes with a NUL and a backslash, UUIDs given as text,
    NULLs, the model's defaults, and text with tabs and newlines (COPY's own separators)."""
    import uuid

    from tbproject.db import copy_rows

    integration = with_downlink(tenant, kind="MQTT")
    originator = str(uuid.uuid4())

    def row(**extra):
        return OutgoingDownlink(tenant_id=tenant.pk, integration=integration, device_name="tab\there\nnew \\ line",
                                originator_id=originator, msg_type="ATTRIBUTES_UPDATED",
                                msg={"fw": "1.0", "ünï": [1, 2.5, None, {"x": "y\tz"}]}, msg_metadata={"a": "b"},
                                status=S.PENDING, payload=b"\x00\\\x01bytes", metadata={"topic": "t/ü"}, **extra)

    copied, created = row(), row(error="")
    copy_rows(OutgoingDownlink, [copied])
    OutgoingDownlink.objects.bulk_create([created])
    fields = [f.attname for f in OutgoingDownlink._meta.concrete_fields if f.attname not in ("id", "created_ts")]
    a, b = (OutgoingDownlink.objects.filter(pk=r.pk).values(*fields).get() for r in (copied, created))
    a["payload"], b["payload"] = bytes(a["payload"]), bytes(b["payload"])
    assert a == b and a["payload"] == b"\x00\\\x01bytes" and a["device_name"] == "tab\there\nnew \\ line"
    assert a["claimed_ts"] is None and a["attempts"] == 0 and a["msg"]["ünï"][3] == {"x": "y\tz"}
    copy_rows(OutgoingDownlink, [])  # nothing to do
