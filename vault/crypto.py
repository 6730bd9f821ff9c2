"""Secret values at rest: AES-256-GCM (the ``cryptography`` package), each value bound to its secret.

The key is ``settings.SECRETS_ENCRYPTION_KEY`` (any text: its SHA-256 is the key) or, when that is
empty, one derived from ``SECRET_KEY`` (HKDF, its own label): changing SECRET_KEY without setting
SECRETS_ENCRYPTION_KEY makes the stored values unreadable, which :func:`decrypt` reports as a
:class:`CryptoError` (the resolver's "cannot be decrypted"), never as a wrong value. The secret's id
is the associated data, so a ciphertext copied onto another secret (or another tenant's) does not open.

Stored layout: ``b"\\x01" + nonce (12 bytes) + ciphertext with tag``.
"""

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["encrypt", "decrypt", "CryptoError"]

_FORMAT = b"\x01"
_NONCE = 12


class CryptoError(ValueError):
    """A stored value that cannot be opened with the current key."""


def _key() -> bytes:
    configured = getattr(settings, "SECRETS_ENCRYPTION_KEY", "") or ""
    if configured:
        return hashlib.sha256(configured.encode()).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"tbproject vault secrets v1").derive(settings.SECRET_KEY.encode())


def encrypt(value: str, bound_to) -> bytes:
    """The stored form of ``value`` for the secret whose id is ``bound_to``."""
    nonce = os.urandom(_NONCE)
    return _FORMAT + nonce + AESGCM(_key()).encrypt(nonce, value.encode("utf-8"), str(bound_to).encode())


def decrypt(stored: bytes, bound_to) -> str:
    stored = bytes(stored or b"")
    if not stored.startswith(_FORMAT) or len(stored) < 1 + _NONCE + 16:
        raise CryptoError("the stored value is not in a known format")
    nonce, body = stored[1:1 + _NONCE], stored[1 + _NONCE:]
    try:
        return AESGCM(_key()).decrypt(nonce, body, str(bound_to).encode()).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise CryptoError("the stored value cannot be decrypted with the current key "
                          "(SECRETS_ENCRYPTION_KEY or SECRET_KEY changed?)") from None
