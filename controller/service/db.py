"""Engines and transactions: SQLite (WAL) by default, PostgreSQL by URL, nothing else differs.

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so that two writers queue on the
busy timeout instead of failing when a read transaction would be upgraded; reads start a
plain (deferred) transaction and never block writers in WAL mode.

A stalled database must not take the readers down with it (:class:`Limits`):

- every wait is bounded: SQLite's busy timeout, PostgreSQL's ``statement_timeout`` and
  ``lock_timeout`` (set on each new connection), the connect timeout and the pool's timeout;
- writes hold at most ``write_slots`` connections at once (:class:`WriteGate`); a writer
  that finds no slot within ``write_wait_s`` gets :class:`DatabaseBusy`, so writes queued on
  a lock never take the connections or threads the reads need;
- a failure of the database itself becomes :class:`DatabaseBusy` (a lock or timeout: retry
  soon) or :class:`DatabaseUnavailable` (it does not answer), which the API answers as
  ``503`` with ``Retry-After`` and the reason (:func:`unavailable`);
- :class:`DatabaseState` remembers the last failure and the writers waiting, read by
  ``/health`` without touching the database.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql as pg_insert
from sqlalchemy.dialects import sqlite as sqlite_insert
from sqlalchemy.engine import make_url

from sites.errors import MicrogridError

_BEGIN_OPTION = "sqlite_begin"
RECENT_FAILURE_S = 30.0
"""How long a database failure is shown by ``/health`` after the last one."""


@dataclass(frozen=True)
class Limits:
    """The bounds on every wait for the database (see the module's docstring)."""

    busy_timeout_s: float = 5.0
    """SQLite: how long a write waits for another writer's lock (retried with back-off by
    SQLite's busy handler); PostgreSQL: ``lock_timeout``."""
    statement_timeout_s: float = 60.0
    """PostgreSQL ``statement_timeout`` (a plan's rows are written in a few statements)."""
    connect_timeout_s: float = 2.0
    pool_timeout_s: float = 2.0
    write_slots: int = 8
    write_wait_s: float = 10.0


class DatabaseUnavailable(MicrogridError):
    """The database did not answer (down, unreachable, read-only, disk full)."""

    code = "database_unavailable"
    retry_after_s = 10

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DatabaseBusy(DatabaseUnavailable):
    """The database answers but a lock or timeout stopped this statement: retry soon."""

    code = "database_busy"
    retry_after_s = 2


@dataclass
class DatabaseState:
    """What this process saw of the database lately: read by ``/health`` without a query."""

    last_failure: DatabaseUnavailable | None = None
    last_failure_at: float = 0.0
    last_failure_in_write: bool = False
    last_success_at: float = field(default_factory=time.monotonic)
    last_write_success_at: float = field(default_factory=time.monotonic)
    writers_waiting: int = 0
    _waits: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, problem: DatabaseUnavailable, writing: bool = False) -> None:
        self.last_failure, self.last_failure_at = problem, time.monotonic()
        self.last_failure_in_write = writing

    def succeeded(self, writing: bool = False) -> None:
        self.last_success_at = time.monotonic()
        if writing:
            self.last_write_success_at = self.last_success_at

    def recent_failure(self) -> DatabaseUnavailable | None:
        """The last failure, while it lasts: a lock or timeout (busy) for
        :data:`RECENT_FAILURE_S`; a database that did not answer until it answers again; one
        that refused a write (read-only, disk full) until a write succeeds, however long that
        takes (reads going on meanwhile say nothing of writes)."""
        if self.last_failure is None:
            return None
        if isinstance(self.last_failure, DatabaseBusy):
            if time.monotonic() - self.last_failure_at > RECENT_FAILURE_S:
                return None
            return self.last_failure
        if self.last_failure_in_write:
            return None if self.last_write_success_at > self.last_failure_at else self.last_failure
        if self.last_success_at > self.last_failure_at:
            return None
        if time.monotonic() - self.last_failure_at > RECENT_FAILURE_S:
            return None
        return self.last_failure

    def start_wait(self) -> object:
        token = object()
        with self._lock:
            self._waits[id(token)] = time.monotonic()
            self.writers_waiting = len(self._waits)
        return token

    def end_wait(self, token: object) -> None:
        with self._lock:
            self._waits.pop(id(token), None)
            self.writers_waiting = len(self._waits)

    def longest_write_wait_s(self) -> float:
        with self._lock:
            oldest = min(self._waits.values(), default=None)
        return 0.0 if oldest is None else time.monotonic() - oldest


@dataclass
class WriteGate:
    """At most ``slots`` write transactions at once; the others wait up to ``wait_s``."""

    slots: int
    wait_s: float
    semaphore: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.semaphore = threading.BoundedSemaphore(self.slots)


@dataclass
class _EngineExtras:
    limits: Limits
    gate: WriteGate
    state: DatabaseState


_EXTRAS: weakref.WeakKeyDictionary[Engine, _EngineExtras] = weakref.WeakKeyDictionary()


