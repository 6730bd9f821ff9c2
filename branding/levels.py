"""Whose settings a request reads or writes, and whether it may: the level of the caller (system, tenant,
customer), ThingsBoard's ``?customerId=`` (a tenant administrator edits one of its customers'), and the
switches that allow white labeling.

    owner = owner_of(request)                # Owner(tenant_id, customer_id); 404 for a foreign customer
    check_write(request, owner, "WHITE_LABELING")   # 403 unless the caller may change that level
    parents(owner)                            # [system, tenant, ...] above it, top first

Allowed (tenant ``additionalInfo``): ``allowWhiteLabeling`` for the tenant itself, ``allowCustomerWhiteLabeling``
for its customers, and the customer's own ``allowWhiteLabeling``; a missing switch allows, as a tenant made
before the switches existed keeps its white labeling (a guess at ThingsBoard's default).
"""

import dataclasses
import uuid

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied

from roles.rights import rights_of
from tbproject.api.ids import parse_uuid
from tenants.choices import Authority
from tenants.models import Customer, Tenant

__all__ = ["Owner", "SYSTEM", "owner_of", "user_owner", "parents", "check_write", "check_read",
           "white_labeling_allowed", "customer_white_labeling_allowed", "NOT_ALLOWED"]

NO_PERMISSION = "You don't have permission to perform this operation!"
NOT_ALLOWED = "White labeling is not allowed for this owner"


@dataclasses.dataclass(frozen=True)
class Owner:
    tenant_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None

    @property
    def level(self) -> str:
        if self.customer_id:
            return "CUSTOMER"
        return "TENANT" if self.tenant_id else "SYSTEM"

    def filter(self) -> dict:
        """Queryset lookups of this owner's rows."""
        return {"tenant_id": self.tenant_id, "customer_id": self.customer_id}


SYSTEM = Owner()


def user_owner(user) -> Owner:
    """The level a user's own settings live at."""
    if user.authority == Authority.SYS_ADMIN:
        return SYSTEM
    return Owner(user.tenant_id, user.customer_id if user.authority == Authority.CUSTOMER_USER else None)


def owner_of(request, *, customer_param: bool = True) -> Owner:
    """The caller's level, or with ``?customerId=`` one of the tenant administrator's customers (another
    tenant's or an unknown one: 404; a customer user naming another customer: 403)."""
    user = request.user
    owner = user_owner(user)
    raw = request.query_params.get("customerId") if customer_param else None
    if not raw:
        return owner
    customer_id = parse_uuid(raw)
    if user.authority == Authority.CUSTOMER_USER:
        if customer_id != user.customer_id:
            raise PermissionDenied(NO_PERMISSION)
        return owner
    if user.authority != Authority.TENANT_ADMIN:
        raise PermissionDenied(NO_PERMISSION)
    customer = get_object_or_404(Customer.objects.filter(tenant_id=user.tenant_id), pk=customer_id)
    return Owner(user.tenant_id, customer.pk)


def parents(owner: Owner) -> list[Owner]:
    """The levels above ``owner``, top first."""
    if owner.customer_id:
        return [SYSTEM, Owner(owner.tenant_id)]
    return [SYSTEM] if owner.tenant_id else []


def _flag(info, name: str) -> bool:
    value = info.get(name) if isinstance(info, dict) else None
    return value is not False and value not in ("false", 0)


def white_labeling_allowed(owner: Owner) -> bool:
    """May this level have white labeling of its own (the system always may)."""
    if owner.tenant_id is None:
        return True
    tenant = Tenant.objects.filter(pk=owner.tenant_id).only("additional_info").first()
    if tenant is None or not _flag(tenant.additional_info, "allowWhiteLabeling"):
        return False
    if owner.customer_id is None:
        return True
    if not _flag(tenant.additional_info, "allowCustomerWhiteLabeling"):
        return False
    customer = Customer.objects.filter(pk=owner.customer_id).only("additional_info").first()
    return customer is not None and _flag(customer.additional_info, "allowWhiteLabeling")


def customer_white_labeling_allowed(tenant_id) -> bool:
    tenant = Tenant.objects.filter(pk=tenant_id).only("additional_info").first()
    return bool(tenant and _flag(tenant.additional_info, "allowWhiteLabeling")
                and _flag(tenant.additional_info, "allowCustomerWhiteLabeling"))


def _has_right(user, resource: str, operation: str) -> bool:
    if user.authority == Authority.SYS_ADMIN:
        return True
    # tenant administrators met the route's role check already; a customer user's rights are its tenant's
    # "Customer User" role (roles/rights.py): read-only unless the tenant granted more
    return rights_of(user).allows(resource, operation)


def check_read(request, resource: str = "WHITE_LABELING") -> None:
    if not _has_right(request.user, resource, "READ"):
        raise PermissionDenied(NO_PERMISSION)


def check_write(request, owner: Owner, resource: str = "WHITE_LABELING", *, allowed_check: bool = True) -> None:
    """403 unless the caller may change ``owner``'s settings: its own level or, for a tenant administrator,
    one of its customers; with the WRITE right on ``resource``; where white labeling is allowed."""
    user = request.user
    if owner != user_owner(user) and not (user.authority == Authority.TENANT_ADMIN
                                          and owner.tenant_id == user.tenant_id):
        raise PermissionDenied(NO_PERMISSION)
    if not _has_right(user, resource, "WRITE"):
        raise PermissionDenied(NO_PERMISSION)
    if allowed_check and not white_labeling_allowed(owner):
        raise PermissionDenied(NOT_ALLOWED)
