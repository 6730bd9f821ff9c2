"""Outgoing mail (activation and password-reset mails) and the address mailed links start with."""

from tbproject.env import env_bool, env_int, env_secret, env_str

# Outgoing mail (activation and password-reset mails): SMTP when EMAIL_HOST is set, else written to
# the process's output (the embedded default: the link is in `make run`'s log).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")
# The address users reach this server at (https://iot.example.com): the start of the links in
# activation and reset mails. Unset: the request's host, which is refused for mailed links while
# ALLOWED_HOSTS is "*" and EMAIL_HOST is set (a forged Host header would point the link elsewhere).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
