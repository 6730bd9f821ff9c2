"""The notification center's settings: Django settings when set there, else the environment.

- NOTIFICATION_SLACK_API_URL: Slack's Web API base (https://slack.com/api/).
- NOTIFICATION_TWILIO_API_URL: Twilio's REST API base (https://api.twilio.com).
- NOTIFICATION_ALLOW_PRIVATE_URLS: whether a Microsoft Teams webhook URL (a tenant's) may name a loopback,
  private, link-local or reserved address (false: refused; true only for a closed network or tests).
- NOTIFICATION_HTTP_TIMEOUT: seconds one call to Slack, a Teams webhook or Twilio may take (10).
- NOTIFICATIONS_TTL_SECONDS: age after which inbox rows and sent requests are removed (ThingsBoard's
  SQL_TTL_NOTIFICATIONS_SECS default: 2592000, 30 days; 0 keeps them).
"""

from django.conf import settings

from tbproject.env import env_bool, env_int, env_str

__all__ = ["slack_api_url", "twilio_api_url", "http_timeout", "ttl_seconds", "allow_private_urls"]


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default() if value is None else value


def slack_api_url() -> str:
    return str(_get("NOTIFICATION_SLACK_API_URL", lambda: env_str("NOTIFICATION_SLACK_API_URL",
                                                                   "https://slack.com/api/")))


def twilio_api_url() -> str:
    return str(_get("NOTIFICATION_TWILIO_API_URL", lambda: env_str("NOTIFICATION_TWILIO_API_URL",
                                                                    "https://api.twilio.com")))


def http_timeout() -> float:
    return float(_get("NOTIFICATION_HTTP_TIMEOUT", lambda: env_int("NOTIFICATION_HTTP_TIMEOUT", 10, minimum=1)))


def ttl_seconds() -> int:
    return int(_get("NOTIFICATIONS_TTL_SECONDS", lambda: env_int("NOTIFICATIONS_TTL_SECONDS", 2592000, minimum=0)))


def allow_private_urls() -> bool:
    return bool(_get("NOTIFICATION_ALLOW_PRIVATE_URLS", lambda: env_bool("NOTIFICATION_ALLOW_PRIVATE_URLS", False)))
