"""devices.attributes.save_attributes_many: one statement per chunk (an array per column on
PostgreSQL, VALUES rows on SQLite), every value type, the last row per key winning, and a newer
stored value kept unless the caller overwrites (API saves)."""

import uuid

import pytest

from devices.attributes import attribute_values, save_attributes_many


@pytest.fixture
def ids(db):
    return uuid.uuid4(), uuid.uuid4()


def test_every_type_is_stored_and_read_back(ids):
    a, b = ids
    values = {"on": True, "count": 2**40, "temp": 21.5, "name": "tab\t'quote'\\", "cfg": {"x": [1, "ü"]},
              "list": [1, 2.5, None]}
    rows = [(a, "SHARED_SCOPE", k, v, 1000) for k, v in values.items()] + [(str(b), "SERVER_SCOPE", "on", False, 5)]
    assert save_attributes_many(rows) == len(values) + 1
    stored = attribute_values([a], "SHARED_SCOPE", values)
    assert {k: v for (_, k), (_, v) in stored.items()} == values
    assert attribute_values([b], "SERVER_SCOPE", ["on"]) == {(b, "on"): (5, False)}


def test_the_last_row_of_a_key_wins_and_newer_stored_values_stay_unless_overwritten(ids):
    a, _ = ids
    save_attributes_many([(a, "SHARED_SCOPE", "fw", "1.0", 2000), (a, "SHARED_SCOPE", "fw", "1.1", 2000)])
    assert attribute_values([a], "SHARED_SCOPE", ["fw"]) == {(a, "fw"): (2000, "1.1")}
    save_attributes_many([(a, "SHARED_SCOPE", "fw", "0.9", 1000)])  # an old message replayed
    assert attribute_values([a], "SHARED_SCOPE", ["fw"]) == {(a, "fw"): (2000, "1.1")}
    save_attributes_many([(a, "SHARED_SCOPE", "fw", 3, 1000)], keep_newer=False)  # an API save: the type changes too
    assert attribute_values([a], "SHARED_SCOPE", ["fw"]) == {(a, "fw"): (1000, 3)}


def test_an_unknown_scope_writes_nothing(ids):
    a, _ = ids
    with pytest.raises(ValueError, match="scope"):
        save_attributes_many([(a, "SHARED_SCOPE", "k", 1, 1), (a, "NO_SCOPE", "k", 1, 1)])
    assert attribute_values([a], "SHARED_SCOPE", ["k"]) == {}
