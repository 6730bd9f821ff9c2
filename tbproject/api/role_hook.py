"""The one place a tenant user's request meets role-based access control.

Every permission class of tbproject/api/permissions.py asks :func:`allows` once its authority check
passed. tbproject/ may not import the roles app, so roles/ registers its checker here from its
``AppConfig.ready()``; with none registered (roles/ not installed) everything the authority allows passes.

Views whose check needs a loaded object (an entity group's type) call :func:`require` (rights) and
:func:`guard` (the tenant's default groups, roles and permissions ThingsBoard protects from deletion).
"""

from types import SimpleNamespace

from rest_framework.exceptions import PermissionDenied

__all__ = ["register", "allows", "require", "permits", "guard"]

_checker = None
_require = None
_guard = None


def register(checker, require=None, guard=None) -> None:
    """``checker(request, view) -> bool`` decides for every request the permission classes see;
    ``require(request, resource, operation) -> bool`` for one right; ``guard(request, action, obj, **info)``
    raises when ``action`` would break a protected default."""
    global _checker, _require, _guard
    _checker, _require, _guard = checker, require, guard


def allows(request, view) -> bool:
    return _checker is None or _checker(request, view)


def require(request, resource: str, operation: str) -> None:
    """Raise 403 unless the caller's roles grant ``operation`` on ``resource`` (tenant administrators only)."""
    if _require is not None and not _require(request, resource, operation):
        raise PermissionDenied("You don't have permission to perform this operation!")


def permits(user, resource: str, operation: str) -> bool:
    """:func:`require` outside a DRF request (a websocket's user)."""
    return _require is None or _require(SimpleNamespace(user=user), resource, operation)


def guard(request, action: str, obj, **info) -> None:
    if _guard is not None:
        _guard(request, action, obj, **info)
