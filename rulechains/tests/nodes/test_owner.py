"""ThingsBoard PE's change owner node: the originator's owner becomes the tenant or a customer."""

import pytest

from devices.models import Device
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import install_root, msg, node, run_node
from tbproject.testing.factories import make_customer, make_device
from tenants.models import Customer

pytestmark = pytest.mark.django_db

OWNER = "org.thingsboard.rule.engine.action.TbChangeOwnerNode"


def test_to_a_customer_named_by_a_pattern_then_back_to_the_tenant(tenant):
    device = make_device(tenant, "d")
    install_root(tenant, [node(OWNER, "owner", ownerType="CUSTOMER", ownerNamePattern="${owner}",
                               createOwnerIfNotExists=True, createOwnerOnOriginatorLevel=False)], [])
    engine.process([msg(tenant, device, metadata={"owner": "ACME"})])
    device.refresh_from_db()
    assert device.customer.title == "ACME" and device.customer.tenant_id == tenant.pk
    [[out]] = run_node(tenant, OWNER, [msg(tenant, device)], ownerType="TENANT")
    assert out.relation == "Success" and Device.objects.get(pk=device.pk).customer_id is None


def test_a_missing_customer_fails_and_another_tenants_customer_is_never_used(tenant, other_tenant):
    device = make_device(tenant, "d")
    make_customer(other_tenant, "Theirs")
    [[out]] = run_node(tenant, OWNER, [msg(tenant, device)], ownerType="CUSTOMER", ownerNamePattern="Theirs")
    assert out.relation == "Failure" and "Theirs" in out.error
    assert Device.objects.get(pk=device.pk).customer_id is None
    theirs = make_device(other_tenant, "x")
    [[out]] = run_node(tenant, OWNER, [msg(tenant, theirs)], ownerType="TENANT")
    assert out.relation == "Failure"
    assert not Customer.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize("configuration", [{"ownerType": "USER"}, {"ownerType": "CUSTOMER", "ownerNamePattern": ""},
                                           {"ownerType": "CUSTOMER", "ownerNamePattern": 5}])
def test_bad_configurations_are_refused(configuration):
    with pytest.raises(ConfigError):
        nodes.get_node(OWNER).clean_config(configuration)
