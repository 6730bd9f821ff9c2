"""ThingsBoard's secret placeholders (``${secret:<name>;type:<TYPE>}``) as text, without Django: what
vault/ resolves and what the integration types (also in the remote runner's wheel) recognise, in one place."""

import re

__all__ = ["PLACEHOLDER", "is_reference", "names_secret"]

#: one placeholder; the name is exact and holds no ``{``, ``}`` or ``;``
PLACEHOLDER = re.compile(r"\$\{secret:([^;{}]*);type:([^;{}]*)\}")


def is_reference(value) -> bool:
    """True for a string that is one placeholder and nothing else: it names a secret and holds no value."""
    return isinstance(value, str) and PLACEHOLDER.fullmatch(value) is not None


def names_secret(value) -> bool:
    """True for a string holding a placeholder anywhere."""
    return isinstance(value, str) and "${secret:" in value and PLACEHOLDER.search(value) is not None
