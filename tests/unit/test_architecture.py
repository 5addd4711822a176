"""The layering of docs/architecture.md, checked from the code's own imports and signatures."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "deskops"
LOWER = ("analytics", "search", "frontline", "store", "domain")
"""The engines and the record: they never reach up."""
UPPER = (
    "deskops.bootstrap",
    "deskops.simulate",
    "deskops.cli",
    "deskops.harness",
    "deskops.web",
    "deskops.operator",
    "deskops.changes",
    "deskops.mcp_server",
    "deskops.importers",
    "deskops.registry",
)


def _modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


@pytest.mark.parametrize("package", LOWER)
def test_lower_layers_never_import_upward_or_private_modules(package: str) -> None:
    bad = []
    for path in _modules(package):
        for module in _imports(path):
            parts = module.split(".")
            foreign_private = (
                parts[0] == "deskops"
                and len(parts) >= 3
                and parts[1] != package
                and any(p.startswith("_") and not p.startswith("__") for p in parts[2:])
            )
            if module.startswith(UPPER) or foreign_private:
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", LOWER)
def test_no_public_function_returns_an_untyped_dict(package: str) -> None:
    untyped = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                returns = ast.unparse(node.returns).replace(" ", "") if node.returns else ""
                if returns in ("dict[str,Any]", "Dict[str,Any]", "list[dict[str,Any]]"):
                    untyped.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} -> {returns}")
    assert not untyped, "\n".join(untyped)


def test_the_check_would_catch_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk above can fail: a planted upward import is found."""
    fake = tmp_path / "deskops" / "search"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from deskops.bootstrap import build\nfrom deskops.store._x import y\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "deskops")
    with pytest.raises(AssertionError, match=r"search/bad.py imports deskops.bootstrap"):
        test_lower_layers_never_import_upward_or_private_modules("search")


def test_engines_reach_search_only_through_its_service() -> None:
    """The front-line agent uses search's service and public text helpers, never its index internals."""
    allowed = {"deskops.search.service", "deskops.search.terms"}
    used = {
        module
        for path in _modules("frontline")
        for module in _imports(path)
        if module.startswith("deskops.search")
    }
    assert used <= allowed, used - allowed
