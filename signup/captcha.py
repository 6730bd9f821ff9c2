"""Google reCAPTCHA verification (v2 and v3): the sign-up form's token checked at the siteverify URL
(``RECAPTCHA_VERIFY_URL``), as ThingsBoard checks it before anything is created.

    verify(registration, token, remote_ip)   # None, or raises CaptchaError (a 400 for the caller)
"""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from signup.choices import CaptchaVersion

__all__ = ["verify", "CaptchaError", "MIN_V3_SCORE", "INVALID"]

#: a v3 answer scoring below this is a robot (Google's suggested threshold)
MIN_V3_SCORE = 0.5
INVALID = "Invalid reCAPTCHA response!"
MAX_TOKEN = 4096

log = logging.getLogger(__name__)


class CaptchaError(Exception):
    """The token was refused, or the verification service could not be asked."""


def _ask(secret: str, token: str, remote_ip: str) -> dict:
    form = {"secret": secret, "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    request = urllib.request.Request(settings.RECAPTCHA_VERIFY_URL, data=urllib.parse.urlencode(form).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=settings.RECAPTCHA_TIMEOUT) as response:
            answer = json.loads(response.read(65536).decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError, ValueError) as e:
        # never the secret in the log: only the failure's kind
        log.warning("reCAPTCHA verification failed: %s", type(e).__name__)
        raise CaptchaError("Unable to verify reCAPTCHA response: try again later") from None
    if not isinstance(answer, dict):
        raise CaptchaError(INVALID)
    return answer


def verify(registration, token, remote_ip: str = "") -> None:
    """Raise CaptchaError unless Google's service accepts ``token`` for the registration's secret key (v3: its
    score is at least MIN_V3_SCORE and the action is the configured one, when one is)."""
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise CaptchaError(INVALID)
    answer = _ask(registration.captcha_secret_key, token.strip(), remote_ip)
    if answer.get("success") is not True:
        raise CaptchaError(INVALID)
    if registration.captcha_version == CaptchaVersion.V3:
        score = answer.get("score")
        if not isinstance(score, int | float) or score < MIN_V3_SCORE:
            raise CaptchaError(INVALID)
        if registration.captcha_action and answer.get("action") != registration.captcha_action:
            raise CaptchaError(INVALID)
