"""Entities are read and saved through the same REST endpoints a client calls, as the user who
asked for the version: every rule of those endpoints (validation, tenancy, roles, credentials,
audit, signals) applies to what a version loads, and what is committed is the JSON they answer."""

import json

from django.urls import Resolver404, resolve
from rest_framework.test import APIRequestFactory, force_authenticate

__all__ = ["CallError", "call"]

_factory = APIRequestFactory()


class CallError(Exception):
    """An endpoint refused: ``status`` and ThingsBoard's error message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def call(user, method: str, path: str, body=None):
    """The endpoint's JSON answer to ``method path`` (with ``body``) by ``user``; CallError if not 2xx."""
    make = getattr(_factory, method.lower())
    if body is None:
        request = make(path)
    else:
        request = make(path, data=json.dumps(body), content_type="application/json")
    force_authenticate(request, user=user)
    try:
        match = resolve(path.split("?", 1)[0])
    except Resolver404:
        raise CallError(404, f"No endpoint {path}") from None
    request.resolver_match = match
    response = match.func(request, *match.args, **match.kwargs)
    data = getattr(response, "data", None)
    if response.status_code >= 300:
        message = data.get("message") if isinstance(data, dict) else None
        raise CallError(response.status_code, str(message or data or response.status_code))
    return data
