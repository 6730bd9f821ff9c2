"""How 2FA secrets are kept: a TOTP secret encrypted (Fernet; the server must compute codes from it), backup
and email codes as keyed hashes (only ever compared). Both keys derive from SECRET_KEY, so a copy of the
database alone reveals neither; a new SECRET_KEY makes stored TOTP configs unusable (configure them again).
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["seal", "unseal", "digest", "same"]


def _key(purpose: bytes) -> bytes:
    return hashlib.sha256(b"tb-two-factor:" + purpose + b":" + settings.SECRET_KEY.encode()).digest()


def seal(text: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_key(b"totp"))).encrypt(text.encode()).decode()


def unseal(token) -> str | None:
    """The sealed text, None when it cannot be opened (another SECRET_KEY, or not a sealed value)."""
    if not isinstance(token, str):
        return None
    try:
        return Fernet(base64.urlsafe_b64encode(_key(b"totp"))).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def digest(user_id, code: str) -> str:
    """A keyed hash of one of ``user_id``'s codes."""
    message = f"{user_id}:{code}".encode("utf-8", "surrogatepass")
    return hmac.new(_key(b"codes"), message, hashlib.sha256).hexdigest()


def same(stored, user_id, code: str) -> bool:
    return isinstance(stored, str) and hmac.compare_digest(stored, digest(user_id, code))
