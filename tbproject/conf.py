"""Settings of the modules the server shares with the remote runner, read with or without Django.

    setting("UPLINK_BATCH_MS", 5)     # Django's settings where Django is configured
    configure(UPLINK_BATCH_MS=5)      # the remote runner's values: it has no Django (packaging/remote)

The listener types, the converter engine and the metrics run in the server's processes, where
Django's settings hold every knob, and in the remote runner's distribution, which ships these
modules without Django. There ``configure`` sets what they read; a name it did not set reads the
default given. A checkout's ``python -m remote`` (Django installed, never configured) reads the
same values as the distribution.
"""

__all__ = ["setting", "configure", "django_settings"]

_values: dict = {}
_django = None  # Django's settings once configured (they stay so): setting() runs on hot paths
_no_django = False


def django_settings():
    global _django, _no_django
    if _django is not None or _no_django:
        return _django
    try:
        from django.conf import settings
    except ModuleNotFoundError:  # the remote runner's distribution: never look again
        _no_django = True
        return None
    if not settings.configured:
        return None
    _django = settings
    return settings


def setting(name: str, default=None):
    settings = django_settings()
    if settings is None:
        return _values.get(name, default)
    return getattr(settings, name, default)


def configure(**values) -> None:
    """The runner's values of settings (only where Django's settings are not configured)."""
    _values.update(values)
