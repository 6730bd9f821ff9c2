"""Every folder of this repository that holds tests is one pytest collects (`make test` and CI take
pyproject.toml's ``testpaths``): a new app's tests must not be left out silently."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", ".git", "node_modules", "var", "static", "docs", "deploy", "packaging"}


def test_every_folder_with_tests_is_collected():
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    holding = {path.relative_to(ROOT).parts[0] for path in ROOT.rglob("test_*.py")
               if path.relative_to(ROOT).parts[0] not in SKIP and len(path.relative_to(ROOT).parts) > 1}
    assert holding - set(testpaths) == set()
