from django.db import models

__all__ = ["Authority", "EntityType", "NULL_UUID"]

# ThingsBoard marks "no customer" with this fixed UUID instead of null.
NULL_UUID = "13814000-1dd2-11b2-8080-808080808080"


class Authority(models.TextChoices):
    SYS_ADMIN = "SYS_ADMIN", "System administrator"
    TENANT_ADMIN = "TENANT_ADMIN", "Tenant administrator"
    CUSTOMER_USER = "CUSTOMER_USER", "Customer user"


class EntityType(models.TextChoices):
    """ThingsBoard's EntityType values that this product stores."""

    TENANT = "TENANT"
    TENANT_PROFILE = "TENANT_PROFILE"
    CUSTOMER = "CUSTOMER"
    USER = "USER"
    DEVICE = "DEVICE"
    ASSET = "ASSET"
    DEVICE_PROFILE = "DEVICE_PROFILE"
    ASSET_PROFILE = "ASSET_PROFILE"
    ENTITY_GROUP = "ENTITY_GROUP"
    CONVERTER = "CONVERTER"
    INTEGRATION = "INTEGRATION"
    RULE_CHAIN = "RULE_CHAIN"
    RULE_NODE = "RULE_NODE"
