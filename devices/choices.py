from django.db import models

__all__ = ["AttributeScope", "GroupType", "DataType", "StorageKind", "CredentialsType", "OtaPackageType",
           "ChecksumAlgorithm"]


class AttributeScope(models.TextChoices):
    SERVER_SCOPE = "SERVER_SCOPE"
    SHARED_SCOPE = "SHARED_SCOPE"
    CLIENT_SCOPE = "CLIENT_SCOPE"


class GroupType(models.TextChoices):
    """Entity types an EntityGroup may hold (ThingsBoard PE's groupType)."""

    DEVICE = "DEVICE"
    ASSET = "ASSET"
    DASHBOARD = "DASHBOARD"  # members declared by dashboards/ (devices/group_types.py)
    ENTITY_VIEW = "ENTITY_VIEW"
    USER = "USER"  # user groups: what roles are granted to (group permissions)


class DataType(models.TextChoices):
    BOOLEAN = "BOOLEAN"
    LONG = "LONG"
    DOUBLE = "DOUBLE"
    STRING = "STRING"
    JSON = "JSON"


class StorageKind(models.TextChoices):
    TIMESCALE = "timescale", "TimescaleDB hypertable with a retention policy"
    PARTITIONED = "partitioned", "PostgreSQL range partitions, created ahead and dropped on expiry"
    PLAIN = "plain", "Plain table with batched DELETE retention (SQLite)"


class CredentialsType(models.TextChoices):
    """How a device authenticates to ThingsBoard's transports (DeviceCredentialsType)."""

    ACCESS_TOKEN = "ACCESS_TOKEN"
    X509_CERTIFICATE = "X509_CERTIFICATE"
    MQTT_BASIC = "MQTT_BASIC"
    LWM2M_CREDENTIALS = "LWM2M_CREDENTIALS"


class OtaPackageType(models.TextChoices):
    """ThingsBoard's OtaPackageType: what an OTA package updates."""

    FIRMWARE = "FIRMWARE"
    SOFTWARE = "SOFTWARE"


class ChecksumAlgorithm(models.TextChoices):
    """ThingsBoard's ChecksumAlgorithm names (devices/ota/checksums.py computes each)."""

    MD5 = "MD5"
    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"
    CRC32 = "CRC32"
    MURMUR3_32 = "MURMUR3_32"
    MURMUR3_128 = "MURMUR3_128"
