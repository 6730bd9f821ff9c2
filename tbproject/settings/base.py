"""Core: debug, keys, hosts, the data directory, installed apps, middleware, templates."""

from pathlib import Path

from tbproject.env import env_bool, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parents[2]

DEBUG = env_bool("DEBUG", False)
# The embedded default key is fine for a laptop demo; production must set SECRET_KEY.
SECRET_KEY = env_secret("SECRET_KEY", "embedded-insecure-key-set-SECRET_KEY-in-production-" + "0123456789abcdef" * 2)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "daphne",
    "unfold",  # admin theme; before django.contrib.admin so its templates win (UNFOLD: admin_ui.py)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "channels",
    "tenants",
    "devices",
    "dashboards",
    "roles",
    "branding", "oauth", "signup", "vault",  # white labeling; OAuth 2.0 and domains; sign-up; secrets
    "ai",  # AI models (LLM providers), the test chat and chats; the AI request rule node uses them
    "converters",
    "integrations",
    "rulechains",
    "transports",  # ThingsBoard's device MQTT transport (manage.py rundevicemqtt; settings in transports/conf.py)
    "scheduler",
    "reports",  # ThingsBoard PE reporting: report templates, reports, blob entities (headless Chromium)
    "notifications",
    "calculated",
    "audit",
    "transfer",
    "edges",
    "tbproject",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tbproject.static_files.StaticFilesMiddleware",  # WhiteNoise, app files listed once per process
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "branding.ui.AdminCspMiddleware",  # admin pages load images, fonts, styles only from this server
    "audit.context.AuditMiddleware",  # who is acting, for the audit log of configuration changes
    "notifications.context.ActorMiddleware",  # who is acting, for ENTITY_ACTION notifications
]

ROOT_URLCONF = "tbproject.urls"
WSGI_APPLICATION = "tbproject.wsgi.application"
ASGI_APPLICATION = "tbproject.asgi.application"
AUTH_USER_MODEL = "tenants.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
