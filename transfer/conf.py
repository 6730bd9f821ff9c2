"""Solution import/export limits (transfer/solution/): Django settings when set there, else the environment.

- SOLUTION_MAX_ENTITIES: the most entities one solution exports or imports (1000).
- SOLUTION_MAX_RELATIONS: the most relations all the entities of one imported solution carry (10,000).
- SOLUTION_MAX_ATTRIBUTES: the most attribute rows all the entities of one imported solution carry (10,000).

An import runs in one transaction that holds the tenant's lock (entity limits): these bound how long.
"""

from django.conf import settings

from tbproject.env import env_int

__all__ = ["max_entities", "max_relations", "max_attributes"]


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default() if value is None else value


def max_entities() -> int:
    return int(_get("SOLUTION_MAX_ENTITIES", lambda: env_int("SOLUTION_MAX_ENTITIES", 1000, minimum=1)))


def max_relations() -> int:
    return int(_get("SOLUTION_MAX_RELATIONS", lambda: env_int("SOLUTION_MAX_RELATIONS", 10_000, minimum=0)))


def max_attributes() -> int:
    return int(_get("SOLUTION_MAX_ATTRIBUTES", lambda: env_int("SOLUTION_MAX_ATTRIBUTES", 10_000, minimum=0)))
