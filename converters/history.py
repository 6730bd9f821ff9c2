"""Converter version history: listing, diffs, rollback and the pinned-version stand-in.

Versions are written by ``Converter.save`` (converters.models); this module reads them.

    versions_of(converter)            newest first
    diff(converter, number)           unified diff of version ``number`` against the one before
    rollback(converter, number, user) saves version ``number``'s configuration as a new version
    as_converter(converter, number)   an unsaved Converter running version ``number`` (pinning)
"""

import difflib
import json

from converters import scripts
from converters.models import Converter, ConverterVersion

__all__ = ["VersionMissing", "versions_of", "get_version", "render", "diff", "diff_between", "version_json", "rollback",
           "as_converter", "candidate"]


class VersionMissing(LookupError):
    pass


def versions_of(converter: Converter):
    return ConverterVersion.objects.filter(tenant_id=converter.tenant_id, converter=converter).order_by("-number")


def get_version(converter: Converter, number) -> ConverterVersion:
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise VersionMissing(f"Converter version {str(number)[:20]!r} is not a number") from None
    version = versions_of(converter).filter(number=number).first()
    if version is None:
        raise VersionMissing(f"Converter version {number} doesn't exist!")
    return version


def render(version) -> str:
    """A version as text to diff: header lines, the script that runs, then the rest of the configuration."""
    configuration = version.configuration if isinstance(version.configuration, dict) else {}
    lang = scripts.script_lang(configuration)
    rest = {k: v for k, v in configuration.items() if k not in scripts.SCRIPT_FIELDS}
    lines = [f"type: {version.type}", f"integrationType: {version.integration_type or ''}",
             f"converterVersion: {version.converter_version}", f"scriptLang: {lang}", "--- script ---"]
    lines += scripts.script_of(version.type, configuration).splitlines()
    lines.append("--- configuration ---")
    lines += json.dumps(rest, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
    return "\n".join(lines) + "\n"


def diff(converter: Converter, number: int) -> str:
    """Version ``number`` against the version before it ("" for the first one)."""
    version = get_version(converter, number)
    return diff_between(versions_of(converter).filter(number__lt=version.number).first(), version)


def diff_between(before: ConverterVersion | None, version: ConverterVersion) -> str:
    if before is None:
        return ""
    return "".join(difflib.unified_diff(render(before).splitlines(keepends=True),
                                        render(version).splitlines(keepends=True),
                                        fromfile=f"version {before.number}", tofile=f"version {version.number}"))


def version_json(version: ConverterVersion, *, with_diff: str | None = None) -> dict:
    data = {
        "number": version.number,
        "converterId": {"entityType": "CONVERTER", "id": str(version.converter_id)},
        "createdTime": version.created_time,
        "author": version.author_name or None,
        "authorId": {"entityType": "USER", "id": str(version.author_id)} if version.author_id else None,
        "type": version.type,
        "integrationType": version.integration_type,
        "converterVersion": version.converter_version,
        "configuration": version.configuration,
        "rolledBackFrom": version.rolled_back_from,
    }
    if with_diff is not None:
        data["diff"] = with_diff
    return data


def candidate(converter: Converter, version: ConverterVersion) -> Converter:
    """An unsaved copy of ``converter`` carrying ``version``'s configuration."""
    copy = Converter(pk=converter.pk, tenant_id=converter.tenant_id, name=converter.name, type=version.type,
                     integration_type=version.integration_type, converter_version=version.converter_version,
                     configuration=version.configuration, debug_failures_enabled=converter.debug_failures_enabled,
                     debug_all_enabled_until=converter.debug_all_enabled_until,
                     script_version=converter.script_version, version_number=version.number)
    copy._state.adding = False
    return copy


def rollback(converter: Converter, number, user=None) -> Converter:
    """Make version ``number``'s configuration the newest version (a new number, ``rolledBackFrom``).

    Raises VersionMissing, and ValueError when that version is of the other converter type."""
    version = get_version(converter, number)
    if version.type != converter.type:
        raise ValueError(f"Version {version.number} is a {version.type} converter; this one is {converter.type}")
    converter.configuration = version.configuration
    converter.converter_version = version.converter_version
    converter.integration_type = version.integration_type
    converter.changed_by = user
    converter.rolled_back_from = version.number
    try:
        converter.save()
    finally:
        converter.rolled_back_from = None
    return converter


def as_converter(converter: Converter, number: int) -> Converter | None:
    """What an integration pinned to version ``number`` runs: the live converter's id and debug
    settings with that version's configuration; None when there is no such version (then the
    newest runs). Never saved (``pinned``), cached in the engine under its own key."""
    if converter.version_number == number:
        return converter
    version = versions_of(converter).filter(number=number).first()
    if version is None or version.type != converter.type:
        return None
    stand_in = candidate(converter, version)
    stand_in.pinned = True
    return stand_in


def check_pin(converter: Converter, number) -> int | None:
    """``number`` as a pin for an integration using ``converter`` (None = unpinned); ValueError says why not."""
    if number in (None, ""):
        return None
    if isinstance(number, bool) or not isinstance(number, int | str):
        raise ValueError("The pinned converter version must be a version number or null")
    try:
        version = get_version(converter, number)
    except VersionMissing as e:
        raise ValueError(str(e)) from None
    if version.type != "UPLINK":
        raise ValueError(f"Version {version.number} is not an uplink converter")
    return version.number
