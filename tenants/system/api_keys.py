"""Users' API keys (ThingsBoard 4.3+): ``X-Authorization: ApiKey <value>`` authenticates as the key's user,
with that user's rights, until the key expires, is disabled or deleted.

Only the SHA-256 of a value is stored (a value is 256 random bits: a slow hash adds nothing), so a request
costs one indexed lookup, and nothing for ``CACHE_TTL`` seconds after (a per-process cache); a key disabled
or deleted in this process stops at once, in another one within ``CACHE_TTL`` seconds.

A change in this process (a key or user saved or deleted, a tenant marked for deletion) empties the cache.

Who manages whose keys: every user its own; a tenant administrator also those of its tenant's customer users;
the system administrator also those of every tenant's users. Anyone else's key, or user, is not found (404).
"""

import hashlib
import hmac
import secrets
import uuid

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tbproject.clock import now_ms
from tbproject.process_cache import ProcessCache
from tbproject.text import check_text
from tenants.choices import NULL_UUID, Authority
from tenants.deletion import tenant_marked
from tenants.models import ApiKey, User

__all__ = ["ApiKeyError", "PREFIX", "CACHE_TTL", "create", "update", "visible_keys", "key_of", "describe",
           "set_enabled", "delete", "authenticate", "info", "digest"]

PREFIX = "tb_"
CACHE_TTL = 10.0
NOT_FOUND = "Requested item wasn't found!"
MAX_TIME = 253_402_300_799_999  # 9999-12-31, ms
#: key hash -> (ApiKey, its User)
_cache = ProcessCache(max_entries=10_000)


class ApiKeyError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _users(actor):
    """The users whose keys ``actor`` manages (ThingsBoard's rule): itself; a tenant administrator also its
    tenant's customer users (not the other tenant administrators); the system administrator also every
    tenant's users."""
    own = Q(pk=actor.pk)
    if actor.authority == Authority.SYS_ADMIN:
        return User.objects.filter(own | Q(authority__in=(Authority.TENANT_ADMIN, Authority.CUSTOMER_USER)))
    if actor.authority == Authority.TENANT_ADMIN and actor.tenant_id:
        return User.objects.filter(own | Q(tenant_id=actor.tenant_id, authority=Authority.CUSTOMER_USER))
    return User.objects.filter(own)


def _user(actor, user_id) -> User:
    try:
        user_id = uuid.UUID(str(user_id.get("id") if isinstance(user_id, dict) else user_id))
    except ValueError:
        raise ApiKeyError("Invalid userId") from None
    user = _users(actor).filter(pk=user_id).first()
    if user is None:
        raise ApiKeyError(NOT_FOUND, 404)
    return user


def visible_keys(actor, user_id):
    """The keys of the user ``user_id`` that ``actor`` manages (a 404 for a user it does not)."""
    return ApiKey.objects.filter(user=_user(actor, user_id))


def key_of(actor, key_id) -> ApiKey:
    try:
        key_id = uuid.UUID(str(key_id))
    except ValueError:
        raise ApiKeyError(NOT_FOUND, 404) from None
    key = ApiKey.objects.filter(pk=key_id, user__in=_users(actor)).first()
    if key is None:
        raise ApiKeyError(NOT_FOUND, 404)
    return key


