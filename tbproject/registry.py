"""A table of pluggable types: kind -> dotted path, imported lazily and cached.

Integration types and rule-node types are each listed in one such table (STYLE.md rule 1).
"""

from functools import cached_property
from importlib import import_module

__all__ = ["TypeRegistry"]


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
            module_name, _, attr = self._table[kind].rpartition(".")
            self._loaded[kind] = getattr(import_module(module_name), attr)
        return self._loaded[kind]

    def all(self) -> dict[str, type]:
        return {kind: self.load(kind) for kind in self._table}

    @cached_property
    def choices(self) -> list[tuple[str, str]]:
        return [(kind, getattr(self.load(kind), "label", kind)) for kind in self._table]
