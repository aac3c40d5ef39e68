"""Opening the results database: a URL (or a file path for SQLite) into an engine, with one-line errors.

SQLite is the embedded default (``--db results.db`` or ``sqlite:///results.db``); PostgreSQL
(``postgresql://user@host/dbname``, driver psycopg2) serves many stations. SQLite writes take the
write lock at the start of each transaction (``BEGIN IMMEDIATE``) and wait up to ``SQLITE_WAIT_S``
for it, so two processes writing at once queue instead of failing; foreign keys are enforced and
the journal is write-ahead (readers never block the writer).
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from accbench.errors import InputError

SQLITE_WAIT_S = 60.0
PG_CONNECT_TIMEOUT_S = 10
BACKENDS = ("sqlite", "postgresql")
EXAMPLES = "give a file path (results.db), sqlite:///path/results.db or postgresql://user@host/dbname"


class DatabaseError(InputError):
    """The results database cannot be used as asked: a bad URL, unreachable, not migrated, or refused a write."""

    cause: str = ""  # the driver's reason alone, where the database said one


def parse_url(text: str) -> URL:
    """A database URL from ``text``: a URL, or a file path meaning SQLite; DatabaseError when it is neither."""
    text = str(text).strip()
    if not text:
        raise DatabaseError(f"no database given: {EXAMPLES}", "db")
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"bad database URL {text!r}: {EXAMPLES}", "db") from None
    if url.get_backend_name() not in BACKENDS:
        raise DatabaseError(f"database URL {shown(url)}: backend {url.get_backend_name()!r} is not supported; "
                            f"{EXAMPLES}", "db")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise DatabaseError(f"database URL {shown(url)}: an in-memory SQLite database keeps nothing; {EXAMPLES}",
                            "db")
    if url.drivername == "postgresql":  # no driver named: the one installed (SQLAlchemy 2.1 would take psycopg 3)
        url = url.set(drivername=f"postgresql+{_pg_driver()}")
    return url


def _pg_driver() -> str:
    """psycopg2 (accbench[postgres]) when installed, else psycopg 3 when that is."""
    for module, name in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        if importlib.util.find_spec(module) is not None:
            return name
    return "psycopg2"  # not installed: make_engine says how to install it


def shown(url: URL) -> str:
    """The URL as shown to the user and in commands it is told to run: the password hidden, no driver name."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL (None for other backends)."""
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def make_engine(url: URL) -> Engine:
    """An engine for ``url``: SQLite with the write lock taken up front, PostgreSQL with a connect timeout."""
    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT_S})
            _sqlite_transactions(engine)
            return engine
        return create_engine(url, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}, pool_pre_ping=True)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        raise DatabaseError(f"database URL {shown(url)}: its driver is not installed ({exc}); for PostgreSQL "
                            "install psycopg2: pip install 'accbench[postgres]'", "db") from None


def _sqlite_transactions(engine: Engine) -> None:
    """SQLAlchemy's recipe for SQLite transactions: the driver's own BEGIN off, ``BEGIN IMMEDIATE`` on begin."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_WAIT_S * 1000)}")
        _wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _wal(cursor) -> None:
    """Switch to WAL, waiting while another connection holds the lock: SQLite answers a journal-mode change
    "database is locked" at once, without its busy handler, while another process creates the schema."""
    import sqlite3

    deadline = time.monotonic() + SQLITE_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def reason(exc: BaseException) -> str:
    """The driver's reason for a database error, on one line (a DatabaseError's own cause)."""
    if getattr(exc, "cause", None):
        return exc.cause
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text[:300] or type(orig).__name__


@contextlib.contextmanager
def database_errors(url: URL, doing: str) -> Iterator[None]:
    """Turn SQLAlchemy's errors while ``doing`` into one DatabaseError line naming the database and the cause."""
    try:
        yield
    except SQLAlchemyError as exc:
        why = reason(exc) + (_hint(reason(exc)) if isinstance(exc, DBAPIError) else "")
        error = DatabaseError(f"database {shown(url)}: {doing} failed: {why}", "db")
        error.cause = why
        raise error from None


def _hint(text: str) -> str:
    low = text.lower()
    if "does not exist" in low and "database" in low:
        return "; create it first (createdb NAME) or give another URL"
    if "could not connect" in low or "connection refused" in low or "timeout expired" in low:
        return "; check the host, port and that the server runs"
    if "password authentication failed" in low or "no password supplied" in low:
        return "; check the user and password in the URL"
    if "unable to open database file" in low:
        return "; check the folder exists and is writable"
    return ""
