"""Resolving ids that arrive in requests to the caller's own rows: another tenant's id is a 404."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError

from devices.models import DEFAULT_PROFILE, EntityGroup
from tbproject.api.ids import parse_uuid
from tenants.models import Customer

__all__ = ["resolve_profile", "resolve_customer", "visible_customer", "resolve_groups"]


def resolve_profile(model, tenant, profile_id, type_name):
    """Profile by id (404 if not the tenant's), else by name (created if missing), else the default one."""
    if profile_id:
        return get_object_or_404(model.objects.filter(tenant=tenant), pk=profile_id)
    name = (type_name or "").strip()
    if not name:
        default = model.objects.filter(tenant=tenant, is_default=True).first()
        if default is not None:
            return default
        name = DEFAULT_PROFILE
    profile, _ = model.objects.get_or_create(tenant=tenant, name=name)
    return profile


def resolve_customer(tenant, customer_id):
    if customer_id is None:
        return None
    return get_object_or_404(Customer.objects.filter(tenant=tenant), pk=customer_id)


def visible_customer(user, raw_id) -> Customer:
    """The customer named in a path, if the user may see it (customer users: only their own)."""
    return get_object_or_404(Customer.objects.for_user(user), pk=parse_uuid(raw_id))


def resolve_groups(tenant, group_type: str, ids) -> list[EntityGroup]:
    """The tenant's groups with these ids, all of ``group_type``; 404 for an unknown id, 400 for a wrong type."""
    ids = list(dict.fromkeys(parse_uuid(i) for i in ids))
    groups = {g.pk: g for g in EntityGroup.objects.filter(tenant=tenant, pk__in=ids)}
    for group_id in ids:
        group = groups.get(group_id)
        if group is None:
            raise Http404(f"Entity group with id [{group_id}] is not found")
        if group.type != group_type:
            raise ValidationError(f"Entity group [{group.name}] holds {group.type} entities, not {group_type}")
    return [groups[i] for i in ids]
