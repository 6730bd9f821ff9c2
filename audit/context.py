"""Who is acting: the request being served (set by :class:`AuditMiddleware`) or an explicit
:func:`acting_as` block. DRF authenticates inside the view and sets ``request.user`` on the
Django request it wraps, so the API's token users are seen as well as the admin's session users.
Saves made with no one acting (workers, the listener host, migrations) are not audited."""

import contextlib
from contextvars import ContextVar

__all__ = ["AuditMiddleware", "acting_as", "actor", "scratch"]

_request = ContextVar("audit_request", default=None)
_explicit = ContextVar("audit_user", default=None)
_scratch = ContextVar("audit_scratch", default=None)


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tokens = _request.set(request), _scratch.set({})
        try:
            return self.get_response(request)
        finally:
            _request.reset(tokens[0])
            _scratch.reset(tokens[1])


@contextlib.contextmanager
def acting_as(user):
    """Audit the saves inside the block as ``user``'s (commands, scripts, tests)."""
    tokens = _explicit.set(user), _scratch.set({})
    try:
        yield
    finally:
        _explicit.reset(tokens[0])
        _scratch.reset(tokens[1])


def actor():
    """The authenticated user acting now, or None."""
    user = _explicit.get()
    if user is None:
        request = _request.get()
        user = getattr(request, "user", None) if request is not None else None
    return user if getattr(user, "is_authenticated", False) else None


def scratch() -> dict:
    """State kept between a pre- and a post-signal of the same request (snapshots before a save)."""
    state = _scratch.get()
    if state is None:
        state = {}
        _scratch.set(state)
    return state
