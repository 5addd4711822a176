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

import pytest
import sqlalchemy as sa

from deskops.bootstrap import Services, build

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
    yield base
    cluster.stop()


_database_numbers = itertools.count()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the throwaway server."""
    name = f"deskops_test_{next(_database_numbers)}"
    engine = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
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
def services(db_url: str) -> Iterator[Services]:
    built = build(database_url=db_url)
    yield built
    built.close()


@pytest.fixture
def sqlite_services(sqlite_url: str) -> Iterator[Services]:
    built = build(database_url=sqlite_url)
    yield built
    built.close()
