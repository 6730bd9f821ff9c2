"""Secret placeholders in configurations, resolved at use time.

ThingsBoard 4.x's syntax (the REST API call node's help text, thingsboard/thingsboard issue 16120):
``${secret:<name>;type:<TYPE>}`` with TYPE ``TEXT`` or ``TEXT_FILE``; the name is exact and
case-sensitive and holds no ``{``, ``}`` or ``;``. A placeholder may be the whole string or a part of it
(``"Bearer ${secret:apiToken;type:TEXT}"``).

    resolve(tenant_id, configuration, slots) -> configuration   # a new JSON with the values in; SecretError if not
    references(configuration) -> [(name, type), ...]            # what it names anywhere, without looking anything up

Only the ``slots`` are resolved: the key paths (``[["credentials", "password"], ...]``) of the fields that
may hold a secret, as the caller's type declares them (an integration's ``secret_fields``, a rule node's
``secret_fields`` and ``secret_slots``). A placeholder anywhere else (a URL, a key mapping, a script) stays
as written: whoever can run a configuration (a test run, a check) could otherwise read any secret of the
tenant back from where that text shows (a renamed key, an error naming the URL).

Where ThingsBoard silently puts an empty string for a missing secret, :func:`resolve` raises
:class:`SecretError` naming the placeholder (never a value): the integration's status or the rule
node's failure says what is missing. Only the tenant's own secrets are ever looked up.

For callers that build configurations on an event loop (the listener host), :func:`prepare` resolves in
a thread that may use the database and keeps the result on the row; :func:`resolved_configuration`
then answers from it, and :func:`stamp_of` tells a changed secret from an unchanged one.
"""

import copy
import hashlib
import json

from tbproject.secret_refs import PLACEHOLDER, is_reference, names_secret
from vault.choices import SecretType
from vault.crypto import CryptoError, decrypt
from vault.models import Secret

__all__ = ["PLACEHOLDER", "SecretError", "references", "resolve", "stamp", "prepare", "resolved_configuration",
           "stamp_of", "placeholder", "is_reference"]

_TYPES = tuple(SecretType.values)
_PREPARED = "_vault_prepared"


class SecretError(ValueError):
    """A placeholder that cannot be resolved; the text names it, never a value."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def placeholder(name: str, kind: str = SecretType.TEXT) -> str:
    return f"${{secret:{name};type:{kind}}}"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def references(configuration) -> list[tuple[str, str]]:
    """The distinct ``(name, type)`` pairs the configuration's placeholders name, in order."""
    found = {}
    for text in _strings(configuration):
        if "${secret:" in text:
            for match in PLACEHOLDER.finditer(text):
                found[match.groups()] = None
    return list(found)


def _lookup(tenant_id, refs) -> dict[str, Secret]:
    names = {name for name, _ in refs}
    return {s.name: s for s in Secret.objects.filter(tenant_id=tenant_id, name__in=names)}


def _values(refs, secrets: dict[str, Secret]) -> dict[tuple[str, str], str]:
    values = {}
    for name, kind in refs:
        shown = placeholder(name, kind)
        if kind not in _TYPES:
            raise SecretError(f"Unknown secret type '{kind[:32]}' in {shown[:300]}: use TEXT or TEXT_FILE")
        secret = secrets.get(name)
        if secret is None:
            raise SecretError(f"Secret '{name[:255]}' referenced by {shown[:300]} is not found")
        if secret.type != kind:
            raise SecretError(f"Secret '{name[:255]}' is of type {secret.type}, not {kind} as {shown[:300]} says")
        try:
            values[(name, kind)] = decrypt(secret.encrypted_value, secret.pk)
        except CryptoError as e:
            raise SecretError(f"Secret '{name[:255]}' cannot be used: {e}") from None
    return values


