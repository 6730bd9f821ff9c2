"""Who is acting, for the ``user*`` parameters of ENTITY_ACTION notifications.

The audit log keeps its own record of the request being served (audit/context.py), but audit/ sits
above this app, so this middleware keeps the request here too. DRF authenticates inside the view and
sets ``request.user`` on the Django request it wraps, so the API's token users are seen when a save
happens. Saves made with no request (workers, the listener host, commands) have no acting user.
"""

from contextvars import ContextVar

__all__ = ["ActorMiddleware", "actor"]

_request = ContextVar("notifications_request", default=None)


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def actor():
    """The authenticated user of the request being served, or None."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if getattr(user, "is_authenticated", False) else None
