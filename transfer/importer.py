"""Importing a package (transfer/export.py) into the caller's tenant, all in one transaction:
new ids everywhere, the converters first, then the integration pointing at them, then the rule
chains with their "integration downlink" nodes pointing at the new integration. A converter or
integration whose name is taken gets the first free `` (n)`` suffix (rule chain names need not be
unique). The secrets listed under ``requiredSecrets`` must come in ``secrets``, by path."""

import copy

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from converters.api.serializers import ConverterSerializer
from converters.engine import EngineError
from converters.models import Converter
from integrations.api.serializers import IntegrationSerializer
from integrations.models import Integration
from rulechains.api.serializers import RuleChainSerializer
from rulechains.metadata import MetadataError, export_metadata, save_metadata
from rulechains.nodes import INTEGRATION_DOWNLINK
from tbproject.api.exceptions import ServiceUnavailable
from transfer.export import PACKAGE_VERSION
from transfer.secrets import put_path, secret_paths

__all__ = ["import_package", "missing_secrets", "check_package"]

#: the server's fields of an exported entity: a new one gets its own
SERVER_OWNED = ("id", "createdTime", "tenantId", "version", "routingKey", "root", "firstRuleNodeId",
                "remoteStatus", "externalId")
ENGINE_DOWN = "The script engine cannot start; nothing was imported. Try again."


def check_package(package) -> dict:
    """The package's shape, or a 400 saying what is wrong."""
    if not isinstance(package, dict):
        raise ValidationError("The body must be an integration package: {\"integration\": {...}, ...}")
    if package.get("packageVersion") != PACKAGE_VERSION:
        raise ValidationError(f"Unsupported packageVersion {str(package.get('packageVersion'))[:16]!r}; "
                              f"this server reads version {PACKAGE_VERSION}")
    if not isinstance(package.get("integration"), dict):
        raise ValidationError("The package has no integration object")
    if not isinstance(package.get("converters", []), list) or not all(
            isinstance(c, dict) for c in package.get("converters", [])):
        raise ValidationError("converters must be a list of converter objects")
    chains = package.get("ruleChains", [])
    if not isinstance(chains, list) or not all(
            isinstance(c, dict) and isinstance(c.get("ruleChain"), dict) and isinstance(c.get("metadata"), dict)
            for c in chains):
        raise ValidationError("ruleChains must be a list of {\"ruleChain\": {...}, \"metadata\": {...}}")
    required = package.get("requiredSecrets", [])
    if not isinstance(required, list) or not all(isinstance(p, str) for p in required):
        raise ValidationError("requiredSecrets must be a list of paths")
    return package


def missing_secrets(package: dict, secrets: dict) -> list[str]:
    return [p for p in package.get("requiredSecrets", []) if secrets.get(p) in (None, "")]


def import_package(package, secrets, request) -> dict:
    """Create everything in ``request.user``'s tenant; returns the new entities' JSON."""
    package = copy.deepcopy(check_package(package))
    secrets = secrets if secrets is not None else {}
    if not isinstance(secrets, dict):
        raise ValidationError("secrets must be an object of path -> value")
    possible = set(secret_paths(package))
    unknown = sorted(p for p in [*package.get("requiredSecrets", []), *secrets] if p not in possible)
    if unknown:
        raise ValidationError(f"Not a secret of this package: {', '.join(unknown)[:300]}")
    missing = missing_secrets(package, secrets)
    if missing:
        raise ValidationError(f"Missing secrets: {', '.join(missing)}. Send them as "
                              "\"secrets\": {\"<path>\": \"<value>\"}")
    for path, value in secrets.items():
        if not isinstance(value, str):
            raise ValidationError(f"secrets.{path}: must be a string")
        put_path(package, path, value)
    try:
        with transaction.atomic():
            return _create(package, request)
    except EngineError:
        raise ServiceUnavailable(ENGINE_DOWN) from None
    except IntegrityError:
        raise ValidationError("The package could not be imported: a name or key is taken") from None


def _create(package: dict, request) -> dict:
    context = {"request": request}
    converters, ids = [], {}
    for i, body in enumerate(package.get("converters", [])):
        data = _fresh(body, Converter, request.user.tenant)
        converter = _save(ConverterSerializer(data=data, context=context), f"converters.{i}")
        converters.append(converter)
        ids[_id(body)] = converter.pk

    data = _fresh(package["integration"], Integration, request.user.tenant)
    old_integration = _id(package["integration"])
    for key in ("defaultConverterId", "downlinkConverterId"):
        ref = _id(data.get(key))
        if ref is not None:
            if ref not in ids:
                raise ValidationError(f"integration.{key}: converter {ref} is not in the package")
            data[key] = {"entityType": "CONVERTER", "id": str(ids[ref])}
    if data.get("secret") is None:
        data.pop("secret", None)
    integration = _save(IntegrationSerializer(data=data, context=context), "integration")

    chains = []
    for i, item in enumerate(package.get("ruleChains", [])):
        data = {k: v for k, v in item["ruleChain"].items() if k not in SERVER_OWNED}
        chain = _save(RuleChainSerializer(data=data, context=context), f"ruleChains.{i}.ruleChain")
        metadata = item["metadata"]
        for node in metadata.get("nodes") or []:
            config = node.get("configuration") if isinstance(node, dict) else None
            if node.get("type") == INTEGRATION_DOWNLINK and isinstance(config, dict) \
                    and str(config.get("integrationId")) == old_integration:
                config["integrationId"] = str(integration.pk)
        try:
            save_metadata(chain, metadata)
        except MetadataError as e:
            raise ValidationError(f"ruleChains.{i}.metadata: {e}") from None
        chains.append(chain)
    return {"integration": IntegrationSerializer(integration).data,
            "converters": [ConverterSerializer(c).data for c in converters],
            "ruleChains": [{"ruleChain": RuleChainSerializer(c).data, "metadata": export_metadata(c)} for c in chains]}


def _id(ref) -> str | None:
    ref = ref.get("id") if isinstance(ref, dict) else ref
    ref = ref.get("id") if isinstance(ref, dict) else ref  # an entity's {"id": {"entityType", "id"}}
    return str(ref) if ref else None


def _fresh(body: dict, model, tenant) -> dict:
    data = {k: v for k, v in body.items() if k not in SERVER_OWNED}
    name = str(data.get("name") or "")
    taken = set(model.objects.filter(tenant=tenant, name__startswith=name).values_list("name", flat=True))
    n = 0
    while (candidate := name if n == 0 else f"{name} ({n})") in taken:
        n += 1
    data["name"] = candidate
    return data


def _save(serializer, where: str):
    if not serializer.is_valid():
        raise ValidationError(f"{where}: {_first(serializer.errors)}")
    return serializer.save()


def _first(errors) -> str:
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        text = _first(value)
        return text if key == "non_field_errors" else f"{key}: {text}"
    if isinstance(errors, list) and errors:
        return _first(errors[0])
    return str(errors)
