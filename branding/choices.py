"""The vocabularies of white labeling and custom menus, as tb-pe-client 4.4's enums spell them."""

from django.db import models

__all__ = ["WhiteLabelingKind", "MenuScope", "AssigneeType", "Level"]


class WhiteLabelingKind(models.TextChoices):
    GENERAL = "GENERAL"  # WhiteLabelingParams: the UI of logged-in users
    LOGIN = "LOGIN"  # LoginWhiteLabelingParams: the login page, found by the request's domain name
    MAIL_TEMPLATES = "MAIL_TEMPLATES"  # the mail templates document


class MenuScope(models.TextChoices):
    """Whose UI a custom menu is for: system administrators, tenant administrators, customer users."""

    SYSTEM = "SYSTEM"
    TENANT = "TENANT"
    CUSTOMER = "CUSTOMER"


class AssigneeType(models.TextChoices):
    NO_ASSIGN = "NO_ASSIGN"
    ALL = "ALL"
    CUSTOMERS = "CUSTOMERS"
    USERS = "USERS"
    USER_GROUPS = "USER_GROUPS"


class Level(models.TextChoices):
    """Which owner a settings row belongs to (the row's tenant and customer say which one)."""

    SYSTEM = "SYSTEM"
    TENANT = "TENANT"
    CUSTOMER = "CUSTOMER"
