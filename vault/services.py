"""The secret workflows behind the API and the admin: save ThingsBoard's Secret JSON, change a value or a
description, delete (refused while used), list names. Every function takes the tenant's id: a secret of
another tenant is never found. A value is encrypted before anything stores it and never returned.

After a value changed (or a secret was created, which may complete a configuration that named it), the
users of the secret are refreshed once the transaction commits (vault/hooks.py: integrations restart,
rule nodes read the new value on their next batch anyway).
"""

from django.db import IntegrityError, transaction

from tbproject.api.ids import entity_id
from vault import hooks
from vault.choices import SecretType
from vault.crypto import encrypt
from vault.models import Secret

__all__ = ["info_json", "save", "set_value", "set_description", "delete", "names", "SecretRefused",
           "MAX_VALUE_CHARS", "check_name", "value_changed"]

#: a value's size cap (a certificate chain is a few KB)
MAX_VALUE_CHARS = 1_000_000
MAX_NAME_CHARS = 255
_FORBIDDEN_IN_NAME = set("{};")


class SecretRefused(ValueError):
    """Bad input for a secret: the API answers 400 with this text."""


def info_json(secret: Secret) -> dict:
    """ThingsBoard's SecretInfo: never the value."""
    return {"id": entity_id("SECRET", secret.pk), "createdTime": secret.created_time,
            "tenantId": entity_id("TENANT", secret.tenant_id), "name": secret.name, "type": secret.type,
            "description": secret.description or None}


def check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SecretRefused("Secret name should be specified!")
    if len(name) > MAX_NAME_CHARS:
        raise SecretRefused(f"Secret name is longer than {MAX_NAME_CHARS} characters")
    if _FORBIDDEN_IN_NAME & set(name):
        raise SecretRefused("Secret name must not contain '{', '}' or ';' (a ${secret:name;type:TYPE} "
                            "placeholder could not name it)")
    return name


def _check_value(value) -> str:
    if not isinstance(value, str) or value == "":
        raise SecretRefused("Secret value should be specified!")
    if len(value) > MAX_VALUE_CHARS:
        raise SecretRefused(f"Secret value is longer than {MAX_VALUE_CHARS} characters")
    if "\x00" in value:
        raise SecretRefused("Secret value must not contain NUL characters")
    return value


def _check_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise SecretRefused("Secret description must be a string")
    if "\x00" in description:
        raise SecretRefused("Secret description must not contain NUL characters")
    return description


def _check_type(kind) -> str:
    if kind not in SecretType.values:
        raise SecretRefused("Secret type should be specified: TEXT or TEXT_FILE")
    return kind


def value_changed(secret: Secret) -> None:
    """Refresh the users of the secret once the transaction that changed its value commits."""
    tenant_id, name = secret.tenant_id, secret.name
    transaction.on_commit(lambda: hooks.refresh(tenant_id, name))


def _store(secret: Secret, value: str | None, *, creating: bool, description: bool = False) -> Secret:
    """Insert, or update only what this change is about (the value, the file name, the description when it
    was given): a description changed meanwhile by someone else is not written back over."""
    if value is not None:
        secret.encrypted_value = encrypt(_check_value(value), secret.pk)
    fields = None if creating else ["encrypted_value", "file_name", "version", *(["description"] if description
                                                                              else [])]
    try:
        with transaction.atomic():
            secret.save(force_insert=creating, update_fields=fields)
    except IntegrityError:
        raise SecretRefused("Secret with such name already exists!") from None
    if value is not None:
        value_changed(secret)
    return secret


def save(tenant_id, data: dict, *, existing: Secret | None = None, file_name: str | None = None) -> Secret:
    """ThingsBoard's saveSecret: a new secret (name, type, value required) or, with ``existing``, a new
    value and/or description (name and type cannot change)."""
    if existing is None:
        secret = Secret(tenant_id=tenant_id, name=check_name(data.get("name")), type=_check_type(data.get("type")),
                        description=_check_description(data.get("description")), file_name=file_name or "")
        return _store(secret, _check_value(data.get("value")), creating=True)
    if "name" in data and data["name"] != existing.name:
        raise SecretRefused("Secret name cannot be changed")
    if "type" in data and data["type"] not in (None, existing.type):
        raise SecretRefused("Secret type cannot be changed")
    if "description" in data:
        existing.description = _check_description(data.get("description"))
    value = data.get("value")
    if file_name is not None:
        existing.file_name = file_name
    return _store(existing, value if value not in (None, "") else None, creating=False,
                  description="description" in data)


def set_value(secret: Secret, value, *, file_name: str | None = None) -> Secret:
    """ThingsBoard's updateSecretValue; the users of the secret pick up the new value."""
    if file_name is not None:
        secret.file_name = file_name
    return _store(secret, _check_value(value), creating=False)


def set_description(secret: Secret, description) -> Secret:
    secret.description = _check_description(description)
    secret.save(update_fields=["description", "version"])
    return secret


def delete(secret: Secret) -> dict:
    """ThingsBoard's TbSecretDeleteResult: refused (``success`` false, with the ``references``) while an
    integration or a rule chain names the secret; deleted otherwise."""
    found = hooks.users_of(secret.tenant_id, secret.name)
    if found:
        return {"success": False, "references": found}
    secret.delete()
    return {"success": True}


def names(tenant_id) -> list[str]:
    return list(Secret.objects.filter(tenant_id=tenant_id).order_by("name").values_list("name", flat=True))
