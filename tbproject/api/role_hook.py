"""The one place a tenant user's request meets role-based access control.

Every permission class of tbproject/api/permissions.py asks :func:`allows` once its authority check
passed. tbproject/ may not import the roles app, so roles/ registers its checker here from its
``AppConfig.ready()``; with none registered (roles/ not installed) everything the authority allows passes.
"""

__all__ = ["register", "allows"]

_checker = None


def register(checker) -> None:
    """``checker(request, view) -> bool`` decides for every request the permission classes see."""
    global _checker
    _checker = checker


def allows(request, view) -> bool:
    return _checker is None or _checker(request, view)
