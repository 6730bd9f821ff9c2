"""Where things live in a repository, as ThingsBoard lays it out: one JSON file per entity at
``<entity type, lower case>/<external id>.json`` (``device/<uuid>.json``, ``rule_chain/<uuid>.json``)
on a branch; a version is a commit, its id the commit hash and its name the commit message.

Tenants: ThingsBoard keeps them apart by settings (each tenant configures its own repository); it
does not separate them inside one. Here, in addition, each commit made by this server ends with a
``Tenant-Id: <uuid>`` trailer and each file holds the entity's ``tenantId``: when two tenants of
this server point at the same repository, neither lists, reads nor loads what the other committed.
Commits and files written elsewhere (a ThingsBoard server, a person) carry no tenant of this server
and stay visible, so that a solution exported by ThingsBoard can be loaded.
"""

import re
import uuid

from dulwich.objects import Commit

__all__ = ["TYPES", "LOAD_ORDER", "path_of", "parse_path", "message", "version_json", "foreign"]

#: entity type -> (REST path segment, name field); the order is the load order (dependencies first)
TYPES = {
    "CUSTOMER": ("customer", "title"),
    "ASSET_PROFILE": ("assetProfile", "name"),
    "DEVICE_PROFILE": ("deviceProfile", "name"),
    "CONVERTER": ("converter", "name"),
    "RULE_CHAIN": ("ruleChain", "name"),
    "DASHBOARD": ("dashboard", "title"),
    "ASSET": ("asset", "name"),
    "DEVICE": ("device", "name"),
}
LOAD_ORDER = tuple(TYPES)
TRAILER = "Tenant-Id: "
_TRAILER_RE = re.compile(r"\n\nTenant-Id: ([0-9a-f-]{36})\n?$")


def path_of(entity_type: str, external_id) -> str:
    return f"{entity_type.lower()}/{external_id}.json"


def parse_path(path: str) -> tuple[str, str] | None:
    """(entity type, external id) of an entity file, None for any other file."""
    folder, _, name = path.partition("/")
    entity_type = folder.upper()
    if entity_type not in TYPES or "/" in name or not name.endswith(".json"):
        return None
    try:
        return entity_type, str(uuid.UUID(name[:-5]))
    except ValueError:
        return None


def message(version_name: str, tenant_id) -> str:
    return f"{version_name}\n\n{TRAILER}{tenant_id}\n"


def tenant_of(commit: Commit) -> str | None:
    found = _TRAILER_RE.search(commit.message.decode("utf-8", "replace"))
    return found.group(1) if found else None


def version_json(commit: Commit) -> dict:
    """ThingsBoard's EntityVersion."""
    text = _TRAILER_RE.sub("", commit.message.decode("utf-8", "replace")).rstrip("\n")
    return {"timestamp": commit.commit_time * 1000, "id": commit.id.decode(), "name": text,
            "author": commit.author.decode("utf-8", "replace")}


def foreign(owner: str | None, tenant_id, server_tenants: set[str]) -> bool:
    """Whether something written by ``owner`` (a tenant id or None) is another tenant's of this server."""
    return owner is not None and owner != str(tenant_id) and owner in server_tenants
