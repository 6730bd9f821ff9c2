"""Authentication: JWT, the secrets key, users' one-time links, login and sign-up limits, backends."""

from tbproject.env import env_int, env_secret, env_str

from .base import SECRET_KEY

# JWT, as ThingsBoard: access token 2.5 h, refresh token 7 days (both in seconds).
JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY", "") or SECRET_KEY
# Secrets storage (vault/): the values' encryption key; empty: one derived from SECRET_KEY (then changing
# SECRET_KEY makes the stored secrets unreadable, so production sets this one)
SECRETS_ENCRYPTION_KEY = env_secret("SECRETS_ENCRYPTION_KEY", "")
JWT_ISSUER = env_str("JWT_ISSUER", "thingsboard.io")
JWT_TOKEN_EXPIRATION_TIME = env_int("JWT_TOKEN_EXPIRATION_TIME", 9000, minimum=60)
JWT_REFRESH_TOKEN_EXPIRATION_TIME = env_int("JWT_REFRESH_TOKEN_EXPIRATION_TIME", 604800, minimum=60)
# Users' one-time links, as ThingsBoard: an activation link and a password-reset link each last 24 h.
USER_ACTIVATION_TOKEN_TTL_HOURS = env_int("USER_ACTIVATION_TOKEN_TTL_HOURS", 24, minimum=1)
USER_PASSWORD_RESET_TOKEN_TTL_HOURS = env_int("USER_PASSWORD_RESET_TOKEN_TTL_HOURS", 24, minimum=1)
# Account mails anyone can ask for (password reset; activation mails again), in ThingsBoard's rate-limit
# format ("3:3600" = 3 an hour): per target address, known or not, and per client address (an IPv6 client by
# its /64) for the anonymous reset request. Counted across processes through REDIS_URL. Empty: no limit.
ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT = env_str("ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT", "3:3600")
ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = env_str("ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT", "10:60")
# ThingsBoard's maxFailedLoginAttempts (security settings): the wrong password after this many in a row
# disables the user's login until an administrator enables it again (`manage.py enable_user EMAIL`). 0 (the
# default, as ThingsBoard leaves it unset): never.
USER_MAX_FAILED_LOGIN_ATTEMPTS = env_int("USER_MAX_FAILED_LOGIN_ATTEMPTS", 0, minimum=0)
# Failed logins (wrong name or password; REST and admin sign-in) one client address may make, in ThingsBoard's
# rate-limit format; past it the client's logins answer 429 unchecked. Successful logins are not counted.
LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = env_str("LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT", "10:60")
# Self-registration (signup/): sign-ups one client address may post, in ThingsBoard's rate-limit format; Google's
# reCAPTCHA verification URL (a test points it at a local fake) and how long to wait for it (seconds).
SIGNUP_PER_CLIENT_RATE_LIMIT = env_str("SIGNUP_PER_CLIENT_RATE_LIMIT", "5:3600")
RECAPTCHA_VERIFY_URL = env_str("RECAPTCHA_VERIFY_URL", "https://www.google.com/recaptcha/api/siteverify")
RECAPTCHA_TIMEOUT = env_int("RECAPTCHA_TIMEOUT", 10, minimum=1)
AUTHENTICATION_BACKENDS = ["tenants.lockout.LockoutBackend"]
# The security settings' password policy (tenants/system/security.py) in the admin's user forms and changepassword
AUTH_PASSWORD_VALIDATORS = [{"NAME": "tenants.system.security.PolicyValidator"}]
