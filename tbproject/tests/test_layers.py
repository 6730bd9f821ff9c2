"""The layers of docs/architecture.md, checked over the source: an app imports only the apps below
it and tbproject's shared helpers; the helpers import only tenants/. Tests are left out (they
drive the whole stack), and so are migrations."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Lowest first: each app may import the ones before it.
LAYERS = ("tenants", "devices", "dashboards", "roles", "branding", "oauth", "signup", "vault", "ai", "converters",
          "integrations", "rulechains", "transports",
          "scheduler", "reports", "notifications", "calculated", "audit", "transfer", "edges")
#: tbproject modules every app may use; they themselves stand on tenants/ only.
HELPERS = ("tbproject.api", "tbproject.admin", "tbproject.registry", "tbproject.clock", "tbproject.env",
           "tbproject.gc_tuning", "tbproject.conf", "tbproject.process_cache", "tbproject.metrics", "tbproject.backoff",
           "tbproject.db", "tbproject.asgi_body", "tbproject.jsontext", "tbproject.text", "tbproject.redis_client",
           "tbproject.waits", "tbproject.deferred", "tbproject.outbound", "tbproject.secret_refs")


def imported(tree: ast.AST):
    """(line, dotted name) of every absolute import, late ones inside functions included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if "." in node.module:
                yield node.lineno, node.module
            else:  # from a package, each name may be a module of its own: "from tbproject import clock"
                yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _helper(name: str) -> bool:
    return any(name == h or name.startswith(f"{h}.") for h in HELPERS)


def violations(root: Path = ROOT) -> list[str]:
    """``path:line imports name`` for each import against the layers under ``root``."""
    found = []
    for path in sorted(p for app in (*LAYERS, "tbproject") for p in (root / app).rglob("*.py")):
        parts = path.relative_to(root).parts
        if "tests" in parts or "migrations" in parts:
            continue
        module = ".".join(parts).removesuffix(".py").removesuffix(".__init__")
        if parts[0] == "tbproject" and not _helper(module):
            continue  # the project itself (settings, urls, asgi, commands) sits on top of everything
        allowed = LAYERS[:1] if parts[0] == "tbproject" else LAYERS[:LAYERS.index(parts[0]) + 1]
        for line, name in imported(ast.parse(path.read_text(), str(path))):
            top = name.split(".")[0]
            if (top in LAYERS and top not in allowed) or (top == "tbproject" and not _helper(name)):
                found.append(f"{'/'.join(parts)}:{line} imports {name}")
    return found


def test_it_finds_no_import_against_the_layers():
    assert violations() == []


def test_it_fails_on_an_import_against_the_layers(tmp_path):
    files = {
        "devices/bad.py": "from rulechains import services\n",
        "devices/late.py": "def f():\n    import integrations.models\n",
        "converters/x/y.py": "from integrations.downlinks import submit\n",
        "tenants/up.py": "from devices.models import Device\n",
        "tbproject/clock.py": "from converters import engine\n",
        "integrations/ok.py": "from converters import engine\nfrom tenants.models import Tenant\n"
                              "import tbproject.api\nfrom tbproject import clock\n",
        "integrations/project.py": "from tbproject import settings\n",
        "integrations/tests/test_any.py": "from rulechains import engine\n",
        "tbproject/urls.py": "from rulechains import engine\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == [
        "converters/x/y.py:1 imports integrations.downlinks",
        "devices/bad.py:1 imports rulechains.services",
        "devices/late.py:2 imports integrations.models",
        "integrations/project.py:1 imports tbproject.settings",
        "tbproject/clock.py:1 imports converters.engine",
        "tenants/up.py:1 imports devices.models",
    ]
