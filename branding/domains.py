"""The host name of an OAuth domain (LoginWhiteLabelingParams.domainId, ThingsBoard 4.x) without importing
oauth, which sits above branding: oauth registers a resolver in its AppConfig.ready().

    register_domain_resolver(fn)   fn(uuid) -> the domain's host name, or None when there is no such domain
    domain_name(uuid)              that name; None when unknown or when no resolver is registered
"""

import uuid
from collections.abc import Callable

__all__ = ["register_domain_resolver", "domain_name", "has_resolver"]

_resolver: Callable[[uuid.UUID], str | None] | None = None


def register_domain_resolver(resolver: Callable[[uuid.UUID], str | None] | None) -> None:
    global _resolver
    _resolver = resolver


def has_resolver() -> bool:
    return _resolver is not None


def domain_name(domain_id: uuid.UUID) -> str | None:
    return _resolver(domain_id) if _resolver is not None else None
