"""Our downlink endpoints: GET /api/integration/{id}/downlinks and GET /api/device/{id}/downlinks."""

import pytest

from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import with_downlink
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

S = DownlinkStatus


@pytest.fixture
def rows(tenant):
    integration = with_downlink(tenant, kind="MQTT")
    device = make_device(tenant, "dev-1")

    def row(status, name="dev-1", **extra):
        return OutgoingDownlink.objects.create(tenant=tenant, integration=integration, device_name=name,
                                               originator_type="DEVICE", originator_id=device.pk if name == "dev-1"
                                               else None, msg_type="ATTRIBUTES_UPDATED", msg={"a": 1}, status=status,
                                               **extra)

    made = [row(S.PENDING, payload=b'{"a":1}', content_type="JSON", metadata={"topic": "t/dev-1"}, created_ts=3),
            row(S.FAILED, error="broker said no", attempts=5, created_ts=2),
            row(S.DELIVERED, name="dev-2", payload=b"\x00\xff", content_type="BINARY", created_ts=1)]
    return integration, device, made


def test_it_lists_an_integrations_downlinks_newest_first(api, rows):
    integration, device, made = rows
    res = api.get(f"/api/integration/{integration.pk}/downlinks", {"pageSize": 10, "page": 0})
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["totalElements"] == 3 and [r["status"] for r in body["data"]] == ["PENDING", "FAILED", "DELIVERED"]
    pending, failed, delivered = body["data"]
    assert pending["data"] == '{"a":1}' and pending["metadata"] == {"topic": "t/dev-1"}
    assert pending["originator"] == {"entityType": "DEVICE", "id": str(device.pk)}
    assert pending["integrationId"] == {"entityType": "INTEGRATION", "id": str(integration.pk)}
    assert failed["error"] == "broker said no" and failed["attempts"] == 5 and failed["data"] is None
    assert delivered["data"] == "AP8=" and delivered["contentType"] == "BINARY"


def test_it_filters_by_status_and_device(api, rows):
    integration, _, _ = rows
    url = f"/api/integration/{integration.pk}/downlinks"
    res = api.get(url, {"pageSize": 10, "page": 0, "status": "PENDING,FAILED", "deviceName": "dev-1"})
    assert [r["status"] for r in res.json()["data"]] == ["PENDING", "FAILED"]
    assert_error(api.get(url, {"pageSize": 10, "page": 0, "status": "LOST"}), 400, "Unknown status 'LOST'")
    assert_error(api.get(url, {"page": 0}), 400)


def test_a_device_shows_the_downlinks_sent_to_it(api, customer_api, rows):
    _, device, _ = rows
    res = api.get(f"/api/device/{device.pk}/downlinks", {"pageSize": 10, "page": 0})
    assert [r["status"] for r in res.json()["data"]] == ["PENDING", "FAILED"]
    assert customer_api.get(f"/api/device/{device.pk}/downlinks", {"pageSize": 10, "page": 0}).status_code == 404


def test_another_tenants_integration_or_device_is_a_404(mallory_api, rows):
    integration, device, _ = rows
    assert_error(mallory_api.get(f"/api/integration/{integration.pk}/downlinks", {"pageSize": 10, "page": 0}), 404)
    assert_error(mallory_api.get(f"/api/device/{device.pk}/downlinks", {"pageSize": 10, "page": 0}), 404)
    assert_error(mallory_api.get("/api/integration/nope/downlinks", {"pageSize": 10, "page": 0}), 400)


def test_anonymous_callers_are_refused(anon, rows):
    integration, _, _ = rows
    assert anon.get(f"/api/integration/{integration.pk}/downlinks", {"pageSize": 10, "page": 0}).status_code == 401
