"""Engines and transactions: SQLite (WAL) by default, PostgreSQL by URL, nothing else differs.

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so that two writers queue on the
busy timeout instead of failing when a read transaction would be upgraded; reads start a
plain (deferred) transaction and never block writers in WAL mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql as pg_insert
from sqlalchemy.dialects import sqlite as sqlite_insert
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "sqlite_begin"


def make_engine(url: str, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, WAL mode switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: everything in it is committed together or not at all."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            yield connection


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (a consistent snapshot)."""
    with engine.connect() as connection, connection.begin():
        yield connection


def insert_on_conflict(
    connection: Connection, table: Table
) -> pg_insert.Insert | sqlite_insert.Insert:
    """The dialect's INSERT that takes ON CONFLICT clauses (SQLite and PostgreSQL)."""
    name = connection.dialect.name
    if name == "postgresql":
        return pg_insert.insert(table)
    if name == "sqlite":
        return sqlite_insert.insert(table)
    raise NotImplementedError(
        f"database dialect {name!r}: the store supports sqlite and postgresql"
    )
