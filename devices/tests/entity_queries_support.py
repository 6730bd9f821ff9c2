"""Helpers of the entity data query tests (test_entity_queries*.py): query builders, the answer
checks and the ``fleet`` fixture (devices, an asset, a group, attributes and telemetry of one tenant)."""

import pytest

from devices.attributes import save_attributes
from devices.models import DeviceProfile
from devices.telemetry import Point, write_points
from tbproject.testing.factories import make_device

FIND, COUNT, KEYS = "/api/entitiesQuery/find", "/api/entitiesQuery/count", "/api/entitiesQuery/find/keys"
T0 = 1_700_000_000_000


def by_type(kind="DEVICE"):
    return {"type": "entityType", "entityType": kind}


def field(key):
    return {"type": "ENTITY_FIELD", "key": key}


def query(entity_filter, *, size=10, page=0, fields=("name",), latest=(), filters=(), sort=None, text=None, **extra):
    link = {"pageSize": size, "page": page}
    if sort:
        link["sortOrder"] = {"key": sort[0], "direction": sort[1]}
    if text is not None:
        link["textSearch"] = text
    return {"entityFilter": entity_filter, "pageLink": link, "entityFields": [field(f) for f in fields],
            "latestValues": list(latest), "keyFilters": list(filters), **extra}


def string_filter(key, op, value, ignore_case=False, key_type="ENTITY_FIELD"):
    return {"key": {"type": key_type, "key": key}, "valueType": "STRING",
            "predicate": {"type": "STRING", "operation": op, "ignoreCase": ignore_case,
                          "value": {"defaultValue": value, "dynamicValue": None}}}


def numeric(op, value, user_value=None):
    return {"type": "NUMERIC", "operation": op, "value": {"defaultValue": value, "userValue": user_value}}


def numeric_filter(key, op, value, key_type="TIME_SERIES"):
    return {"key": {"type": key_type, "key": key}, "valueType": "NUMERIC", "predicate": numeric(op, value)}


def find(client, body, status=200):
    res = client.post(FIND, body, format="json")
    assert res.status_code == status, res.content[:500]
    return res.json()


def names(page) -> list:
    return [row["latest"]["ENTITY_FIELD"]["name"]["value"] for row in page["data"]]


@pytest.fixture
def fleet(tenant, customer):
    """Three meters (two with telemetry) and a gateway; m2 belongs to the customer."""
    meter = DeviceProfile.objects.create(tenant=tenant, name="meter")
    gateway = DeviceProfile.objects.create(tenant=tenant, name="gateway")
    m1 = make_device(tenant, "m1", profile=meter, label="Kitchen")
    m2 = make_device(tenant, "m2", profile=meter, customer=customer)
    m3 = make_device(tenant, "M3", profile=meter)
    gw = make_device(tenant, "gw", profile=gateway)
    write_points([Point(m1.pk, "temp", T0, 21.5), Point(m2.pk, "temp", T0 + 1, 30),
                  Point(m1.pk, "mode", T0, "eco"), Point(m2.pk, "on", T0, True)])
    save_attributes(m1.pk, "SERVER_SCOPE", {"floor": 1, "model": "T1000"}, ts=T0)
    save_attributes(m2.pk, "SHARED_SCOPE", {"floor": 2}, ts=T0)
    save_attributes(m3.pk, "CLIENT_SCOPE", {"model": "X"}, ts=T0)
    return {"m1": m1, "m2": m2, "M3": m3, "gw": gw}


def ref(entity, kind):
    entity.entity_type = kind
    return entity
