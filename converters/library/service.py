"""Create a tenant's converter from a library entry, and run the entry's samples as its tests."""

from types import SimpleNamespace

from django.db import transaction

from converters import stored_tests
from converters.library import repo
from converters.library.catalogue import catalogue_of
from converters.library.samples import run_samples, sample_metadata
from converters.models import Converter

__all__ = ["LibraryEntryMissing", "create_from_library", "current_catalogue", "converter_data"]

_KEEP = ("name", "type", "integrationType", "configuration", "converterVersion", "additionalInfo")


class LibraryEntryMissing(LookupError):
    """No such vendor/model/direction for the integration type in the library."""


def current_catalogue():
    return catalogue_of(repo.current_path())


def converter_data(entry, name: str | None = None) -> tuple[dict, list[str]]:
    """The Converter JSON to save for an entry, and notes on what was adapted (none today: a TBEL
    entry is saved as TBEL and runs as it does in ThingsBoard)."""
    data = {k: entry.converter[k] for k in _KEEP if k in entry.converter}
    data["type"] = entry.converter_type
    data["integrationType"] = entry.integration_type
    if name:
        data["name"] = name
    data.setdefault("name", f"{entry.integration_type} {entry.converter_type.lower()} converter for "
                            f"{entry.vendor} {entry.model}")
    data["debugSettings"] = {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0}
    data["configuration"] = dict(data.get("configuration") or {})
    return data, []


def create_from_library(tenant, integration_type: str, vendor: str, model: str, converter_type: str = "UPLINK",
                        name: str | None = None, *, request=None) -> dict:
    """Save the entry as a converter of ``tenant`` (through the API's serializer, so the same
    checks apply: script compiles, name unique in the tenant) and run its samples.

    The samples are kept as the converter's stored tests (converters.stored_tests), run on every save.
    Returns ``{converter (Converter JSON), samples, passed, failed, notes}``; the converter is
    created even when samples fail: the report says which and why. Raises LibraryEntryMissing,
    and rest_framework's ValidationError (``.detail`` says why) when the entry cannot be saved."""
    from rest_framework.exceptions import ValidationError

    from converters.api.serializers import ConverterSerializer

    entry = current_catalogue().entry(integration_type, vendor, model, converter_type)
    if entry is None:
        raise LibraryEntryMissing(f"The library has no {converter_type.lower()} converter for {vendor} {model} "
                                  f"({integration_type})")
    data, notes = converter_data(entry, name)
    if Converter.objects.filter(tenant=tenant, name=data["name"]).exists():
        raise ValidationError("Converter with such name already exists!")
    # The serializer takes its tenant from the request's user (an admin view passes its request).
    context = {"request": request or SimpleNamespace(user=SimpleNamespace(tenant=tenant))}
    serializer = ConverterSerializer(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    with transaction.atomic():
        converter = serializer.save(tenant=tenant)
    results = run_samples(converter, entry)
    stored_tests.from_library(converter, entry, sample_metadata(entry), results)
    passed = sum(r.passed for r in results)
    return {"converter": ConverterSerializer(converter, context=context).data,
            "samples": [r.as_json() for r in results], "passed": passed, "failed": len(results) - passed,
            "notes": notes}
