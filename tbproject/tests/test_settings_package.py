"""The settings package (tbproject/settings/): each module sets its own settings, none set twice (a later
star import would silently replace an earlier value), all of them reach ``tbproject.settings``, which
Django reads, and each module stays small."""

import ast
import importlib
from pathlib import Path

import tbproject.settings

PACKAGE = Path(tbproject.settings.__file__).parent


def assigned(path: Path) -> set[str]:
    """UPPERCASE names a module binds at top level itself: assignments, and imports from outside the package."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.If):  # DATABASES = ... under "if DATABASE_URL:"
            names |= {t.id for sub in ast.walk(node) if isinstance(sub, ast.Assign)
                      for t in sub.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and not (node.module or "").startswith(
                "tbproject.settings"):
            names |= {alias.asname or alias.name for alias in node.names}
    return {name for name in names if name.isupper()}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")


def test_no_setting_is_set_in_two_modules():
    owner = {}
    for path in modules():
        for name in assigned(path):
            assert name not in owner, f"{name} is set in {owner[name]} and {path.name}"
            owner[name] = path.name
    assert {"INSTALLED_APPS", "DATABASES", "CACHES", "JWT_ISSUER", "LOGGING", "UNFOLD"} <= set(owner)


def test_every_setting_of_every_module_reaches_the_package_with_its_value():
    for path in modules():
        module = importlib.import_module(f"tbproject.settings.{path.stem}")
        for name in assigned(path):
            assert getattr(tbproject.settings, name) is getattr(module, name), f"{path.name}: {name}"


def test_every_module_is_imported_by_the_package():
    imported = {node.module for node in ast.parse((PACKAGE / "__init__.py").read_text()).body
                if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert imported == {path.stem for path in modules()}


def test_the_modules_stay_small():
    for path in [*modules(), PACKAGE / "__init__.py"]:
        assert len(path.read_text().splitlines()) < 200, path.name


def test_the_base_directory_is_the_checkout():
    assert tbproject.settings.BASE_DIR == PACKAGE.parents[1]
    assert (tbproject.settings.BASE_DIR / "manage.py").is_file()
