"""Assertions shared by the API tests: ThingsBoard's error shape, "nothing changed", tenant isolation."""

from django.forms.models import model_to_dict

__all__ = ["assert_error", "snapshot", "assert_unchanged", "assert_isolated", "page_names"]


def assert_error(res, status: int, message: str | None = None) -> dict:
    """``res`` is a ThingsBoard error with this status (and a message containing ``message``)."""
    assert res.status_code == status, (res.status_code, res.content[:500])
    body = res.json()
    assert body["status"] == status
    assert isinstance(body["errorCode"], int) and isinstance(body["timestamp"], int)
    if message is not None:
        assert message in body["message"], body["message"]
    return body


def snapshot(obj) -> dict:
    """The row as stored now (re-read from the database), for before/after comparisons."""
    fresh = type(obj).objects.get(pk=obj.pk)
    data = model_to_dict(fresh)
    data["version"] = getattr(fresh, "version", None)
    data["created_time"] = getattr(fresh, "created_time", None)
    return data


def assert_unchanged(obj, before: dict) -> None:
    assert snapshot(obj) == before


def assert_isolated(client, obj, *, single: str, update: dict) -> None:
    """Another tenant's ``obj`` is a 404 on GET, on DELETE and as the id of a POST update; nothing changes.

    ``single`` is the path segment ("device"), ``update`` a valid body for ``POST /api/<single>``.
    """
    before = snapshot(obj)
    assert_error(client.get(f"/api/{single}/{obj.pk}"), 404)
    assert_error(client.delete(f"/api/{single}/{obj.pk}"), 404)
    body = {**update, "id": {"entityType": "X", "id": str(obj.pk)}}
    assert_error(client.post(f"/api/{single}", body, format="json"), 404)
    assert_unchanged(obj, before)


def page_names(res, key: str = "name") -> list:
    assert res.status_code == 200, res.content[:500]
    return [row[key] for row in res.json()["data"]]
