"""Sample network-server envelopes (fixtures/envelopes/*.json), written after each network's
published format, all carrying the same Elsys ERS frame: temperature 22.6 C, humidity 41 %,
light 39 lx, motion 6, battery 3649 mV."""

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "envelopes"
FRAME = bytes.fromhex("0100e202290400270506070e41")


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def doc(name: str) -> dict:
    return json.loads(raw(name))
