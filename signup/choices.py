"""Choices of self-registration (ThingsBoard PE's SignUpFieldId, captcha versions, SignUpResult)."""

from django.db import models

__all__ = ["SignUpFieldId", "CaptchaVersion", "SignUpResult", "DEFAULT_FIELDS"]


class SignUpFieldId(models.TextChoices):
    EMAIL = "EMAIL"
    PASSWORD = "PASSWORD"
    REPEAT_PASSWORD = "REPEAT_PASSWORD"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    PHONE = "PHONE"
    COUNTRY = "COUNTRY"
    CITY = "CITY"
    STATE = "STATE"
    ZIP = "ZIP"
    ADDRESS = "ADDRESS"
    ADDRESS2 = "ADDRESS2"


class CaptchaVersion(models.TextChoices):
    """Google reCAPTCHA v2 ("I'm not a robot") and v3 (score); both checked at the siteverify URL."""

    V2 = "v2"
    V3 = "v3"


class SignUpResult(models.TextChoices):
    SUCCESS = "SUCCESS"
    INACTIVE_USER_EXISTS = "INACTIVE_USER_EXISTS"


#: the sign-up form ThingsBoard offers when the tenant lists no fields
DEFAULT_FIELDS = [
    {"id": "EMAIL", "label": "Email", "required": True},
    {"id": "FIRST_NAME", "label": "First name", "required": False},
    {"id": "LAST_NAME", "label": "Last name", "required": False},
    {"id": "PASSWORD", "label": "Password", "required": True},
    {"id": "REPEAT_PASSWORD", "label": "Repeat password", "required": True},
]
