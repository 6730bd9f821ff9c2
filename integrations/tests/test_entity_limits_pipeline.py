"""Auto-provisioning past the tenant profile's maxAssets or maxCustomers (tenants/limits/entities.py): the
uplink pipeline fails only the message that would create one, with ThingsBoard's text; the batch goes on."""

import pytest

from devices.models import Asset, Device
from integrations import config_cache, pipeline
from integrations.models import DeadLetter
from integrations.tests.uplinks import converter, integration, json_uplink
from tbproject.testing.factories import make_asset
from tbproject.testing.limits import limit_tenant
from tenants import limits
from tenants.models import Customer

pytestmark = pytest.mark.django_db

DECODER = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
var result = {telemetry: {v: 1}};
if (data.asset) { result.assetName = data.asset; result.assetType = 'building'; }
else { result.deviceName = data.device; result.deviceType = 'sensor'; }
if (data.customer) result.customerName = data.customer;
return result;
"""


@pytest.fixture(autouse=True)
def _fresh():
    limits.reset()
    config_cache.forget()


def test_an_asset_or_customer_past_the_limit_fails_only_its_message(tenant, other_tenant):
    Customer.objects.create(tenant=tenant, title="Known")
    make_asset(other_tenant, "theirs")  # another tenant's: not counted
    limit_tenant(tenant, maxAssets=2, maxCustomers=1)
    integ = integration(tenant, converter(tenant, DECODER), allow_create_devices_or_assets=True)
    bodies = [{"asset": "hall-1"}, {"asset": "hall-2"}, {"asset": "hall-3"},
              {"device": "meter-1", "customer": "Known"}, {"device": "meter-2", "customer": "Unknown"},
              {"device": "meter-3"}]
    outcomes = pipeline.process([json_uplink(integ, b) for b in bodies])
    assert [o.status for o in outcomes] == ["ok", "ok", "failed", "ok", "failed", "ok"]
    assert outcomes[2].error == "Cannot create asset 'hall-3': Assets limit reached"
    assert outcomes[4].error == "Cannot create device 'meter-2': Customers limit reached"
    assert sorted(Asset.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["hall-1", "hall-2"]
    assert sorted(Device.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["meter-1", "meter-3"]
    assert list(Customer.objects.filter(tenant=tenant).values_list("title", flat=True)) == ["Known"]
    assert DeadLetter.objects.filter(integration=integ).count() == 2


def _new(entity_type: str, n: int) -> list:
    from converters.output import EntityUpdate

    return [EntityUpdate(entity_type=entity_type, name=f"new-{i}", profile="p") for i in range(n)]


@pytest.mark.parametrize("entity_type", ["ASSET", "DEVICE"])
def test_a_batch_past_the_limit_asks_the_room_once_and_fails_the_rest_without_queries(
        tenant, entity_type, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from devices import known
    from devices.provisioning import Provisioner
    from tbproject.testing.factories import make_device
    from tenants.limits import limits_of

    model, key = (Asset, "maxAssets") if entity_type == "ASSET" else (Device, "maxDevices")
    (make_asset if entity_type == "ASSET" else make_device)(tenant, "old")
    limit_tenant(tenant, **{key: 3})
    known.forget()
    limits_of(tenant.pk)  # the pipeline has read the tenant's limits before it provisions
    updates = _new(entity_type, 20)
    provisioner = Provisioner(tenant.pk, allow_create=True)
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        provisioner.prefetch(updates)
        outcomes = []
        for update in updates:
            try:
                outcomes.append(provisioner.entity(update).name)
            except ValueError as e:
                outcomes.append(str(e))
    name = "Assets" if entity_type == "ASSET" else "Devices"
    assert outcomes == ["new-0", "new-1"] + [f"{name} limit reached"] * 18  # in message order
    assert sorted(model.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["new-0", "new-1", "old"]
    assert len(ctx.captured_queries) <= 20, "\n".join(q["sql"] for q in ctx.captured_queries)
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")
               and f'INTO "{model._meta.db_table}" ' in q["sql"]]
    assert len(inserts) == 1

    # the tenant is at its limit now: another batch (another provisioner) costs no count nor lock in this process
    later = Provisioner(tenant.pk, allow_create=True)
    with CaptureQueriesContext(connection) as ctx:
        later.prefetch(_new(entity_type, 40)[20:])
        with pytest.raises(ValueError, match=f"{name} limit reached"):
            later.entity(_new(entity_type, 21)[20])
    assert len(ctx.captured_queries) <= 3, "\n".join(q["sql"] for q in ctx.captured_queries)
    model.objects.filter(tenant=tenant, name="old").delete()  # room again: forgotten at once
    assert Provisioner(tenant.pk, allow_create=True).entity(_new(entity_type, 21)[20]).name == "new-20"


def test_the_pipeline_fails_only_the_messages_past_the_limit(tenant):
    make_asset(tenant, "old")
    limit_tenant(tenant, maxAssets=2)
    integ = integration(tenant, converter(tenant, DECODER), allow_create_devices_or_assets=True)
    outcomes = pipeline.process([json_uplink(integ, {"asset": f"hall-{i}"}) for i in range(20)])
    assert [o.status for o in outcomes] == ["ok"] + ["failed"] * 19
    assert [o.error for o in outcomes[1:]] == [f"Cannot create asset 'hall-{i}': Assets limit reached"
                                               for i in range(1, 20)]
