"""The integration downlink node: Failure with the reason, or Success when handed to the integration."""

import pytest

from integrations.tests.factories import make_downlink_converter, make_integration
from rulechains import nodes
from rulechains.tests.helpers import msg, run_node
from tbproject.testing.factories import make_device


@pytest.fixture
def device(tenant):
    return make_device(tenant, "valve-1")


def downlink_ready(tenant, name="HTTP out", **extra):
    return make_integration(tenant, name, downlink_converter=make_downlink_converter(tenant, f"{name} enc"), **extra)


def routed(tenant, integration_id, device):
    [[out]] = run_node(tenant, nodes.INTEGRATION_DOWNLINK, [msg(tenant, device, "ATTRIBUTES_UPDATED", {"p": 1})],
                       integrationId=str(integration_id))
    return out


def test_it_fails_for_a_missing_or_foreign_integration(tenant, other_tenant, device):
    missing = routed(tenant, "637d8ad0-68a3-11e8-8b0a-15970e6a694b", device)
    assert missing.relation == "Failure" and "637d8ad0-68a3-11e8-8b0a-15970e6a694b] is not found" in missing.error
    foreign = downlink_ready(other_tenant, "Theirs")
    assert "is not found" in routed(tenant, foreign.pk, device).error


def test_it_fails_for_a_disabled_integration_or_one_without_a_downlink_converter(tenant, device):
    disabled = downlink_ready(tenant, "Off", enabled=False)
    assert routed(tenant, disabled.pk, device).error == "Integration 'Off' is disabled"
    bare = make_integration(tenant, "Uplink only")
    assert routed(tenant, bare.pk, device).error == "Integration 'Uplink only' has no downlink converter"


def test_it_hands_the_message_to_the_integration(tenant, device):
    downlink = pytest.importorskip("integrations.downlinks")  # the downlink path (issue 6, section 4)
    from integrations.models import OutgoingDownlink

    integration = downlink_ready(tenant)
    out = routed(tenant, integration.pk, device)
    assert out.relation == "Success" and out.error is None
    queued = OutgoingDownlink.objects.get(integration=integration)
    assert queued.msg == {"p": 1} and queued.msg_type == "ATTRIBUTES_UPDATED"
    assert hasattr(downlink, "submit")


def test_a_refusal_from_the_downlink_path_is_a_failure(tenant, device, monkeypatch):
    downlink = pytest.importorskip("integrations.downlinks")
    integration = downlink_ready(tenant)

    def refuse(*args):
        raise downlink.DownlinkRefused("queue full")

    monkeypatch.setattr(downlink, "submit_many", refuse)
    out = routed(tenant, integration.pk, device)
    assert (out.relation, out.error) == ("Failure", "queue full")