def _description(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiKeyError("API key description should be specified!")
    if len(value) > 255:
        raise ApiKeyError("API key description is longer than 255 characters")
    try:
        return check_text(value.strip())
    except ValueError as e:
        raise ApiKeyError(f"description: {e}") from None


def _expiration(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIME:
        raise ApiKeyError(f"expirationTime must be a time in ms between 0 (never) and {MAX_TIME}")
    return value


def _enabled(value, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiKeyError("enabled must be true or false")
    return value


def create(actor, data) -> tuple[ApiKey, str]:
    """``POST /api/apiKey`` without an id: a new key of ``data["userId"]`` (the actor when absent), and its value."""
    if not isinstance(data, dict):
        raise ApiKeyError("Request body must be a JSON object")
    user = _user(actor, data["userId"]) if data.get("userId") else actor
    value = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(tenant_id=user.tenant_id, user=user, key_hash=digest(value),
                                description=_description(data.get("description")),
                                expiration_time=_expiration(data.get("expirationTime")),
                                enabled=_enabled(data.get("enabled"), True))
    return key, value


def update(actor, key_id, data: dict) -> ApiKey:
    """``POST /api/apiKey`` with an id: description, expiration and enabled of a key (never its user or value)."""
    key = key_of(actor, key_id)
    key.description = _description(data.get("description"))
    key.expiration_time = _expiration(data.get("expirationTime", key.expiration_time))
    key.enabled = _enabled(data.get("enabled"), key.enabled)
    key.save(update_fields=["description", "expiration_time", "enabled"])
    _forget(key)
    return key


def describe(actor, key_id, description) -> ApiKey:
    key = key_of(actor, key_id)
    key.description = _description(description)
    key.save(update_fields=["description"])
    return key


def set_enabled(actor, key_id, enabled: bool) -> ApiKey:
    key = key_of(actor, key_id)
    key.enabled = enabled
    key.save(update_fields=["enabled"])
    _forget(key)
    return key


def delete(actor, key_id) -> None:
    key = key_of(actor, key_id)
    _forget(key)
    key.delete()


def _forget(key: ApiKey) -> None:
    _cache.forget_key(key.key_hash)


def _forget_all(*args) -> None:
    _cache.forget()


@receiver(post_save, sender=User, dispatch_uid="tenants.api_keys.user_saved")
@receiver(post_delete, sender=User, dispatch_uid="tenants.api_keys.user_deleted")
@receiver(post_save, sender=ApiKey, dispatch_uid="tenants.api_keys.key_saved")
@receiver(post_delete, sender=ApiKey, dispatch_uid="tenants.api_keys.key_deleted")
@receiver(tenant_marked, dispatch_uid="tenants.api_keys.tenant_marked")
def _changed(sender, **kwargs) -> None:
    """A user or key changed (disabled, deleted, its tenant being deleted) in this process: its cached rows go
    now, and again once the change commits (a request in between may have cached the old row)."""
    _forget_all()
    transaction.on_commit(_forget_all)


def authenticate(value: str) -> tuple[User, ApiKey] | str:
    """(user, key) of a valid API key value, else why it is refused (a 401's message)."""
    if not value or len(value) > 256:
        return "Invalid API key"
    hashed = digest(value)
    cached = _cache.get(hashed)
    if cached is None:
        since = _cache.generation
        key = ApiKey.objects.select_related("user").defer("user__password_history").filter(key_hash=hashed).first()
        if key is None:
            return "Invalid API key"
        cached = (key, key.user)
        _cache.put_many([(hashed, cached)], since, CACHE_TTL)
    key, user = cached
    if not hmac.compare_digest(key.key_hash, hashed):
        return "Invalid API key"
    if not key.enabled:
        return "API key is disabled"
    if key.expiration_time and key.expiration_time <= now_ms():
        return "API key has expired"
    if not user.is_active:
        return "User not found or disabled"
    return user, key


def info(key: ApiKey) -> dict:
    """ThingsBoard's ApiKeyInfo JSON (never the value)."""
    return {
        "id": {"entityType": "API_KEY", "id": str(key.pk)},
        "createdTime": key.created_time,
        "tenantId": {"entityType": "TENANT", "id": str(key.tenant_id or NULL_UUID)},
        "userId": {"entityType": "USER", "id": str(key.user_id)},
        "expirationTime": key.expiration_time,
        "description": key.description,
        "enabled": key.enabled,
        "expired": bool(key.expiration_time) and key.expiration_time <= now_ms(),
    }
