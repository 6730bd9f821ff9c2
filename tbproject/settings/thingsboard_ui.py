"""What ThingsBoard's UI and clients are told of this platform (help pages, Trendz, connectivity, LwM2M)."""

from tbproject.env import env_bool, env_int, env_str

# Where the UI fetches its help pages (GET /api/uiSettings/helpBaseUrl; ThingsBoard's UI_HELP_BASE_URL).
UI_HELP_BASE_URL = env_str("UI_HELP_BASE_URL", "https://thingsboard.io")
# Trendz Analytics' address when no administrator saved one (GET /api/trendz/config; "" for none).
TRENDZ_URL = env_str("TRENDZ_URL", "")
# The device "Check connectivity" commands (GET /api/device-connectivity/{deviceId}): the host devices reach
# this server's HTTP API at ("" for PUBLIC_BASE_URL's, else the request's) and, for HTTPS, the PEM file of
# the server certificate GET /api/device-connectivity/https/certificate/download serves ("" for none).
DEVICE_CONNECTIVITY_HOST = env_str("DEVICE_CONNECTIVITY_HOST", "")
DEVICE_CONNECTIVITY_HTTPS_PEM_FILE = env_str("DEVICE_CONNECTIVITY_HTTPS_PEM_FILE", "")
# The IoT gateway image version of the generated docker-compose file (ThingsBoard's TB_GATEWAY_IMAGE_VERSION).
GATEWAY_IMAGE_VERSION = env_str("GATEWAY_IMAGE_VERSION", "latest")
# POST /api/tenant/{tenantId}/device/{deviceId}: a tenant administrator may hand a device to ANY other tenant
# (ThingsBoard's behaviour, the default); False answers it 403 on servers whose tenants should not get pushed devices.
DEVICE_ASSIGN_TO_OTHER_TENANTS = env_bool("DEVICE_ASSIGN_TO_OTHER_TENANTS", True)
# The LwM2M server and bootstrap server device profiles are told of (GET /api/lwm2m/deviceProfile/bootstrap/
# {isBootstrapServer}); no LwM2M transport runs here: ThingsBoard's defaults, "" host for PUBLIC_BASE_URL's.
LWM2M_SERVER_HOST = env_str("LWM2M_SERVER_HOST", "")
LWM2M_SERVER_PORT = env_int("LWM2M_SERVER_PORT", 5685, minimum=1)
LWM2M_SERVER_SECURITY_PORT = env_int("LWM2M_SERVER_SECURITY_PORT", 5686, minimum=1)
LWM2M_BOOTSTRAP_PORT = env_int("LWM2M_BOOTSTRAP_PORT", 5687, minimum=1)
LWM2M_BOOTSTRAP_SECURITY_PORT = env_int("LWM2M_BOOTSTRAP_SECURITY_PORT", 5688, minimum=1)
