"""The pipeline's per-process caches: integrations with their converter (integrations/config_cache.py)
and known devices and assets (devices/known.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters.output import EntityUpdate
from devices import known
from devices.models import Device, DeviceProfile
from devices.provisioning import Provisioner
from integrations import config_cache, pipeline
from integrations.tests.uplinks import converter, integration, json_uplink, values
from tbproject.testing.factories import make_device


@pytest.fixture(autouse=True)
def _empty_caches():
    config_cache.forget()
    known.forget()
    yield
    config_cache.forget()
    known.forget()


def _update(name):
    return EntityUpdate(entity_type="DEVICE", name=name, profile="default")


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_an_integration_is_loaded_once_and_reloaded_after_a_save_in_this_process(tenant):
    integ = integration(tenant)
    key = str(integ.pk)
    assert _queries(lambda: config_cache.load([key])) == 1
    assert _queries(lambda: config_cache.load([key])) == 0
    assert config_cache.load([key])[key].default_converter_id == integ.default_converter_id
    integ.name = "renamed"
    integ.save()
    assert config_cache.load([key])[key].name == "renamed"


def test_a_converter_saved_in_this_process_runs_in_the_next_batch(tenant):
    conv = converter(tenant)
    integ = integration(tenant, conv)
    pipeline.process([json_uplink(integ, {"name": "cc-1", "telemetry": {"t": 1}})])
    conv.configuration = {**conv.configuration, "decoder": "return {deviceName: 'cc-2', telemetry: {v: 7}};"}
    conv.save()
    pipeline.process([json_uplink(integ, {"name": "cc-1", "telemetry": {"t": 2}})])
    assert values(Device.objects.get(tenant=tenant, name="cc-2")) == {"v": 7}


def test_unknown_and_malformed_ids_are_not_cached(tenant, settings):
    assert config_cache.load(["not-a-uuid", "00000000-0000-0000-0000-000000000000"]) == {}
    assert len(config_cache.CACHE) == 0


def test_the_cache_can_be_switched_off(tenant, settings):
    settings.PIPELINE_CACHE_SECONDS = 0
    key = str(integration(tenant).pk)
    config_cache.load([key])
    assert _queries(lambda: config_cache.load([key])) == 1
    make_device(tenant, name="off-1")
    Provisioner(tenant.pk, allow_create=False).prefetch([_update("off-1")])
    assert _queries(lambda: Provisioner(tenant.pk, allow_create=False).prefetch([_update("off-1")])) == 1


def test_a_load_that_raced_with_a_change_is_not_kept(tenant):
    key = str(integration(tenant).pk)
    real = config_cache.Integration.objects.filter

    def filter_then_change(*args, **kwargs):
        rows = list(real(*args, **kwargs).select_related("default_converter"))
        config_cache.forget()  # a save in another thread of this process, while the query ran
        return _Rows(rows)

    class _Rows(list):
        def select_related(self, *names):
            return self

    config_cache.Integration.objects.filter = filter_then_change
    try:
        assert key in config_cache.load([key])
    finally:
        del config_cache.Integration.objects.filter
    assert len(config_cache.CACHE) == 0


def test_known_devices_cost_no_query_in_later_batches_and_missing_names_are_looked_up_again(tenant):
    make_device(tenant, name="k-1")
    first = Provisioner(tenant.pk, allow_create=False)
    first.prefetch([_update("k-1"), _update("k-2")])
    second = Provisioner(tenant.pk, allow_create=False)
    assert _queries(lambda: second.prefetch([_update("k-1")])) == 0
    assert second.entity(_update("k-1")).name == "k-1"
    make_device(tenant, name="k-2")  # created elsewhere after the miss: found at once
    third = Provisioner(tenant.pk, allow_create=False)
    assert _queries(lambda: third.prefetch([_update("k-2")])) == 1
    assert third.entity(_update("k-2")).name == "k-2"


def test_deleting_renaming_or_changing_a_profile_drops_known_entities(tenant):
    device = make_device(tenant, name="d-1")

    def cached() -> bool:
        Provisioner(tenant.pk, allow_create=False).prefetch([_update(device.name)])
        return known.recall(tenant.pk, "DEVICE", device.name) is not None

    assert cached()
    device.name = "d-1-renamed"
    device.save()
    assert known.recall(tenant.pk, "DEVICE", "d-1") is None
    assert cached()
    profile = DeviceProfile.objects.get(pk=device.profile_id)
    profile.name = "renamed-profile"
    profile.save()
    assert known.recall(tenant.pk, "DEVICE", device.name) is None
    assert cached()
    device.delete()
    assert known.recall(tenant.pk, "DEVICE", "d-1-renamed") is None


def test_a_deleted_device_is_created_again_by_its_next_uplink(tenant):
    integ = integration(tenant, allow_create_devices_or_assets=True)
    pipeline.process([json_uplink(integ, {"name": "again-1", "telemetry": {"t": 1}})])
    pipeline.process([json_uplink(integ, {"name": "again-1", "telemetry": {"t": 2}})])
    Device.objects.get(tenant=tenant, name="again-1").delete()
    pipeline.process([json_uplink(integ, {"name": "again-1", "telemetry": {"t": 3}})])
    assert values(Device.objects.get(tenant=tenant, name="again-1")) == {"t": 3}


def test_entities_created_in_one_insert_are_known_once_committed(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Provisioner(tenant.pk, allow_create=True).prefetch([_update("new-1"), _update("new-2")])
        assert known.recall(tenant.pk, "DEVICE", "new-1") is None  # not before the commit
    assert known.recall(tenant.pk, "DEVICE", "new-1").pk == Device.objects.get(name="new-1").pk
    assert _queries(lambda: Provisioner(tenant.pk, allow_create=True).prefetch([_update("new-2")])) == 0
