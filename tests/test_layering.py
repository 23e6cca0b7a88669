"""The import rules of docs/ARCHITECTURE.md that a review could let slip, read from the source:
the HTTP client and the adapters do not import each other, not even through a third module."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_file(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def direct_imports(module: str) -> set[str]:
    """The ``attrap`` modules ``module`` imports, wherever in the file (lazy imports too)."""
    path = module_file(module)
    assert path is not None, module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*parts, *([node.module] if node.module else [])])
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if module_file(name) and name.startswith("attrap")}
    return found


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        for imported in direct_imports(module) - seen:
            seen.add(imported)
            todo.append(imported)
    return seen


def adapters_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for path in (SRC / "attrap" / "adapters").rglob("*.py")
    )


def test_the_reading_of_imports_sees_lazy_and_package_imports():
    assert "attrap.http" in direct_imports("attrap.service")
    assert "attrap.store.pdfs" in direct_imports("attrap.http")
    assert "attrap.adapters.engines" in direct_imports("attrap.adapters.maintain")
    assert len(adapters_modules()) > 5


def test_http_and_adapters_do_not_import_each_other():
    assert not {m for m in reachable("attrap.http") if m.startswith("attrap.adapters")}
    for module in adapters_modules():
        assert "attrap.http" not in reachable(module), module
