"""Attributes and time series are keyed by entity id without a foreign key: deleting a user, an
integration, a converter or a dashboard removes theirs, as for devices, assets and customers."""

import pytest

from dashboards.models import Dashboard
from devices.attributes import get_attributes, save_attributes
from devices.telemetry import latest, write_points
from integrations.tests.factories import make_integration
from tbproject.testing.factories import make_device
from tenants.choices import Authority
from tenants.models import User


def _give_data(entity_id):
    save_attributes(entity_id, "SERVER_SCOPE", {"note": "x"})
    write_points([(entity_id, "load", 1_700_000_000_000, 1.5)])
    assert get_attributes(entity_id) and latest(entity_id)


@pytest.mark.django_db
def test_a_deleted_user_integration_converter_and_dashboard_take_their_data_with_them(tenant):
    device = make_device(tenant, "kept")
    user = User.objects.create_user("gone@example.com", "pw-123456", authority=Authority.TENANT_ADMIN, tenant=tenant)
    integration = make_integration(tenant, "cleanup")
    converter = integration.default_converter
    dashboard = Dashboard.objects.create(tenant=tenant, title="Board")
    entities = [user, integration, converter, dashboard]
    ids = [entity.pk for entity in entities]  # a deleted instance's pk is None
    for entity_id in [*ids, device.pk]:
        _give_data(entity_id)
    integration.delete()
    converter.delete()
    user.delete()
    dashboard.delete()
    for entity_id in ids:
        assert get_attributes(entity_id) == [] and latest(entity_id) == {}
    assert get_attributes(device.pk) and latest(device.pk)  # the others' are kept
