"""The secrets of the settings documents, masked wherever a person reads a document (the admin, logs)."""

import json

from tenants.system.admin_settings import SECRET_FIELDS

__all__ = ["MASK", "masked", "masked_json"]

MASK = "********"
#: secret fields of each document key (the dedicated endpoints' documents included)
SECRETS = {**SECRET_FIELDS, "jwt": ("tokenSigningKey",)}


def masked(key: str, value) -> dict:
    if not isinstance(value, dict):
        return {}
    return {k: (MASK if k in SECRETS.get(key, ()) and v else v) for k, v in value.items()}


def masked_json(key: str, value) -> str:
    return json.dumps(masked(key, value), indent=2, sort_keys=True)
