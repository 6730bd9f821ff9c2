"""i18n, static files, the REST API (DRF, OpenAPI schema) and the request body limits."""

from tbproject.env import env_int

from .base import BASE_DIR, DATA_DIR

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic in embedded mode

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tbproject.api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # the tenant profile's tenantServerRestLimitsConfiguration / customerServerRestLimitsConfiguration
    "DEFAULT_THROTTLE_CLASSES": ["tbproject.api.throttles.TenantProfileThrottle"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "tbproject.api.parsers.PlainTextJSONParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tbproject.api.exceptions.tb_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Open Integration Center API",
    "DESCRIPTION": "ThingsBoard-compatible REST API for entities, telemetry and integrations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"X-Authorization": {"type": "apiKey", "in": "header", "name": "X-Authorization"}}
    },
    "SECURITY": [{"X-Authorization": []}],
}

# Largest JSON body the API accepts (bytes); larger bodies answer 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024)
# Largest OTA package file and largest resource (JS module, key store, LwM2M model, image...) an upload may
# store (bytes, kept in the database; larger: 413). The tenant profile's maxOtaPackagesInBytes caps OTA totals.
OTA_PACKAGE_MAX_BYTES = env_int("OTA_PACKAGE_MAX_BYTES", 32 * 1024 * 1024, minimum=1024)
RESOURCE_MAX_BYTES = env_int("RESOURCE_MAX_BYTES", 4 * 1024 * 1024, minimum=1024)