def _stamp(refs, secrets: dict[str, Secret]) -> str:
    """Ids, versions and a digest of each ciphertext (never a value): two changes of the same version (made
    at once from one read) still differ, as each write encrypts with a fresh nonce."""
    def part(name, kind):
        secret = secrets.get(name)
        if secret is None:
            return f"{name}|{kind}|-"
        digest = hashlib.sha256(bytes(secret.encrypted_value or b"")).hexdigest()
        return f"{name}|{kind}|{secret.pk}|{secret.version}|{digest}"

    return hashlib.sha256("\n".join(sorted(part(n, k) for n, k in refs)).encode()).hexdigest() if refs else ""


def _get(data, keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _found(configuration, slots) -> list[tuple[list, str]]:
    """(keys, text) of each slot of ``configuration`` that holds a string naming a secret."""
    found = []
    for keys in slots or ():
        text = _get(configuration, keys)
        if names_secret(text):
            found.append((list(keys), text))
    return found


def _refs(found) -> list[tuple[str, str]]:
    return list(dict.fromkeys(m.groups() for _, text in found for m in PLACEHOLDER.finditer(text)))


def _snapshot(tenant_id, found):
    """(the configuration's values or the SecretError, the stamp): both from one look at the rows, so that
    a value changed meanwhile is never used under its new stamp."""
    refs = _refs(found)
    if not refs:
        return {}, ""
    secrets = _lookup(tenant_id, refs)
    try:
        values = _values(refs, secrets)
    except SecretError as e:
        values = e
    return values, _stamp(refs, secrets)


def _apply(configuration, found, values):
    if not found:
        return configuration
    out = copy.deepcopy(configuration)
    for keys, text in found:
        target = out
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = PLACEHOLDER.sub(lambda m: values[m.groups()], text)
    return out


def resolve(tenant_id, configuration, slots):
    """``configuration`` with the placeholders of its ``slots`` (key lists: the fields that may hold a
    secret; a placeholder anywhere else stays as written) replaced by the tenant's secret values (the same
    object when they name none); SecretError for a missing secret, a wrong or unknown type, an
    undecryptable value."""
    found = _found(configuration, slots)
    if not found:
        return configuration
    values, _ = _snapshot(tenant_id, found)
    if isinstance(values, SecretError):
        raise values
    return _apply(configuration, found, values)


def stamp(tenant_id, configuration, slots) -> str:
    """What the secrets the ``slots`` name are now (ids, versions, ciphertext digests, never values): another
    stamp means a value changed, or a secret appeared or went. "" when they name none."""
    return _snapshot(tenant_id, _found(configuration, slots))[1]


def _raw(configuration) -> str:
    return json.dumps(configuration, sort_keys=True, default=str)


def prepare(row, slots) -> None:
    """Resolve ``row.configuration`` (a tenant-scoped row) at ``slots`` now, in a thread that may use the
    database, and keep the outcome and its stamp (from the same look) on the row for
    :func:`resolved_configuration` and :func:`stamp_of`."""
    configuration = row.configuration
    found = _found(configuration, slots)
    values, kept_stamp = _snapshot(row.tenant_id, found)
    outcome = values if isinstance(values, SecretError) else _apply(configuration, found, values)
    setattr(row, _PREPARED, (_raw(configuration), outcome, kept_stamp))


def resolved_configuration(row, slots):
    """The row's configuration with its secrets in: what :func:`prepare` kept when the configuration is
    still the one it saw, else resolved now. Raises SecretError."""
    kept = getattr(row, _PREPARED, None)
    if kept is not None and kept[0] == _raw(row.configuration):
        if isinstance(kept[1], SecretError):
            raise SecretError(kept[1].message)
        return kept[1]
    return resolve(row.tenant_id, row.configuration, slots)


def stamp_of(row) -> str:
    """The stamp :func:`prepare` kept on the row ("" when it was not prepared)."""
    kept = getattr(row, _PREPARED, None)
    return kept[2] if kept is not None else ""
