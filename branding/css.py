"""A conservative sanitiser of the customCss this server links on its own pages: nothing in it may fetch from
anywhere but this server's static files and images, so that CSS attribute selectors cannot send a page's
input values (the CSRF token, secrets shown in forms) out through url()/@import.

Removed: comments, ``</style``, ``@import``, every ``url(...)`` whose target is not ``/static/...``,
``/api/images/...``, a login image of branding or ``data:image/...``, ``image-set()``/``src()``, ``expression()``,
``behavior:`` and ``-moz-binding``. CSS escapes that spell letters (``\\75rl(`` is ``url(``) are decoded
first so that they cannot hide a keyword; other escapes (``.md\\:flex``, ``"\\f101"``) are kept as written.
The saved value is kept as sent (ThingsBoard's round trip); this runs when it is served.
"""

import re

__all__ = ["sanitize"]

_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_HEX = re.compile(r"\\([0-9a-fA-F]{1,6})(?:\r\n|[ \t\r\n\f])?")
_LETTER = re.compile(r"\\([g-zG-Z])")
_URL = re.compile(r"""url\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^)]*?)\s*\)""", re.I | re.S)
_ALLOWED = re.compile(r"^(?:/static/|/api/images/|/api/noauth/whiteLabel/login(?:Logo|Favicon)/|data:image/)",
                      re.I)
_STRIP = [
    (re.compile(r"</style", re.I), ""),
    (re.compile(r"@import[^;]*;?", re.I), ""),
    (re.compile(r"(?:(?:-webkit-)?image-set|\bsrc|expression)\([^()]*\)", re.I), "none"),
    (re.compile(r"(?:-webkit-)?image-set\(|\bsrc\(|expression\(|\burl\(", re.I), "none("),
    (re.compile(r"behavior\s*:", re.I), "x-b:"),
    (re.compile(r"-moz-binding", re.I), "x-mb"),
]


def _letters(match: re.Match) -> str:
    code = int(match.group(1), 16)
    char = chr(code) if code < 0x110000 else ""
    return char if char.isascii() and (char.isalpha() or char == "-") else match.group(0)


def _url(match: re.Match) -> str:
    target = match.group(1)
    if target[:1] in "\"'":
        target = target[1:-1]
    if target.lower().startswith("data:image/"):
        safe = not target.lower().startswith("data:image/svg")
    else:
        safe = bool(_ALLOWED.match(target)) and not re.search(r"[\s\\]|\.\.|%2e|//", target, re.I)
    return "\x00" + match.group(0)[3:] if safe else "none"  # \x00: kept, "url" again once the strips ran


def sanitize(text: str | None) -> str:
    text = (text or "").replace("\x00", "")
    for _ in range(10):  # until nothing changes: a removal may join two halves into a new keyword
        before = text
        text = _COMMENT.sub("", text)
        text = _LETTER.sub(lambda m: m.group(1), _HEX.sub(_letters, text))
        text = _URL.sub(_url, text)
        for pattern, replacement in _STRIP:
            text = pattern.sub(replacement, text)
        text = text.replace("\x00", "url")
        if text == before:
            return text
    return ""  # still changing: serve nothing rather than something half cleaned