def _extras(engine: Engine) -> _EngineExtras:
    found = _EXTRAS.get(engine)
    if found is None:  # an engine made elsewhere (a tool): default limits
        limits = Limits()
        found = _EXTRAS.setdefault(
            engine,
            _EngineExtras(
                limits, WriteGate(limits.write_slots, limits.write_wait_s), DatabaseState()
            ),
        )
    return found


def state(engine: Engine) -> DatabaseState:
    return _extras(engine).state


def limits(engine: Engine) -> Limits:
    return _extras(engine).limits


def make_engine(url: str, sqlite_synchronous: str = "FULL", bounds: Limits | None = None) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, WAL mode switched on."""
    bounds = bounds or Limits()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = _postgres_engine(url, bounds)
    else:
        engine = _sqlite_engine(url, sqlite_synchronous, bounds)
    _EXTRAS[engine] = _EngineExtras(
        bounds, WriteGate(bounds.write_slots, bounds.write_wait_s), DatabaseState()
    )
    return engine


def _postgres_engine(url: str, bounds: Limits) -> Engine:
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=30,
        pool_timeout=bounds.pool_timeout_s,
        connect_args={"connect_timeout": max(1, round(bounds.connect_timeout_s))},
    )
    statement_ms = round(bounds.statement_timeout_s * 1000)
    lock_ms = round(bounds.busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {statement_ms}")
            cursor.execute(f"SET lock_timeout = {lock_ms}")
        dbapi_connection.commit()

    return engine


def _sqlite_engine(url: str, sqlite_synchronous: str, bounds: Limits) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    busy_ms = round(bounds.busy_timeout_s * 1000)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": bounds.busy_timeout_s},
        pool_size=10,
        max_overflow=40,
        pool_timeout=bounds.pool_timeout_s,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


_BUSY_WORDS = ("database is locked", "database table is locked", "lock timeout", "canceling")
_BUSY_SQLSTATES = {"55P03", "57014", "40P01", "40001"}
"""PostgreSQL: lock not available, statement timeout (query cancelled), deadlock,
serialization failure."""
_STATE_SQLSTATES = {
    "25006": "is read-only",
    "53100": "disk full",
    "53200": "out of memory",
    "53300": "refuses connections (too many)",
    "57P01": "shut down by its administrator",
    "57P03": "not accepting connections yet",
}
"""PostgreSQL errors about the server's state, not the statement (psycopg raises some as
``InternalError``: a read-only transaction on a standby, a full disk)."""


def classify(exc: BaseException) -> DatabaseUnavailable | None:
    """The database failure ``exc`` is, with its reason; ``None``: not a database failure."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection free in time
        return DatabaseBusy(f"database busy: no connection free within the pool timeout ({exc})")
    original = getattr(exc, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    if not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return DatabaseUnavailable(f"database connection lost: {_first_line(exc)}")
        if isinstance(exc, sa_exc.DBAPIError) and sqlstate in _STATE_SQLSTATES:
            return DatabaseUnavailable(f"database {_STATE_SQLSTATES[sqlstate]}: {_first_line(exc)}")
        return None
    message = _first_line(exc)
    lowered = message.lower()
    if sqlstate in _BUSY_SQLSTATES or any(word in lowered for word in _BUSY_WORDS):
        return DatabaseBusy(f"database busy: {message}")
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return DatabaseUnavailable(f"database is read-only: {message}")
    if "disk" in lowered and "full" in lowered:
        return DatabaseUnavailable(f"database disk full: {message}")
    if "disk i/o error" in lowered:  # SQLite: a write the disk refused (a file-size limit)
        return DatabaseUnavailable(f"database disk write failed (full or failing): {message}")
    return DatabaseUnavailable(f"database unavailable: {message}")


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return (text[0] if text else type(original).__name__)[:300]


@contextmanager
def _noting(engine: Engine, writing: bool = False) -> Iterator[None]:
    """Database failures in the block become :class:`DatabaseUnavailable` and are noted."""
    extras = _extras(engine)
    try:
        yield
    except Exception as exc:
        problem = classify(exc)
        if problem is None:
            raise
        extras.state.failed(problem, writing)
        if problem is exc:
            raise
        raise problem from exc
    extras.state.succeeded(writing)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: everything in it is committed together or not at all.

    Waits at most the engine's ``write_wait_s`` for a write slot, and SQLite's busy timeout
    (PostgreSQL's lock timeout) for the lock; past either, :class:`DatabaseBusy`. The write
    counts in :attr:`DatabaseState.writers_waiting` until it has committed."""
    extras = _extras(engine)
    gate = extras.gate
    wait = extras.state.start_wait()
    try:
        if not gate.semaphore.acquire(timeout=gate.wait_s):
            problem = DatabaseBusy(
                f"database busy: {extras.state.writers_waiting} writes are waiting for the "
                f"store's write lock; this one did not get it within {gate.wait_s:g} s"
            )
            extras.state.failed(problem)
            raise problem
        try:
            with _noting(engine, writing=True), engine.connect() as connection:
                connection = connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
                with connection.begin():
                    yield connection
        finally:
            gate.semaphore.release()
    finally:
        extras.state.end_wait(wait)


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (a consistent snapshot)."""
    with _noting(engine), engine.connect() as connection, connection.begin():
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
