"""An AI model's ``configuration`` (tb-pe-client's AiModelConfig subtypes) checked, cleaned and masked.

    clean(configuration, stored=None) -> configuration   # ConfigRefused naming the problem
    masked(configuration) -> configuration                # every stored secret as MASK

Only the keys of the provider's model are kept. Secrets are write-only: MASK posted back keeps the stored
value (``stored``: the configuration saved before, of the same provider); a ``${secret:name;type:TEXT}``
placeholder is kept as written and resolved when the model is used (vault/resolution.py).
"""

import copy
import math
import socket
import urllib.parse

from ai import conf
from ai.providers import PROVIDERS, get_provider
from tbproject import outbound
from tbproject.secret_refs import is_reference, names_secret

__all__ = ["ConfigRefused", "clean", "masked", "secret_keys", "MASK", "URL_FIELDS", "MAX_TEXT"]

MASK = "******"
#: providerConfig fields holding a URL the tenant typed (checked against the outbound guard when saved)
URL_FIELDS = ("baseUrl", "endpoint")
#: the longest text of any configuration field (a service account key file is a few KiB)
MAX_TEXT = 20_000


class ConfigRefused(ValueError):
    """A configuration that cannot be saved or run; the text names the field."""


def secret_keys(provider) -> list[list[str]]:
    return [path.split(".") for path in provider.secret_fields]


def _get(data, keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _set(data, keys, value) -> None:
    for key in keys[:-1]:
        data = data.get(key) if isinstance(data, dict) else None
    if isinstance(data, dict) and keys[-1] in data:
        data[keys[-1]] = value


def _number(name: str, value, kind, low, high):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigRefused(f"{name} must be a number")
    if kind is int and (isinstance(value, float) and not value.is_integer()):
        raise ConfigRefused(f"{name} must be an integer")
    value = int(value) if kind is int else value
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low}" + (f" to {high}" if high is not None else "")
        raise ConfigRefused(f"{name} must be {bounds}")
    return value


def _text(name: str, value, *, required: bool):
    if value is None or value == "":
        if required:
            raise ConfigRefused(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ConfigRefused(f"{name} must be a string")
    if len(value) > MAX_TEXT:
        raise ConfigRefused(f"{name} is longer than {MAX_TEXT} characters")
    return value


def _numeric_addresses(host: str) -> list[str]:
    """The addresses a numeric host names however it is spelled (0x7f000001, 2130706433, 127.1, 0177.0.0.1), as
    the call's lookup (socket.getaddrinfo) reads them; a name: none (it is looked up and checked at call time)."""
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)]
    except (socket.gaierror, UnicodeError, ValueError):
        return []


def _check_url(name: str, value: str) -> None:
    try:
        parts = urllib.parse.urlsplit(value.strip())
        host, _ = parts.hostname, parts.port  # a malformed host ("[::1") or port ("99999") raises here
    except ValueError as e:
        raise ConfigRefused(f"{name} is not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigRefused(f"{name} must be an http(s) URL")
    if not conf.allow_private_urls():
        try:
            outbound.check_host(host)
            if not all(outbound.public_address(a) for a in _numeric_addresses(host)):
                raise outbound.UnsafeURL(host)
        except outbound.UnsafeURL:
            raise ConfigRefused(f"{name}: the URL's host is not a public address") from None


def _provider_config(provider, raw) -> dict:
    if not isinstance(raw, dict):
        raise ConfigRefused("configuration.providerConfig must be an object")
    out = {}
    for name, required in provider.fields.items():
        value = _text(f"providerConfig.{name}", raw.get(name), required=required)
        if value is not None:
            if name in URL_FIELDS and not names_secret(value):
                _check_url(f"providerConfig.{name}", value)
            out[name] = value
    if "auth" in raw and provider.kind == "OLLAMA":
        out["auth"] = raw["auth"]
    return out


def _endpoint(configuration: dict) -> tuple:
    """Where a credential goes: the URL fields, and Ollama's auth type and user name."""
    provider_config = configuration.get("providerConfig") or {}
    auth = provider_config.get("auth") if isinstance(provider_config.get("auth"), dict) else {}
    return (*(str(provider_config.get(name) or "").strip().rstrip("/") for name in URL_FIELDS),
            auth.get("type"), auth.get("username"))


def _keep_secrets(provider, out: dict, stored: dict | None) -> None:
    for keys in secret_keys(provider):
        if _get(out, keys) == MASK:
            if stored and _endpoint(out) != _endpoint(stored):  # a kept key must not follow a new URL
                raise ConfigRefused(f"{'.'.join(keys[1:])}: enter the credential again: the endpoint changed")
            kept = _get(stored or {}, keys)
            if kept in (None, "", MASK):
                raise ConfigRefused(f"{'.'.join(keys[1:])}: no secret is stored to keep; enter it again")
            _set(out, keys, kept)


def clean(configuration, stored: dict | None = None) -> dict:
    """The configuration as it is stored: the provider's keys only, typed and bounded, ``modelType`` CHAT,
    MASKed secrets taken from ``stored`` (when it is of the same provider and the same endpoint)."""
    if not isinstance(configuration, dict):
        raise ConfigRefused("configuration must be an object with a provider")
    kind = configuration.get("provider")
    if not isinstance(kind, str) or kind not in PROVIDERS:
        raise ConfigRefused(f"configuration.provider must be one of {', '.join(PROVIDERS.kinds())}, "
                            f"got {str(kind)[:40]!r}")
    provider = get_provider(kind)
    model_type = configuration.get("modelType")
    if model_type not in (None, "CHAT"):
        raise ConfigRefused("configuration.modelType must be CHAT")
    out = {"provider": kind, "providerConfig": _provider_config(provider, configuration.get("providerConfig")),
           "modelId": _text("modelId", configuration.get("modelId"), required=True), "modelType": "CHAT"}
    if len(out["modelId"]) > 255:
        raise ConfigRefused("modelId is longer than 255 characters")
    for name, kind_, low, high in provider.params:
        if configuration.get(name) is not None:
            out[name] = _number(name, configuration[name], kind_, low, high)
    try:
        provider.check(out)
    except ValueError as e:
        raise ConfigRefused(str(e)) from None
    _keep_secrets(provider, out, stored if (stored or {}).get("provider") == kind else None)
    return out


def masked(configuration: dict) -> dict:
    """A copy with every stored secret as MASK (a secret placeholder is shown: it names, holds no value)."""
    out = copy.deepcopy(configuration or {})
    kind = out.get("provider")
    if kind not in PROVIDERS:
        return out
    for keys in secret_keys(get_provider(kind)):
        value = _get(out, keys)
        if value not in (None, "") and not is_reference(value):
            _set(out, keys, MASK)
    return out
