"""Shared fixtures: real SQLite files and a real, throwaway PostgreSQL cluster."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deskops.bootstrap import Services, build
from hashing_embedder import HashingEmbedder
from model_servers import ModelServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test: no DESKOPS_* or OTLP endpoint variable or .env leaks in, the working folder is its own
    (so the default data folder is too), and no request reaches a model provider: PydanticAI refuses them
    (``ALLOW_MODEL_REQUESTS``) except in tests that talk to a local server (``model_server``)."""
    import pydantic_ai.models

    from deskops.settings import Settings

    for name in [n for n in os.environ if n.startswith("DESKOPS_") and n != "DESKOPS_TEST_REQUIRE_POSTGRES"]:
        monkeypatch.delenv(name)
    for name in [n for n in os.environ if n.startswith("OTEL_EXPORTER_OTLP_")]:
        monkeypatch.delenv(name)  # traces go to no collector the test did not start
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pydantic_ai.models, "ALLOW_MODEL_REQUESTS", False)


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """A scripted model provider on 127.0.0.1 (``tests/model_servers.py``); model requests are allowed
    for this test only (the test points its model at this server)."""
    from pydantic_ai.models import override_allow_model_requests

    server = ModelServer()
    try:
        with override_allow_model_requests(True):
            yield server
    finally:
        server.close()


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Cluster:
    """A PostgreSQL cluster in a temporary folder, on a free port, removed afterwards."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="deskops-pg-"))
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        data = str(self.root / "data")
        assert self.initdb and self.pg_ctl
        self._run(self.initdb, "-D", data, "--auth=trust", "--username=postgres", "--encoding=UTF8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.pg_ctl, "-D", data, "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        assert self.pg_ctl
        try:
            self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Base URL of a throwaway PostgreSQL server; skips (saying why) without its binaries."""
    if not (_pg_bin("initdb") and _pg_bin("pg_ctl")):
        reason = "PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's postgresql package"
        if os.environ.get("DESKOPS_TEST_REQUIRE_POSTGRES"):
            pytest.fail(reason + " (DESKOPS_TEST_REQUIRE_POSTGRES is set, as in CI)")
        pytest.skip(reason)
    cluster = _Cluster()
    try:
        base = cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.stop()
        pytest.fail(f"could not start PostgreSQL: {exc.stderr}")
    # One migrated database that every test's database is copied from: migrating each is slower.
    _create_database(base, TEMPLATE)
    from deskops.store.engine import make_engine, migrate

    engine = make_engine(f"{base}/{TEMPLATE}")
    migrate(engine)
    engine.dispose()
    yield base
    cluster.stop()


TEMPLATE = "deskops_template"


def _create_database(base: str, name: str, template: str | None = None) -> None:
    engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    engine.dispose()


_database_numbers = itertools.count()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh database on the throwaway server, with the schema at the newest revision and no rows."""
    name = f"deskops_test_{next(_database_numbers)}"
    _create_database(pg_server, name, template=TEMPLATE)
    return f"{pg_server}/{name}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'deskops.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'deskops.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Iterator[Services]:
    built = build(database_url=db_url, data_dir=tmp_path / "data", embedder=HashingEmbedder())
    yield built
    built.close()


@pytest.fixture
def sqlite_services(sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    built = build(database_url=sqlite_url, data_dir=tmp_path / "data", embedder=HashingEmbedder())
    yield built
    built.close()


@pytest.fixture(scope="session")
def real_embedder() -> Any:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session (tests that exist to use it)."""
    from deskops.search.dense import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()
