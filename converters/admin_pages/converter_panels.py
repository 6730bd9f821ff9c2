"""What the converter editor shows beside the form (issue 21): the version history with diffs
and rollback, and the stored tests with their newest results. Read-only helpers over
converters.history and converters.stored_tests; rollback, running and adding tests go through
the REST API from static/ui/converter-history.js."""

from converters import history, stored_tests
from tbproject.admin import format_ms

__all__ = ["VERSIONS_SHOWN", "versions_panel", "tests_panel"]

#: the newest versions listed on the editor (all of them are in the API)
VERSIONS_SHOWN = 20


def versions_panel(converter) -> list[dict]:
    rows = list(history.versions_of(converter)[:VERSIONS_SHOWN + 1])
    out = []
    for version, before in zip(rows, [*rows[1:], None], strict=True):
        if len(out) == VERSIONS_SHOWN:
            break
        diff = history.diff_between(before, version)
        out.append({"number": version.number, "created": format_ms(version.created_time),
                    "author": version.author_name or "system", "rolled_back_from": version.rolled_back_from,
                    "current": version.number == converter.version_number, "diff": diff})
    return out


def tests_panel(converter) -> list[dict]:
    out = []
    for test in stored_tests.tests_of(converter):
        result = "never run" if test.last_passed is None else ("pass" if test.last_passed else "fail")
        why = test.last_error or "; ".join(test.last_differences or [])
        out.append({"id": str(test.pk), "name": test.name, "result": result, "why": why,
                    "version": test.last_version, "ran": format_ms(test.last_run_ts) if test.last_run_ts else ""})
    return out
