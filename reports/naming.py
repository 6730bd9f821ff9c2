"""Report file names from ThingsBoard's name patterns: ``%d{yyyy-MM-dd_HH:mm:ss}`` is the time of
generation in Java's SimpleDateFormat letters (the usual ones: yyyy yy MM dd HH hh mm ss SSS a EEE MMM),
in the report's time zone; the file extension of the format is added when missing."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reports.choices import EXTENSIONS

__all__ = ["file_name", "zone", "BadZone"]

_PLACEHOLDER = re.compile(r"%d\{([^}]*)\}")
_LETTERS = re.compile(r"yyyy|yy|MMMM|MMM|MM|dd|HH|hh|mm|ss|SSS|EEEE|EEE|a|'[^']*'")
_STRF = {"yyyy": "%Y", "yy": "%y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "dd": "%d", "HH": "%H", "hh": "%I",
         "mm": "%M", "ss": "%S", "EEEE": "%A", "EEE": "%a", "a": "%p"}


class BadZone(ValueError):
    """A time zone name that is not one."""


def zone(name: str | None) -> ZoneInfo:
    """The time zone ``name`` (UTC when empty); BadZone when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory name ("America")
        raise BadZone(f"Unknown time zone: {str(name)[:64]}") from None


def _format(java: str, when: datetime) -> str:
    def one(match):
        token = match.group(0)
        if token.startswith("'"):
            return token[1:-1]
        if token == "SSS":
            return f"{when.microsecond // 1000:03d}"
        return when.strftime(_STRF[token])

    return _LETTERS.sub(one, java)


def file_name(pattern: str | None, kind: str, when_ms: int, tz: str | None = None) -> str:
    """The file name ``pattern`` gives at ``when_ms`` in ``tz``, ending with ``kind``'s extension."""
    when = datetime.fromtimestamp(when_ms / 1000, zone(tz))
    name = _PLACEHOLDER.sub(lambda m: _format(m.group(1), when), (pattern or "report-%d{yyyy-MM-dd_HH:mm:ss}"))
    name = name.replace("/", "_").replace("\\", "_").strip() or "report"
    extension = EXTENSIONS.get(kind, "")
    return name if name.lower().endswith(extension) else name + extension
