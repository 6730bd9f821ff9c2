"""OTA packages: their data, checksums and size limits, deletion, and the rules for assigning one.

    store_data(package, data, ...)      # the upload: checksum computed (and a given one verified), limits
    check_delete(package)               # refuse while a device, a profile or a group uses it
    check_assignment(obj)               # a Device's or DeviceProfile's firmware/software, before it is saved
    check_package(tenant, profile, ...) # one assignment (ANY_PROFILE: a device group's); check_kind(package, type)
    has_data_filter()                   # ThingsBoard's hasData: bytes stored or an external URL

Messages are ThingsBoard's (its OTA package and device validators). Errors are Django's
ValidationError (a 400 in the REST API, a form error in the admin) and Http404 for a package of another
tenant or none at all: a tenant never learns that another tenant's id exists.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.http import Http404

from devices.choices import OtaPackageType
from devices.models import Device, DeviceGroupOtaPackage, DeviceProfile, OtaPackage
from devices.ota.checksums import ALGORITHMS, checksum, same_checksum
from tenants.models import Tenant, TenantProfile

__all__ = ["store_data", "prepare_data", "check_package", "check_kind", "ANY_PROFILE", "check_delete",
           "check_assignment", "has_data_filter", "PackageTooLarge", "max_total_bytes", "FIELDS", "MAX_TOTAL_KEY"]

#: the Device/DeviceProfile column of each package type
FIELDS = {OtaPackageType.FIRMWARE: "firmware", OtaPackageType.SOFTWARE: "software"}
MAX_TOTAL_KEY = "maxOtaPackagesInBytes"  # ThingsBoard's DefaultTenantProfileConfiguration key
WRONG_FILE = "Wrong otaPackage file!"


class PackageTooLarge(ValidationError):
    """The file is over OTA_PACKAGE_MAX_BYTES: the REST API answers 413 for it."""


def has_data_filter() -> Q:
    """ThingsBoard's ``hasData``: only such packages may be assigned (and are offered for it)."""
    return Q(has_data=True)


def max_total_bytes(tenant_id) -> int:
    """The tenant profile's ``maxOtaPackagesInBytes`` (0 or unset: no limit)."""
    data = Tenant.objects.filter(pk=tenant_id).values_list("tenant_profile__profile_data", flat=True).first()
    if data is None:
        data = TenantProfile.objects.filter(is_default=True).values_list("profile_data", flat=True).first()
    configuration = data.get("configuration") if isinstance(data, dict) else None
    value = configuration.get(MAX_TOTAL_KEY) if isinstance(configuration, dict) else None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def store_data(package: OtaPackage, data: bytes, **kwargs) -> OtaPackage:
    """Keep ``data`` as the package's file: ThingsBoard's saveOtaPackageData (:func:`prepare_data`, saved)."""
    prepare_data(package, data, **kwargs)
    package.save()
    return package


def prepare_data(package: OtaPackage, data: bytes, *, file_name: str, content_type: str, algorithm: str,
                 given_checksum: str | None = None) -> None:
    """Set ``data`` as the package's file, unsaved. Refuses a package that has data or a URL already,
    an unknown algorithm, a given checksum that is not the file's, a file over OTA_PACKAGE_MAX_BYTES
    (PackageTooLarge) and one past the tenant's total (maxOtaPackagesInBytes)."""
    if package.has_data:
        raise ValidationError("Updating otaPackage data is prohibited!")
    if algorithm not in ALGORITHMS:
        raise ValidationError(f"checksumAlgorithm must be one of: {', '.join(ALGORITHMS)}")
    if not file_name:
        raise ValidationError("OtaPackage file name should be specified!")
    if len(data) == 0:
        raise ValidationError("OtaPackage data should be specified!")
    cap = settings.OTA_PACKAGE_MAX_BYTES
    if len(data) > cap:
        raise PackageTooLarge(f"OTA package file is larger than {cap} bytes (OTA_PACKAGE_MAX_BYTES)")
    computed = checksum(algorithm, data)
    if given_checksum and not same_checksum(given_checksum, computed):
        raise ValidationError(WRONG_FILE)
    limit = max_total_bytes(package.tenant_id)
    if limit:
        others = OtaPackage.objects.filter(tenant_id=package.tenant_id).exclude(pk=package.pk)
        used = others.aggregate(n=Sum("data_size"))["n"] or 0
        if used + len(data) > limit:
            raise ValidationError(f"Failed to create the ota package, files size limit is exhausted {limit} bytes!")
    package.data, package.data_size, package.has_data = bytes(data), len(data), True
    package.file_name, package.content_type = file_name, content_type or "application/octet-stream"
    package.checksum_algorithm, package.checksum = algorithm, computed


def check_delete(package: OtaPackage) -> None:
    """ThingsBoard refuses to delete a package that devices or a device profile use; so do groups here."""
    field = FIELDS[package.type]
    if Device.objects.filter(**{f"{field}_id": package.pk}).exists():
        raise ValidationError("The otaPackage referenced by the devices cannot be deleted!")
    if DeviceProfile.objects.filter(**{f"{field}_id": package.pk}).exists():
        raise ValidationError("The otaPackage referenced by the device profile cannot be deleted!")
    if DeviceGroupOtaPackage.objects.filter(ota_package_id=package.pk).exists():
        raise ValidationError("The otaPackage referenced by the device groups cannot be deleted!")


#: ``check_package``'s profile for a device group's package, which serves the group's devices of its own profile
ANY_PROFILE = object()


def check_package(tenant_id, profile_id, package_id, ota_type: str) -> OtaPackage:
    """The package ``package_id`` if it may be assigned as ``ota_type`` to a device (or the devices)
    of profile ``profile_id`` (or to a device group: ``ANY_PROFILE``); Http404 when it is no package of the
    tenant."""
    package = OtaPackage.objects.defer("data").filter(tenant_id=tenant_id, pk=package_id).first()
    if package is None:
        raise Http404(f"Can't assign non-existent {ota_type.lower()}!")
    check_kind(package, ota_type)
    if profile_id is not ANY_PROFILE and package.device_profile_id != profile_id:
        raise ValidationError(f"Can't assign {ota_type.lower()} with different deviceProfile!")
    return package


def check_kind(package: OtaPackage, ota_type: str) -> None:
    """``package`` may be assigned as ``ota_type``: of that type, with data (or a URL)."""
    name = ota_type.lower()
    if package.type != ota_type:
        raise ValidationError(f"Can't assign {name} with type: {package.type}")
    if not package.has_data:
        raise ValidationError(f"Can't assign {name} with empty data!")


def check_assignment(obj) -> None:
    """Check the firmware and software a Device or DeviceProfile is about to be saved with."""
    profile_id = obj.pk if isinstance(obj, DeviceProfile) else obj.profile_id
    for ota_type, field in FIELDS.items():
        package_id = getattr(obj, f"{field}_id")
        if package_id is not None:
            check_package(obj.tenant_id, profile_id, package_id, ota_type)
