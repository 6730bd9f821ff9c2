"""TBEL (ThingsBoard's MVEL dialect) transpiled to JavaScript for the converter engine.

    body = transpile(tbel_source, "decoder")   # the JS body of Decoder(payload, metadata)
    RUNTIME_JS                                 # evaluated once per TBEL context, before the body

The body keeps every TBEL statement on its TBEL line, so runtime errors point at the TBEL line;
Java semantics (numeric boxes, collections, strings, TbUtils) live in runtime*.js (`__tbel`).
"""

import re
from pathlib import Path

from converters.tbel.codegen import TEXT_PAYLOAD, generate
from converters.tbel.lexer import TbelSyntaxError
from converters.tbel.parser import parse

__all__ = ["RUNTIME_JS", "TEXT_PAYLOAD", "TbelSyntaxError", "transpile"]

# The engine reports the line of the first stack frame whose function name does not start with
# __tb: runtime helpers are renamed __tbel_* so that an error they throw points at the user's line
# (inner declarations here; what __tbel exposes is renamed by runtime_rename.js, once, after the
# core's parts; runtime_sets.js and runtime_dates.js name their own). runtime.js is the core that
# defines __tbel; every later file is an IIFE that reads what it needs from __tbel and adds to it.
_RUNTIME_FILES = (
    "runtime.js",  # boxes, number -> string, arithmetic, bitwise, comparison, JSON
    "runtime_members.js",  # member access, indexing, casts, collections, result JSON
    "runtime_methods.js",  # String/List/Map method tables and call dispatch
    "runtime_format.js",  # Java regex, String.format, decimal rounding, TbDate
    "runtime_statics.js",  # Integer, Long, Math, String, Arrays, ...
    "runtime_utils.js",  # TbUtils (__tbel.f)
    "runtime_rename.js",  # every function reachable from __tbel named __tbel_*
    "runtime_sets.js",  # newSet, toSet, ...: ExecutionLinkedHashSet
    "runtime_dates.js",  # new Date(text, pattern): DateTimeFormatter patterns
    "runtime_rolling.js",  # calculated fields' rolling arguments: mean(), max(), merge(), ...
)
RUNTIME_JS = re.sub(r"(?m)^(\s+)function (\w+)\(", r"\1var \2 = function __tbel_\2(",
                    "\n".join(Path(__file__).with_name(name).read_text() for name in _RUNTIME_FILES))
_KINDS = {"decoder": "decoder", "uplink": "decoder", "encoder": "encoder", "downlink": "encoder"}


def transpile(source: str, kind: str, typed: bool = True) -> str:
    """The JS function body for a TBEL decoder or encoder body; TbelSyntaxError if it does not parse.
    `typed=False` leaves every operator to the runtime (what the typed output is tested against)."""
    try:
        kind = _KINDS[kind.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown script kind {kind!r}: use 'decoder' or 'encoder'") from None
    try:
        return generate(parse(source), kind, typed)
    except RecursionError:
        # a hostile or generated script nesting thousands of levels deep
        raise TbelSyntaxError("the script nests too deeply", 1, 1) from None
