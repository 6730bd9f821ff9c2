"""Checking a role's permissions against ThingsBoard's vocabulary (roles/choices.py).

GENERIC: ``{"DEVICE": ["READ", "WRITE"], "ALL": ["ALL"]}``; GROUP: ``["READ", "RPC_CALL"]``. Unknown
names, wrong shapes and oversize documents are refused with a message naming what is wrong.
"""

from rest_framework.exceptions import ValidationError

from roles.choices import GROUP_ROLE_OPERATIONS, OPERATIONS, RESOURCES

__all__ = ["generic_permissions", "group_permissions", "MAX_ENTRIES"]

#: far above the vocabulary's size: a longer list is not a role, it is an attack
MAX_ENTRIES = 256


def _operations(ops, allowed, where: str) -> list[str]:
    if not isinstance(ops, list) or len(ops) > MAX_ENTRIES:
        raise ValidationError(f"{where}: must be a list of operations")
    for op in ops:
        if not isinstance(op, str) or op not in allowed:
            raise ValidationError(f"{where}: unknown operation '{str(op)[:64]}'" if op not in OPERATIONS or
                                  not isinstance(op, str) else f"{where}: operation '{op}' is not allowed here")
    return list(dict.fromkeys(ops))


def generic_permissions(value, field: str = "permissions") -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ENTRIES:
        raise ValidationError(f"Generic role {field} must be a JSON object: resource -> list of operations")
    out = {}
    for resource, ops in value.items():
        if resource not in RESOURCES:
            raise ValidationError(f"Generic role {field}: unknown resource '{str(resource)[:64]}'")
        out[resource] = _operations(ops, OPERATIONS, f"Generic role {field} of {resource}")
    return out


def group_permissions(value) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError("Group role permissions must be a JSON list of operations")
    return _operations(value, GROUP_ROLE_OPERATIONS, "Group role permissions")
