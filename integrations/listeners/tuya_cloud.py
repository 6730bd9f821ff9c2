"""Tuya's documented cloud protocols: message decryption and the signed OpenAPI.

    data = decrypt(message_json["data"], access_secret, em)   # bytes of the decrypted JSON
    api = OpenApi(base_url, access_id, access_secret)
    api.token()                                               # IntegrationError on refused credentials
    api.send_commands(device_id, [{"code": "switch_1", "value": True}])

- Messages: the ``data`` field is base64 of AES-128 ciphertext; the key is characters 8 to 24
  of the access secret. ``em`` (a message property) ``aes_gcm`` means GCM: a 12-byte nonce, the
  ciphertext, a 16-byte tag. Otherwise ECB with PKCS#7 padding.
- OpenAPI: every request carries ``client_id``, ``t`` (ms), ``nonce``, ``sign_method:
  HMAC-SHA256`` and ``sign``: upper-case hex HMAC-SHA256, keyed with the access secret, of
  ``client_id + access_token + t + nonce + stringToSign`` where stringToSign is
  ``METHOD\\n sha256hex(body)\\n \\n path?sorted-query`` (the token request has no access_token).
  Answers are ``{"success", "result", "code", "msg", "t"}``; ``success: false`` is an error with
  Tuya's code and message.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integrations.types.base import IntegrationError
from integrations.types.cloud import call

__all__ = ["decrypt", "key_of", "OpenApi", "sign", "TOKEN_PATH", "commands_path"]

TOKEN_PATH = "/v1.0/token?grant_type=1"
#: Tuya codes that say the credentials or the project are wrong (a retry cannot help)
REFUSED = {1004: "sign invalid", 1005: "clientId invalid", 1011: "type is incorrect", 1106: "permission deny",
           1100: "param is empty", 2009: "not support this device", 2017: "schema does not exist"}
TOKEN_INVALID = 1010


def key_of(access_secret: str) -> bytes:
    key = access_secret[8:24].encode("utf-8")
    if len(key) != 16:
        raise IntegrationError("Tuya access secret is too short to decrypt messages", permanent=True)
    return key


def decrypt(data: str, access_secret: str, em: str = "") -> bytes:
    """The plaintext of one message's ``data``; ValueError with the reason when it cannot be had."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (ValueError, TypeError):
        raise ValueError("the message's data is not base64") from None
    key = key_of(access_secret)
    if em == "aes_gcm":
        if len(raw) < 12 + 16:
            raise ValueError("the message's data is too short for AES-GCM")
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], None)
        except InvalidTag:
            raise ValueError("AES-GCM authentication failed (wrong access secret?)") from None
    if not raw or len(raw) % 16:
        raise ValueError("the message's data is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if 1 <= pad <= 16 and plain.endswith(bytes([pad]) * pad):
        return plain[:-pad]
    raise ValueError("AES-ECB padding is wrong (wrong access secret?)")


def sign(access_id: str, access_secret: str, method: str, path: str, body: bytes, t: str, nonce: str,
         token: str = "") -> str:
    string_to_sign = "\n".join([method.upper(), hashlib.sha256(body).hexdigest(), "", path])
    message = f"{access_id}{token}{t}{nonce}{string_to_sign}"
    return hmac.new(access_secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def commands_path(device_id: str) -> str:
    return f"/v1.0/iot-03/devices/{device_id}/commands"


class OpenApi:
    """A Tuya OpenAPI client (blocking: call it from a thread) with a cached access token."""

    def __init__(self, base_url: str, access_id: str, access_secret: str, *, timeout: float = 10.0):
        self.base_url, self.access_id, self.access_secret, self.timeout = base_url, access_id, access_secret, timeout
        self._token, self._expires = "", 0.0
        self._lock = threading.Lock()

    def request(self, method: str, path: str, body=None, *, token: str | None = None) -> dict:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        t, nonce = str(int(time.time() * 1000)), uuid.uuid4().hex
        token = self.token() if token is None else token
        headers = {"client_id": self.access_id, "t": t, "nonce": nonce, "sign_method": "HMAC-SHA256",
                   "sign": sign(self.access_id, self.access_secret, method, path, data, t, nonce, token),
                   "Content-Type": "application/json"}
        if token:
            headers["access_token"] = token
        _, raw = call(method, self.base_url + path, headers=headers, body=data if body is not None else None,
                      timeout=self.timeout, what=f"Tuya OpenAPI at {self.base_url}")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise IntegrationError(f"Tuya OpenAPI at {self.base_url} answered something that is not JSON") from None
        if not answer.get("success"):
            code = answer.get("code")
            message = str(answer.get("msg") or REFUSED.get(code, "refused"))[:300]
            raise IntegrationError(f"Tuya OpenAPI refused {method} {path.split('?')[0]}: {message} (code {code})",
                                   permanent=code in REFUSED or code == TOKEN_INVALID)
        return answer

    def token(self) -> str:
        """The access token (fetched, or cached until a minute before it expires)."""
        with self._lock:
            if self._token and time.monotonic() < self._expires:
                return self._token
            result = self.request("GET", TOKEN_PATH, token="").get("result") or {}
            self._token = str(result.get("access_token") or "")
            if not self._token:
                raise IntegrationError(f"Tuya OpenAPI at {self.base_url} gave no access token")
            self._expires = time.monotonic() + max(int(result.get("expire_time") or 0) - 60, 30)
            return self._token

    def send_commands(self, device_id: str, commands: list) -> dict:
        try:
            return self.request("POST", commands_path(device_id), {"commands": commands})
        except IntegrationError as exc:
            if "(code 1010)" not in exc.message:
                raise
            self._token = ""  # expired on Tuya's side: once more with a new one
            return self.request("POST", commands_path(device_id), {"commands": commands})
