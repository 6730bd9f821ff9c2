"""A table of pluggable types: kind -> dotted path, imported lazily and cached.

Integration types and rule-node types are each listed in one such table (STYLE.md rule 1).
"""

from functools import cached_property
from importlib import import_module

__all__ = ["TypeRegistry", "load_dotted"]


def load_dotted(path: str):
    """The object at ``package.module.Name`` (as Django's import_string, without Django: the remote
    runner's distribution shares the modules that load classes by name); ImportError if there is none."""
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ImportError(f"{path} doesn't look like a module path")
    module = import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f'Module "{module_name}" does not define a "{attr}" attribute/class') from None


class TypeRegistry:
    def __init__(self, table: dict[str, str]):
        self._table = dict(table)
        self._loaded: dict[str, type] = {}

    def __contains__(self, kind: str) -> bool:
        return kind in self._table

    def kinds(self) -> list[str]:
        return list(self._table)

    def load(self, kind: str) -> type:
        if kind not in self._table:
            raise KeyError(f"unknown type {kind!r}")
        if kind not in self._loaded:
            self._loaded[kind] = load_dotted(self._table[kind])
        return self._loaded[kind]

    def register(self, kind: str, path: str) -> None:
        """Add a type from a higher layer (its AppConfig.ready), which this table may not name."""
        self._table[kind] = path
        self._loaded.pop(kind, None)
        self.__dict__.pop("choices", None)

    def all(self) -> dict[str, type]:
        return {kind: self.load(kind) for kind in self._table}

    @cached_property
    def choices(self) -> list[tuple[str, str]]:
        return [(kind, getattr(self.load(kind), "label", kind)) for kind in self._table]
