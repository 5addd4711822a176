"""Engines and schema migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from deskops.errors import InvalidInput, Unavailable

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite statement waits for another connection's write lock before failing."""


def parse_url(url: str) -> sa.URL:
    """``url`` parsed; InvalidInput when it is not a database URL at all."""
    try:
        return sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise InvalidInput(
            f"{url!r} is not a database URL: use sqlite:///PATH or postgresql://user@host/db"
        ) from None


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created and pragmas set."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Unavailable(f"cannot create the database folder {folder}: {exc.strerror}") from None
        engine = sa.create_engine(parsed, echo=echo)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, echo=echo, pool_pre_ping=True)
    raise InvalidInput(f"unsupported database {url!r}: use sqlite:///PATH or postgresql://...")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only power loss can
    # drop the last transactions, never corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there).

    A database that cannot be reached or opened is an ``Unavailable`` error naming it
    (password hidden) and the driver's first line of explanation.
    """
    try:
        with engine.begin() as connection:
            if schema_revision(connection) == head_revision():
                return
            command.upgrade(_alembic_config(connection), "head")
    except sa.exc.DBAPIError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise Unavailable(f"cannot open the database {shown}: {reason}") from None


def schema_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of deskops."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
