"""Text a database column can hold: PostgreSQL's text and jsonb refuse NUL characters and lone
surrogates (SQLite takes them), so what would reach it with one is refused or repaired first.

    check_text(value)      # the value, or ValueError saying what is wrong (telemetry, keys, API input)
    check_json(value)      # the same for every key and string of a JSON value, however deep
    storable(value)        # the value with U+FFFD / "?" in their place (records of refused input)
"""

__all__ = ["check_text", "check_json", "storable"]


def check_text(text: str) -> str:
    """Refuse text no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in text:
        raise ValueError("text values cannot contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text values must be valid Unicode (lone surrogate found)") from None
    return text


def check_json(value):
    """``value`` (parsed JSON) when every key and string in it passes :func:`check_text`, else its
    ValueError. A loop, not recursion: the depth is the client's."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, (list, tuple)):
            stack += item
    return value


def storable(text: str) -> str:
    """``text`` as a column holds it: NUL as U+FFFD, a lone surrogate as "?"."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
