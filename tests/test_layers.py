"""The layers of docs/architecture.md hold: the engine imports no framework, and each Django
app imports only the engine and the apps above it in the cycle."""

import ast
from pathlib import Path

import pytest

import citycheck

PACKAGE = Path(citycheck.__file__).parent
# docs/architecture.md, top to bottom: an app may import the ones before it.
APPS = [
    "core",
    "places",
    "accounts",
    "indicators",
    "collection",
    "assessment",
    "survey",
    "spatial",
    "diagnosis",
    "renewal",
    "monitoring",
    "reports",
    "supervision",
    "portal",
    "exchange",
]


def imported_packages(path: Path) -> set[str]:
    """The citycheck subpackages (and third-party top-level packages) a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(PACKAGE).parts[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = here[: len(here) - node.level + 1]
                names.add(".".join(("citycheck", *base, *(node.module or "").split(".")[:1])))
            elif node.module:
                names.add(node.module)
    return {
        name.split(".")[1] if name.startswith("citycheck.") else name.split(".")[0]
        for name in names
        if name != "citycheck"
    }


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_engine_imports_no_framework(path):
    imported = imported_packages(path)
    assert not imported & {"django", "rest_framework", "celery", *APPS}


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_the_apps_above_it(app):
    below = set(APPS[APPS.index(app) + 1 :])
    offending = {
        str(path.relative_to(PACKAGE)): sorted(imported_packages(path) & below)
        for path in modules(app)
        if imported_packages(path) & below
    }
    assert offending == {}
