"""A user's last visited and starred dashboards (ThingsBoard's UserDashboardsInfo).

ThingsBoard keeps them in the user's settings of the server's own type VISITED_DASHBOARDS (a type
``/api/user/settings/...`` does not let a client write) as ``{"last": [...], "starred": [...]}``,
each list newest first and at most 10 long:

- VISIT puts the dashboard at the head of ``last`` (``lastVisited`` now, ``starred`` as it is);
- STAR puts it at the head of ``starred`` (``starredAt`` now) and flags it in ``last``; UNSTAR takes
  it out of ``starred`` and unflags it.

Titles are not kept: each answer names the dashboards the user may still see and leaves out the
others (deleted, or no longer assigned to a customer user's customer).
"""

import uuid

from django.db import transaction

from dashboards.models import Dashboard
from tbproject.clock import now_ms
from tenants.models import UserSettings

__all__ = ["ACTIONS", "KIND", "MAX_ITEMS", "parse_action", "dashboards_info", "report"]

KIND = "VISITED_DASHBOARDS"
ACTIONS = ("VISIT", "STAR", "UNSTAR")
MAX_ITEMS = 10


class UnknownAction(ValueError):
    pass


def parse_action(raw: str) -> str:
    action = str(raw).upper()
    if action not in ACTIONS:
        raise UnknownAction(f"Unsupported dashboard action '{str(raw)[:32]}'; use one of: visit, star, unstar")
    return action


def _entries(value, stamp: str) -> list[dict]:
    """The well-formed entries of a stored list (an id and an integer time); anything else is dropped."""
    found = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get(stamp), int):
            continue
        try:
            found.append({**item, "id": str(uuid.UUID(str(item.get("id"))))})
        except ValueError:
            continue
    return found


def _stored(document) -> dict:
    document = document if isinstance(document, dict) else {}
    return {"last": _entries(document.get("last"), "lastVisited"),
            "starred": _entries(document.get("starred"), "starredAt")}


def _answer(user, stored: dict) -> dict:
    ids = {e["id"] for e in stored["last"]} | {e["id"] for e in stored["starred"]}
    titles = {str(pk): title for pk, title in
              Dashboard.objects.for_user(user).filter(pk__in=ids).values_list("pk", "title")}
    return {
        "last": [{"id": e["id"], "title": titles[e["id"]], "starred": bool(e.get("starred")),
                  "lastVisited": e["lastVisited"]} for e in stored["last"] if e["id"] in titles],
        "starred": [{"id": e["id"], "title": titles[e["id"]], "starredAt": e["starredAt"]}
                    for e in stored["starred"] if e["id"] in titles],
    }


def dashboards_info(user) -> dict:
    row = UserSettings.objects.filter(user=user, type=KIND).first()
    return _answer(user, _stored(row.settings if row is not None else None))


def report(user, dashboard: Dashboard, action: str) -> dict:
    """Record ``action`` (one of ACTIONS) of ``user`` on ``dashboard`` (which the user may read)."""
    key, now = str(dashboard.pk), now_ms()
    with transaction.atomic():
        row, _ = UserSettings.objects.select_for_update().get_or_create(user=user, type=KIND)
        stored = _stored(row.settings)
        last, starred = stored["last"], stored["starred"]
        if action == "VISIT":
            last = [{"id": key, "lastVisited": now}, *(e for e in last if e["id"] != key)]
        else:
            starred = [e for e in starred if e["id"] != key]
            if action == "STAR":
                starred.insert(0, {"id": key, "starredAt": now})
        starred = sorted(starred, key=lambda e: -e["starredAt"])[:MAX_ITEMS]
        flagged = {e["id"] for e in starred}
        last = sorted(last, key=lambda e: -e["lastVisited"])[:MAX_ITEMS]
        stored = {"last": [{**e, "starred": e["id"] in flagged} for e in last], "starred": starred}
        row.settings = stored
        row.save(update_fields=["settings"])
    return _answer(user, stored)
