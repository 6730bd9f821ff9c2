"""Compact JSON text on the hot paths: ``compact(obj)`` is ``json.dumps(obj, separators=(",", ":"))``.

``json.dumps`` with any argument, and ``JSONEncoder.encode`` too, build CPython's C encoder
afresh on every call: for a small dict (an uplink's metadata) most of the call (3.1 us here,
0.8 with the encoder built once). Here it is built once. Without the
C accelerator (another Python implementation) this is the plain encoder. The circular-reference
check is off: callers pass plain data they just built (a cycle fails with RecursionError instead
of ValueError). Imports nothing but json, so the converter engine's worker may use it.
"""

import json
from json import encoder as _encoder

__all__ = ["compact"]

_plain = json.JSONEncoder(separators=(",", ":"))

if _encoder.c_make_encoder is not None:
    _c = _encoder.c_make_encoder(None, _plain.default, _encoder.encode_basestring_ascii, None, ":", ",",
                                 False, False, True)

    def compact(obj) -> str:
        return "".join(_c(obj, 0))
else:  # pragma: no cover - CPython always has the accelerator
    compact = _plain.encode
