"""Where a package may hold secrets: the integration type's ``secret_fields``, the remote
integration's ``secret``, and each rule node type's ``secret_fields``. Paths are the package's:
``integration.configuration.<type path>``, ``integration.secret``,
``ruleChains.<i>.metadata.nodes.<j>.configuration.<node path>`` (a bracketed part is one key, as
integrations.types.secret_paths.split_path reads it). A type's wildcard path (``headersFilter.*``)
is one path per key of that map in the package: ``integration.configuration.headersFilter.X-Token``,
so that each header's value is its own required secret, placeholder and form field."""

from integrations.types import TYPES
from integrations.types.secret_paths import expand, split_path
from rulechains.nodes import NODES

__all__ = ["secret_paths", "get_path", "put_path"]


def secret_paths(package: dict) -> list[str]:
    """Every path of ``package`` that may hold a secret, whether or not it has one."""
    integration = package.get("integration") or {}
    kind = integration.get("type")
    type_paths = TYPES.load(kind).secret_fields if kind in TYPES else ()
    paths = [p for tp in type_paths for p in expand(package, f"integration.configuration.{tp}")]
    paths.append("integration.secret")
    for i, chain in enumerate(package.get("ruleChains") or []):
        nodes = ((chain or {}).get("metadata") or {}).get("nodes") or [] if isinstance(chain, dict) else []
        for j, node in enumerate(nodes):
            kind = node.get("type") if isinstance(node, dict) else None
            for p in NODES.load(kind).secret_fields if kind in NODES else ():
                paths.append(f"ruleChains.{i}.metadata.nodes.{j}.configuration.{p}")
    return paths


def _step(data, part):
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and part.isdigit() and int(part) < len(data):
        return data[int(part)]
    return None


def get_path(data, path: str):
    for part in split_path(path):
        data = _step(data, part)
        if data is None:
            return None
    return data


def put_path(data, path: str, value) -> bool:
    """Set ``value`` at ``path`` when every parent exists (True), else leave ``data`` alone."""
    *parents, last = split_path(path)
    for part in parents:
        data = _step(data, part)
        if not isinstance(data, dict | list):
            return False
    if isinstance(data, dict):
        data[last] = value
        return True
    return False
