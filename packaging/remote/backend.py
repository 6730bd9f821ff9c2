"""PEP 517 build backend of the remote runner's wheel (pyproject.toml beside this file says why).

It zips the files that ``[tool.remote-wheel]`` lists, from the repository two folders up, with
the project's metadata: a pure-Python ``py3-none-any`` wheel, byte-for-byte the same for the same
sources (fixed timestamps, sorted entries). Only ``build_wheel`` (and its metadata hook) exist:
``pip wheel --no-deps packaging/remote`` and ``pip install packaging/remote`` need no more.
"""

import base64
import hashlib
import re
import tomllib
import zipfile
from pathlib import Path

__all__ = ["build_wheel", "get_requires_for_build_wheel", "prepare_metadata_for_build_wheel", "files", "version"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TAG = "py3-none-any"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _config() -> tuple[dict, dict]:
    data = tomllib.loads((HERE / "pyproject.toml").read_text())
    return data["project"], data["tool"]["remote-wheel"]


def version() -> str:
    found = re.search(r'^__version__ = "([^"]+)"', (ROOT / "remote" / "__init__.py").read_text(), re.M)
    if found is None:
        raise RuntimeError("remote/__init__.py has no __version__")
    return found.group(1)


def files(tool: dict | None = None) -> list[str]:
    """The repository's paths that go into the wheel, sorted."""
    tool = tool if tool is not None else _config()[1]
    excluded = set(tool.get("exclude", []))
    found = set()
    for pattern in tool["include"]:
        matches = [p for p in ROOT.glob(pattern) if p.is_file()]
        if not matches:
            raise RuntimeError(f"[tool.remote-wheel] include {pattern!r} matches no file")
        found.update(p.relative_to(ROOT).as_posix() for p in matches)
    return sorted(found - excluded)


def _dist(project: dict) -> str:
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version()}",
             f"Summary: {project.get('description', '')}", f"Requires-Python: {project.get('requires-python', '')}"]
    lines += [f"Requires-Dist: {req}" for req in project.get("dependencies", [])]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {req}; extra == "{extra}"' for req in reqs]
    return "\n".join(lines) + "\n"


def _dist_info(project: dict) -> dict[str, bytes]:
    name = f"{_dist(project)}-{version()}.dist-info"
    scripts = "".join(f"{k} = {v}\n" for k, v in project.get("scripts", {}).items())
    return {f"{name}/METADATA": _metadata(project).encode(),
            f"{name}/WHEEL": f"Wheel-Version: 1.0\nGenerator: packaging/remote/backend.py\nRoot-Is-Purelib: true\n"
                             f"Tag: {TAG}\n".encode(),
            f"{name}/entry_points.txt": f"[console_scripts]\n{scripts}".encode()}


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None) -> str:
    project, _ = _config()
    for path, data in _dist_info(project).items():
        target = Path(metadata_directory) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return f"{_dist(project)}-{version()}.dist-info"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    project, tool = _config()
    entries = {path: (ROOT / path).read_bytes() for path in files(tool)}
    info = _dist_info(project)
    entries.update(info)
    record = f"{_dist(project)}-{version()}.dist-info/RECORD"
    lines = [_record_line(path, data) for path, data in entries.items()] + [f"{record},,"]
    entries[record] = ("\n".join(lines) + "\n").encode()
    name = f"{_dist(project)}-{version()}-{TAG}.whl"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries.items():  # the dist-info last, RECORD at the very end
            item = zipfile.ZipInfo(path, _EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(item, data)
    return name
