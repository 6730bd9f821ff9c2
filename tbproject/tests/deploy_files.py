"""Readers of the deployment files the tests hold to each other: the README's production table,
the systemd units (deploy/systemd/) and compose.yaml."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
PREFIX = "/opt/tb"  # where the units expect the checkout (its .venv inside)
ENV_FILE = "/etc/tb/tb.env"
#: systemd service of each process of the README table
SERVICES = {"web": "tb-web.service", "worker": "tb-worker.service", "beat": "tb-beat.service",
            "integrations": "tb-integrations.service", "devicemqtt": "tb-devicemqtt.service",
            "devicecoap": "tb-devicecoap.service"}


def readme_commands() -> dict[str, list[str]]:
    """process -> argv of the README's "Production processes" table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Production processes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| `([^`]+)` \|", section, re.MULTILINE)
    return {name: shlex.split(command) for name, command in rows}


def readme_settings() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), re.MULTILINE))


def settings_sources() -> list[Path]:
    """The modules that read settings from the environment: the settings package (tbproject/settings/) and
    the apps' conf.py modules (ai/conf.py: a Django setting of the name, else the variable)."""
    return sorted([*(ROOT / "tbproject" / "settings").glob("*.py"), *ROOT.glob("*/conf.py")])


def settings_variables() -> set[str]:
    """Every variable the settings read through tbproject/env.py (env_int("NAME", ...) and siblings)."""
    source = "\n".join(path.read_text() for path in settings_sources())
    return set(re.findall(r'env_(?:str|bool|int|float|list|secret)\(\s*"([A-Z0-9_]+)"', source))


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """section -> [(key, value), ...] in order (keys may repeat, as ExecStart does in a oneshot)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, ()) if k == key]


def unit_environment(unit: dict) -> dict[str, str]:
    """The unit's own Environment= assignments (the EnvironmentFile overrides them)."""
    env = {}
    for value in values(unit, "Service", "Environment"):
        for item in shlex.split(value):
            name, _, val = item.partition("=")
            env[name] = val
    return env


def expand(word: str, env: dict[str, str]) -> str:
    """systemd's ${NAME} and $NAME in an ExecStart word."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), word)


def exec_start(unit: dict, env: dict[str, str], root: Path = ROOT) -> list[str]:
    """The ExecStart argv with variables expanded, the install prefix replaced by ``root``."""
    [line] = values(unit, "Service", "ExecStart")
    return [expand(word, env).replace(PREFIX, str(root)) for word in shlex.split(line)]


def readme_form(argv: list[str]) -> list[str]:
    """``argv`` as the README writes it: the executable's name without the venv's path."""
    return [Path(argv[0]).name, *argv[1:]]
