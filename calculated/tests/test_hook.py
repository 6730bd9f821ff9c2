"""The writers' hook costs a tenant without calculated fields one cached lookup: no query, no row work."""

from calculated import receivers
from calculated.tests.helpers import save, simple, ts_arg
from devices import data_events
from devices.telemetry import Point
from tbproject.testing.factories import make_device


class _Rows:
    """Rows that fail the test if anything looks at them."""

    def __iter__(self):
        raise AssertionError("the hook looked at the rows of a tenant without calculated fields")


def test_the_hook_does_no_query_for_a_tenant_without_fields(api, tenant, other_tenant, django_assert_num_queries):
    device = make_device(tenant, "with-fields")
    save(api, simple(device, "a", {"a": ts_arg("a")}))  # another tenant has fields: the set is not empty
    receivers.listener(None, data_events.TELEMETRY, [])  # the cache is loaded once per TTL and process
    with django_assert_num_queries(0):
        for _ in range(100):
            assert receivers.listener(other_tenant.pk, data_events.TELEMETRY, _Rows()) is None
            assert receivers.listener(str(other_tenant.pk), data_events.ATTRIBUTES, _Rows()) is None


def test_the_hook_does_no_query_when_no_tenant_has_fields(tenant, django_assert_num_queries):
    receivers.listener(tenant.pk, data_events.TELEMETRY, [])
    with django_assert_num_queries(0):
        assert receivers.listener(tenant.pk, data_events.TELEMETRY, _Rows()) is None
        assert receivers.listener(None, data_events.TELEMETRY, _Rows()) is None


def test_the_hook_hands_on_the_keys_written_for_a_tenant_with_fields(api, tenant):
    device = make_device(tenant, "with-fields")
    save(api, simple(device, "a", {"a": ts_arg("a")}))
    work = receivers.listener(tenant.pk, data_events.TELEMETRY,
                              [Point(device.pk, "a", 1, 1.0), Point(device.pk, "a", 2, 2.0), (device.pk, "b", 2, 3)])
    assert work.args == (str(tenant.pk), [(str(device.pk), "TS", "a", None)], 1)  # no field reads "b"


def test_a_saved_field_is_seen_by_the_hook_at_once(api, tenant):
    device = make_device(tenant, "later")
    assert receivers.listener(tenant.pk, data_events.TELEMETRY, [(device.pk, "a", 1, 1)]) is None
    save(api, simple(device, "a", {"a": ts_arg("a")}))
    assert receivers.listener(tenant.pk, data_events.TELEMETRY, [(device.pk, "a", 1, 1)]) is not None
