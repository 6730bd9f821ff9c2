"""Realistic converters written for this project, with inputs and the output each must give.

Each Case is run through the real runtime (converters.engine) and its output through
converters.output, exactly as live traffic and the testUpLink/testDownLink endpoints run them.
"""

from dataclasses import dataclass, field

__all__ = ["Case", "DOWNLINK", "UPLINK"]


@dataclass(frozen=True)
class Case:
    name: str
    script: str
    # uplink: (payload bytes, metadata); downlink: (msg JSON text, metadata, msgType, integration metadata)
    inputs: tuple
    expected: object  # the script's return value as parsed JSON, or an error message prefix
    error: bool = False
    tags: tuple[str, ...] = field(default=())


def _load():
    from converters.tests.cases import binary, downlink, envelopes

    return binary.CASES + envelopes.CASES, downlink.CASES


UPLINK, DOWNLINK = _load()
