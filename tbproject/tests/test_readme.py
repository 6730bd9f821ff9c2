"""The README's settings table must stay true to tbproject/settings.py."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_of_the_settings_is_documented_in_the_readme():
    settings_src = (ROOT / "tbproject" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|float|list|secret)\(\s*"([A-Z0-9_]+)"', settings_src))
    table = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), re.MULTILINE))
    assert read, "no env_* calls found in settings.py"
    assert read - table == set(), "add these to the README settings table"
    assert table - read == set(), "the README documents variables settings.py no longer reads"
