"""The library's tree read as a catalogue: integration type -> vendor -> model -> entry.

Layout (ThingsBoard's ``data-converters``)::

    VENDORS/<vendor>/{info.json, logo.svg|png}
    VENDORS/<vendor>/<model>/{info.json, photo.png, guide.md}
    VENDORS/<vendor>/<model>/<integration>/<uplink|downlink>/{converter.json, metadata.json,
        payload[_N].json|.base64|.txt|.hex, result[_N].json}

``<integration>`` is ThingsBoard's integration type (``CHIRPSTACK``, ``TTN``...) or one of the
older folder names (``ChirpStack``, ``ThingsStackCommunity``...); where both exist for a model
the one spelled as the type wins. A folder without ``converter.json`` is not an entry. The
catalogue of a checkout is read once and cached by its path.
"""

import base64
import json
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from converters.choices import IntegrationType

__all__ = ["Catalogue", "Entry", "Sample", "catalogue_of", "integration_type_of"]

_ALIASES = {"THINGSSTACKCOMMUNITY": "TTN", "THETHINGSSTACKCOMMUNITY": "TTN", "THINGSSTACKINDUSTRIES": "TTI",
            "THETHINGSSTACKINDUSTRIES": "TTI", "THINGPARKENTERPRISE": "TPE", "ACTILITY": "THINGPARK"}
_BY_SQUASHED = {re.sub(r"[^A-Z0-9]", "", value): value for value in IntegrationType.values}
_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_SAMPLE = re.compile(r"^payload(?:_(\d+))?\.(json|base64|b64|txt|hex)$")
MAX_IMAGE_BYTES = 512 * 1024


def integration_type_of(folder: str) -> str | None:
    squashed = re.sub(r"[^A-Z0-9]", "", folder.upper())
    return _ALIASES.get(squashed) or _BY_SQUASHED.get(squashed)


def _read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _image(folder: Path, stem: str) -> str | None:
    for suffix, mime in _IMAGE_TYPES.items():
        path = folder / f"{stem}{suffix}"
        if path.is_file() and path.stat().st_size <= MAX_IMAGE_BYTES:
            return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    return None


@dataclass(frozen=True)
class Sample:
    """One payload file and its expected result (None when the entry has no result for it)."""

    name: str
    payload: bytes
    text: str
    expected: object = None
    expected_name: str | None = None


@dataclass(frozen=True)
class Entry:
    """One converter of the library: a vendor's model for one integration type and direction."""

    vendor: str
    model: str
    integration_type: str
    converter_type: str  # UPLINK | DOWNLINK
    path: Path

    @cached_property
    def converter(self) -> dict:
        value = _read_json(self.path / "converter.json")
        return value if isinstance(value, dict) else {}

    @property
    def metadata(self) -> dict:
        value = _read_json(self.path / "metadata.json", {})
        return value if isinstance(value, dict) else {}

    def samples(self) -> list[Sample]:
        found = []
        for file in self.path.iterdir():
            match = _SAMPLE.match(file.name)
            if not match:
                continue
            suffix = f"_{match.group(1)}" if match.group(1) else ""
            data = file.read_bytes()
            kind = match.group(2)
            if kind in ("base64", "b64"):
                payload = base64.b64decode(b"".join(data.split()) + b"=" * (-len(b"".join(data.split())) % 4))
            elif kind == "hex":
                payload = bytes.fromhex(data.decode("ascii").strip())
            else:
                payload = data
            result = self.path / f"result{suffix}.json"
            expected = _read_json(result) if result.is_file() else None
            found.append((int(match.group(1) or 0), Sample(file.name, payload, data.decode("utf-8", "replace"),
                                                           expected, result.name if result.is_file() else None)))
        return [sample for _, sample in sorted(found, key=lambda pair: (pair[0], pair[1].name))]


class Catalogue:
    """Every entry of one checkout, indexed by (integration type, converter type)."""

    def __init__(self, root: Path | None):
        self.root = root
        self._entries: dict[tuple, dict[str, dict[str, Entry]]] = {}
        if root is not None and (root / "VENDORS").is_dir():
            self._scan(root / "VENDORS")

    def _scan(self, vendors: Path) -> None:
        for vendor in sorted(p for p in vendors.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for model in sorted(p for p in vendor.iterdir() if p.is_dir() and not p.name.startswith(".")):
                for folder in sorted(model.iterdir(), key=lambda p: p.name):
                    kind = integration_type_of(folder.name) if folder.is_dir() else None
                    if kind is None:
                        continue
                    for direction in ("uplink", "downlink"):
                        if not (folder / direction / "converter.json").is_file():
                            continue
                        models = self._entries.setdefault((kind, direction.upper()), {}).setdefault(vendor.name, {})
                        known = models.get(model.name)
                        if known is None or (folder.name == kind and known.path.parent.name != kind):
                            models[model.name] = Entry(vendor.name, model.name, kind, direction.upper(),
                                                       folder / direction)

    def vendors(self, integration_type: str, converter_type: str = "UPLINK") -> list[str]:
        return sorted(self._entries.get((integration_type, converter_type), {}), key=str.lower)

    def models(self, integration_type: str, vendor: str, converter_type: str = "UPLINK") -> list[str]:
        return sorted(self._entries.get((integration_type, converter_type), {}).get(vendor, {}), key=str.lower)

    def entry(self, integration_type: str, vendor: str, model: str, converter_type: str = "UPLINK") -> Entry | None:
        return self._entries.get((integration_type, converter_type), {}).get(vendor, {}).get(model)

    def vendor_info(self, vendor: str, *, images: bool) -> dict:
        folder = self.root / "VENDORS" / vendor
        return {"name": vendor, "logo": _image(folder, "logo") if images else None}

    def model_info(self, vendor: str, model: str, *, images: bool) -> dict:
        folder = self.root / "VENDORS" / vendor / model
        info = _read_json(folder / "info.json", {})
        return {"name": model, "info": info if isinstance(info, dict) else {},
                "photo": _image(folder, "photo") if images else None}


_CACHE: dict[Path | None, Catalogue] = {}
_LOCK = threading.Lock()


def catalogue_of(root: Path | None) -> Catalogue:
    """The catalogue of a checkout (read once per checkout path)."""
    with _LOCK:
        found = _CACHE.get(root)
        if found is None:
            _CACHE.clear()  # only the checkout in use is worth keeping
            found = _CACHE[root] = Catalogue(root)
        return found
