"""The notification center's delivery secrets: write-only in the API, masked in the admin.

- The notification settings (``/api/notification/settings``): Slack's ``botToken`` and the mobile app's
  ``firebaseServiceAccountCredentials``.
- A MICROSOFT_TEAMS target's ``webhookUrl``: the URL is the credential (anyone who has it can post to the
  channel; a Power Automate workflow's carries its ``sig``), so it is shown as MASK too.

Each is answered as MASK; a save that sends MASK back, or leaves the field out (or null), keeps the stored
value. (The SMS provider's Twilio ``accountToken`` is the system settings' own: tenants/system/admin_settings.py.)
"""

__all__ = ["MASK", "SETTINGS_SECRETS", "masked_settings", "kept_settings", "shown_target", "kept_target"]

MASK = "******"
#: each settable delivery method's secret fields in the notification settings
SETTINGS_SECRETS = {"SLACK": ("botToken",), "MOBILE_APP": ("firebaseServiceAccountCredentials",)}
#: target type -> its configuration's secret fields
TARGET_SECRETS = {"MICROSOFT_TEAMS": ("webhookUrl",)}


def _mask(config: dict, keys) -> dict:
    config = dict(config)
    for key in keys:
        if config.get(key):
            config[key] = MASK
    return config


def _keep(config: dict, stored: dict, keys) -> dict:
    config = dict(config)
    for key in keys:
        if config.get(key) in (None, MASK):
            if stored.get(key):
                config[key] = stored[key]
            else:
                config.pop(key, None)  # nothing to keep: the validation asks for it where it is required
    return config


def masked_settings(configs: dict) -> dict:
    return {method: _mask(config, SETTINGS_SECRETS.get(method, ())) if isinstance(config, dict) else config
            for method, config in (configs or {}).items()}


def kept_settings(method: str, config: dict, stored_configs: dict) -> dict:
    stored = (stored_configs or {}).get(method)
    return _keep(config, stored if isinstance(stored, dict) else {}, SETTINGS_SECRETS.get(method, ()))


def shown_target(configuration: dict) -> dict:
    if not isinstance(configuration, dict):
        return configuration
    return _mask(configuration, TARGET_SECRETS.get(configuration.get("type"), ()))


def kept_target(configuration, stored) -> object:
    """The posted configuration with the stored target's secrets where it sends MASK or leaves them out; only
    while the type is unchanged."""
    if not isinstance(configuration, dict) or not isinstance(stored, dict):
        return configuration
    kind = configuration.get("type")
    if kind not in TARGET_SECRETS or stored.get("type") != kind:
        return configuration
    return _keep(configuration, stored, TARGET_SECRETS[kind])
