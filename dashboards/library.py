"""What the widget library, resources and images share: who owns a row (the system or a tenant), who may
change it, and how their JSON input is checked.

A system administrator writes system rows (tenant null), a tenant administrator its tenant's; every
tenant reads the system's. A tenant that names a system row to change it gets a 403 (ThingsBoard's
"You don't have permission to perform this operation!"), another tenant's row is a 404.
"""

from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from tbproject.api.permissions import IsAdministrator
from tbproject.text import check_json, check_text
from tenants.choices import Authority

__all__ = ["IsAdministrator", "CUSTOMER_TYPES",
           "owner_tenant", "check_writable", "get_visible", "text_field", "bool_field", "int_field", "json_field",
           "PERMISSION_DENIED"]

PERMISSION_DENIED = "You don't have permission to perform this operation!"
#: the resources a customer user reads (what its dashboards load); key stores and models are its tenant's
CUSTOMER_TYPES = ("JS_MODULE", "IMAGE")


def owner_tenant(user):
    """The tenant new rows of ``user`` belong to: None (system) for a system administrator."""
    if user.authority == Authority.SYS_ADMIN:
        return None
    if user.authority != Authority.TENANT_ADMIN:
        raise PermissionDenied(PERMISSION_DENIED)
    return user.tenant


def check_writable(user, obj) -> None:
    """A system row is the system administrator's, a tenant row its tenant administrator's."""
    if user.authority == Authority.SYS_ADMIN:
        if obj.tenant_id is not None:
            raise NotFound("Requested item wasn't found!")
        return
    if user.authority != Authority.TENANT_ADMIN or obj.tenant_id != user.tenant_id:
        raise PermissionDenied(PERMISSION_DENIED)


def get_visible(queryset, user, **lookup):
    """The one row ``user`` reads matching ``lookup``, a tenant's own before the system's; else 404."""
    rows = sorted(queryset.for_user(user).filter(**lookup)[:2], key=lambda r: r.tenant_id is None)
    if not rows:
        raise NotFound("Requested item wasn't found!")
    return rows[0]


def text_field(data: dict, name: str, *, required: bool = False, max_length: int = 255, message: str | None = None):
    """A text value of a JSON body: a string (or null when not required), storable, within its length."""
    value = data.get(name)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(message or f"'{name}' should be specified!")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a string")
    if len(value) > max_length:
        raise ValidationError(f"'{name}' length must be equal or less than {max_length}")
    try:
        return check_text(value)
    except ValueError as e:
        raise ValidationError(f"'{name}': {e}") from None


def bool_field(data: dict, name: str, default: bool = False) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"'{name}' must be true or false")
    return value


def int_field(data: dict, name: str):
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**31:
        raise ValidationError(f"'{name}' must be an integer (or null)")
    return value


def json_field(data: dict, name: str):
    """A JSON value of the body whose every string a database column can hold."""
    try:
        return check_json(data.get(name))
    except ValueError as e:
        raise ValidationError(f"'{name}': {e}") from None
