"""ThingsBoard's enums of the OAuth 2.0 model (tb_pe_client: PlatformType, MapperType, TenantNameStrategyType,
MobileAppStatus, BadgePosition) and the client authentication methods of an OAuth2 client."""

__all__ = ["PLATFORMS", "MAPPER_TYPES", "TENANT_NAME_STRATEGIES", "APP_STATUSES", "BADGE_POSITIONS", "AUTH_METHODS",
           "MOBILE_PLATFORMS"]

PLATFORMS = ("WEB", "ANDROID", "IOS")
MOBILE_PLATFORMS = ("ANDROID", "IOS")
#: GITHUB reads the email from GitHub's /user/emails, APPLE from the id token: both map as BASIC here (oauth/mapper.py)
MAPPER_TYPES = ("BASIC", "CUSTOM", "GITHUB", "APPLE")
TENANT_NAME_STRATEGIES = ("DOMAIN", "EMAIL", "CUSTOM")
APP_STATUSES = ("DRAFT", "PUBLISHED", "DEPRECATED", "SUSPENDED")
BADGE_POSITIONS = ("RIGHT", "LEFT")
#: BASIC: client_secret_basic (HTTP Basic), POST: client_secret_post (form fields), NONE: a public client (PKCE only)
AUTH_METHODS = ("BASIC", "POST", "NONE")
