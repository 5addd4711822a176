"""Settings come from the environment only when asked; importing does no work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deskops.bootstrap import build
from deskops.settings import DEFAULT_DATABASE_URL, Settings


def test_defaults_and_environment_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DESKOPS_DATABASE_URL", raising=False)
    assert Settings().database_url == DEFAULT_DATABASE_URL == "sqlite:///.deskops/deskops.db"
    monkeypatch.setenv("DESKOPS_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("DESKOPS_SQL_ECHO", "true")
    settings = Settings()
    assert (settings.database_url, settings.sql_echo) == ("postgresql://u@h/db", True)
    # An explicit override (the CLI's --db) wins over the environment.
    assert build(database_url="sqlite:///x.db").settings.database_url == "sqlite:///x.db"


def test_building_services_does_not_touch_the_database_until_used(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "deskops.db"
    services = build(database_url=f"sqlite:///{db}")
    assert not db.exists()
    with services.uow() as uow:
        assert uow.workspaces.list() == []
    assert db.exists()
    services.close()


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        _ = build(database_url="mysql://u@h/db").engine


def test_importing_every_module_does_no_work(tmp_path: Path) -> None:
    """No database, folder, model or environment is touched at import time."""
    package = Path(__file__).resolve().parents[2] / "src" / "deskops"
    modules = sorted(
        "deskops." + ".".join(p.relative_to(package).with_suffix("").parts).replace(".__init__", "")
        for p in package.rglob("*.py")
        if "migrations" not in p.parts and p.name != "__main__.py"  # __main__ exists to run
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
    env = {**os.environ, "DESKOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    subprocess.run([sys.executable, "-c", code, *modules], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []
