"""Rows a customer user sees beyond its customer's own: what a higher app shares with it.

``TenantScopedQuerySet.for_user`` narrows a customer user's rows to its customer's; roles/ (ThingsBoard
PE's group permissions: a GROUP role on an entity group) registers a provider here from its
``AppConfig.ready()`` that names the other rows of a model the user may reach. tenants/ may not import
roles/; with no provider registered nothing is shared.
"""

__all__ = ["register", "shared_pks"]

_provider = None


def register(provider) -> None:
    """``provider(user, model)`` -> an iterable or queryset of primary keys, or None when nothing is shared."""
    global _provider
    _provider = provider


def shared_pks(user, model):
    return None if _provider is None else _provider(user, model)
