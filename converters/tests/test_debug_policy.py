"""Debug policy (all events until allEnabledUntil, then failures only), batching, content types."""

import base64

import pytest

from converters import services
from converters.choices import DebugKind
from converters.events import MAX_TEXT, EventBatch, all_enabled_until, cap_all_enabled_until, should_record
from converters.models import Converter, DebugEvent

T0 = 1_700_000_000_000
WINDOW = 15 * 60_000


@pytest.fixture
def converter(tenant):
    return Converter.objects.create(tenant=tenant, name="dec", type="UPLINK", configuration={"decoder": "return {};"})


def run(converter, *, failed: bool, at: int):
    return services.record_debug(converter, b'{"t":1}', None, {"integrationName": "I"},
                                 None if failed else '{"deviceName":"d"}', "boom" if failed else None, now=at)


@pytest.mark.parametrize(("failures", "until", "failed", "now", "recorded"), [
    (False, 0, False, T0, False),
    (False, 0, True, T0, False),
    (True, 0, False, T0, False),
    (True, 0, True, T0, True),
    (False, T0 + 1, False, T0, True),
    (False, T0 + 1, True, T0, True),
    (False, T0, False, T0, False),  # the window ends at allEnabledUntil itself
    (False, T0, True, T0, False),
    (True, T0, True, T0 + 1, True),
])
def test_it_applies_thingsboards_policy(failures, until, failed, now, recorded):
    assert should_record(failures, until, failed=failed, now=now) is recorded


def test_it_records_everything_during_the_window_then_failures_only(converter, settings):
    settings.DEBUG_ALL_DURATION_MINUTES = 15
    converter.debug_failures_enabled = True
    converter.debug_all_enabled_until = all_enabled_until(T0)
    assert converter.debug_all_enabled_until == T0 + WINDOW
    assert run(converter, failed=False, at=T0) is not None
    assert run(converter, failed=True, at=T0 + 60_000) is not None
    assert run(converter, failed=False, at=T0 + WINDOW - 1) is not None
    assert run(converter, failed=False, at=T0 + WINDOW) is None
    assert run(converter, failed=True, at=T0 + WINDOW + 1) is not None
    converter.debug_failures_enabled = False
    assert run(converter, failed=True, at=T0 + WINDOW + 2) is None
    rows = list(DebugEvent.objects.order_by("created_time").values_list("created_time", "is_error"))
    assert rows == [(T0, False), (T0 + 60_000, True), (T0 + WINDOW - 1, False), (T0 + WINDOW + 1, True)]


def test_the_window_length_is_a_setting_and_posted_values_are_capped(settings):
    settings.DEBUG_ALL_DURATION_MINUTES = 2
    assert all_enabled_until(T0) == T0 + 120_000
    assert cap_all_enabled_until(T0 + 10 * 60_000, T0) == T0 + 120_000
    assert cap_all_enabled_until(T0 + 60_000, T0) == T0 + 60_000
    assert cap_all_enabled_until(T0 - 1, T0) == 0
    assert cap_all_enabled_until(None, T0) == 0
    assert cap_all_enabled_until("x", T0) == 0


def test_a_batch_writes_many_events_with_one_insert(converter, django_assert_num_queries):
    converter.debug_failures_enabled = True
    with EventBatch() as batch:
        with django_assert_num_queries(0):
            for i in range(50):
                services.record_debug(converter, b"x", None, {}, None, "boom", now=T0 + i, batch=batch)
        assert len(batch) == 50
        with django_assert_num_queries(1):
            batch.flush()
    assert DebugEvent.objects.count() == 50 and batch.written == 50


def test_a_batch_flushes_when_full_and_when_its_block_fails(converter):
    converter.debug_failures_enabled = True
    batch = EventBatch(max_rows=3)
    for i in range(4):
        services.record_debug(converter, b"x", None, {}, None, "boom", now=T0 + i, batch=batch)
    assert DebugEvent.objects.count() == 3 and len(batch) == 1
    with pytest.raises(RuntimeError), batch:
        raise RuntimeError("the pipeline failed after recording")
    assert DebugEvent.objects.count() == 4


def test_without_a_batch_the_event_is_written_at_once(converter, django_assert_num_queries):
    converter.debug_failures_enabled = True
    with django_assert_num_queries(1):
        event = run(converter, failed=True, at=T0)
    assert DebugEvent.objects.get().pk == event.pk


def test_it_records_a_downlink_run(converter):
    converter.debug_failures_enabled = True
    event = services.record_debug(converter, '{"temp": 1}', "JSON", {"deviceName": "d"}, None,
                                  "TypeError: x (line 1)", DebugKind.DOWNLINK,
                                  msg_type="RPC_CALL_FROM_SERVER_TO_DEVICE",
                                  integration_metadata={"integrationName": "MQTT"}, now=T0)
    assert event.body == {"type": "Downlink", "server": event.server, "inMessageType": "JSON", "in": '{"temp": 1}',
                          "metadata": '{"deviceName":"d"}', "msgType": "RPC_CALL_FROM_SERVER_TO_DEVICE",
                          "integrationMetadata": '{"integrationName":"MQTT"}', "error": "TypeError: x (line 1)",
                          "converterVersionNumber": 1}
    assert event.is_error and event.server


def test_it_truncates_huge_inputs(converter):
    converter.debug_failures_enabled = True
    event = services.record_debug(converter, b"a" * (MAX_TEXT + 10), "TEXT", {}, None, "boom", now=T0)
    assert event.body["in"].endswith("...[truncated 10 characters]")
    assert len(event.body["in"]) < MAX_TEXT + 40


@pytest.mark.parametrize(("data", "hint", "expected"), [
    (b'{"temp": 21.5}', None, ("JSON", '{"temp": 21.5}')),
    (b"[1, 2]", None, ("JSON", "[1, 2]")),
    (b"21.5", None, ("TEXT", "21.5")),
    (b"th-1,21.5\n", None, ("TEXT", "th-1,21.5\n")),
    ("héllo", None, ("TEXT", "héllo")),
    (b"\x01\x02\xff", None, ("BINARY", "AQL/")),
    (b"\x00abc", None, ("BINARY", base64.b64encode(b"\x00abc").decode())),
    (b"", None, ("TEXT", "")),
    (b'{"a": 1}', "TEXT", ("TEXT", '{"a": 1}')),
    (b"not json", "JSON", ("TEXT", "not json")),
    (b"21.5", "application/json; charset=utf-8", ("JSON", "21.5")),
    (b'{"a": 1}', "application/octet-stream", ("BINARY", "eyJhIjogMX0=")),
    (b"\xff\xfe", "text/plain", ("BINARY", "//4=")),
    (b"<a/>", "application/xml", ("TEXT", "<a/>")),
])
def test_it_detects_content_types_as_debug_events_show_them(data, hint, expected):
    assert services.detect_content_type(data, hint) == expected


def test_deleting_a_converter_deletes_its_events(converter, tenant):
    converter.debug_failures_enabled = True
    run(converter, failed=True, at=T0)
    other = Converter.objects.create(tenant=tenant, name="other", type="UPLINK", debug_failures_enabled=True,
                                     configuration={"decoder": "return {};"})
    run(other, failed=True, at=T0)
    converter.delete()
    assert list(DebugEvent.objects.values_list("entity_id", flat=True)) == [other.pk]
