"""ThingsBoard's SecretType (tb-pe-client ``SecretType``): a text value or an uploaded file's text."""

from django.db import models

__all__ = ["SecretType"]


class SecretType(models.TextChoices):
    TEXT = "TEXT", "Text"
    TEXT_FILE = "TEXT_FILE", "File"
