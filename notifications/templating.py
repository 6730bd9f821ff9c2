"""ThingsBoard's template parameters: ``${name}`` replaced by its value, ``${name:modifier}``
with the modifiers ``upperCase``, ``lowerCase`` and ``capitalize``. A parameter without a value
is left as written, as ThingsBoard leaves it.

Every notification knows its recipient's ``recipientEmail``, ``recipientFirstName``,
``recipientLastName`` and ``recipientTitle`` (the full name, or the e-mail when there is none);
a trigger adds its own (an alarm's: notifications/rules.py)."""

import re
from html import escape

__all__ = ["render", "recipient_params", "render_methods"]

_PARAM = re.compile(r"\$\{([A-Za-z0-9_.]+)(?::(upperCase|lowerCase|capitalize))?\}")
_MODIFIERS = {"upperCase": str.upper, "lowerCase": str.lower, "capitalize": lambda s: s[:1].upper() + s[1:]}


def render(text, params: dict, *, html: bool = False) -> str | None:
    """``text`` with its parameters replaced; ``html``: each value HTML-escaped (an EMAIL body is HTML:
    a value an alarm, a comment or a user's name brings in must not add markup; the template's own stays)."""
    if not isinstance(text, str):
        return text
    if "${" not in text:
        return text

    def one(match: re.Match) -> str:
        value = params.get(match.group(1))
        if value is None:
            return match.group(0)
        value = str(value)
        modifier = match.group(2)
        value = _MODIFIERS[modifier](value) if modifier else value
        return escape(value) if html else value

    return _PARAM.sub(one, text)


def recipient_params(user) -> dict:
    """``user`` is a User or a dict of its ``email``, ``first_name``, ``last_name``."""
    get = user.get if isinstance(user, dict) else lambda name: getattr(user, name, "")
    email, first, last = get("email") or "", get("first_name") or "", get("last_name") or ""
    title = " ".join(part for part in (first, last) if part) or email
    return {"recipientEmail": email, "recipientFirstName": first, "recipientLastName": last,
            "recipientTitle": title}


def render_methods(templates: dict, params: dict) -> dict:
    """Each delivery method's template with ``subject`` and ``body`` rendered."""
    out = {}
    for method, template in templates.items():
        done = dict(template)
        for key in ("subject", "body"):
            if key in done:
                done[key] = render(done[key], params, html=method == "EMAIL" and key == "body")
        out[method] = done
    return out
