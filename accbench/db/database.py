"""One open results database: its engine, its schema checked against this accbench, sessions with retries.

Opening decides what a schema state allows (documented in the README's "many stations" section):

* an empty database (no tables; for SQLite also a missing file) is created at the current schema by
  the first write (``qualify --db``, ``db ingest``) or by ``accbench db upgrade URL``; a reader
  (``db query``, ``trend``) is told there is nothing in it yet;
* a database at an older schema is refused until someone runs ``accbench db upgrade URL`` (a
  shared database is migrated deliberately, never by whichever station writes first);
* a database at a newer schema than this accbench knows is refused: upgrade accbench;
* tables without Alembic's version (another program's database) are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from accbench.db.connect import DatabaseError, database_errors, make_engine, parse_url, shown, sqlite_path
from accbench.db.migrate import SchemaState, schema_state, upgrade

T = TypeVar("T")
RETRIES = 6  # a transaction that lost a race (a unique key another station just wrote, a deadlock) runs again


class Database:
    """An open results database (``url``: a URL or a SQLite file path); ``write`` creates an empty one."""

    def __init__(self, url: str | URL, *, write: bool = False):
        self.url = url if isinstance(url, URL) else parse_url(url)
        self.shown = shown(self.url)
        path = sqlite_path(self.url)
        if path is not None:
            if not write and not path.exists():
                raise DatabaseError(f"no results database at {path}: write runs into it first (accbench qualify ... "
                                    "--db, accbench db ingest)", "db")
            if write and not path.parent.is_dir():
                raise DatabaseError(f"cannot create the results database {path}: folder {path.parent} does not "
                                    "exist", "db")
        self.engine: Engine = make_engine(self.url)
        try:
            self.state = self._check(write)
        except BaseException:
            self.engine.dispose()
            raise

    def _check(self, write: bool) -> SchemaState:
        with database_errors(self.url, "opening"), self.engine.connect() as connection:
            state = schema_state(connection)
        if state.state == "empty":
            if not write:
                raise DatabaseError(f"database {self.shown} holds no accbench results yet: write runs into it "
                                    "first (accbench qualify ... --db, accbench db ingest)", "db")
            with database_errors(self.url, "creating the schema"):
                upgrade(self.engine)
            with database_errors(self.url, "opening"), self.engine.connect() as connection:
                state = schema_state(connection)
        _refuse(state, self.shown)
        return state

    def transaction(self, work: Callable[[Session], T], doing: str) -> T:
        """Run ``work(session)`` in one transaction, again when it lost a race with another writer."""
        delay = 0.05
        with database_errors(self.url, doing):
            for attempt in range(RETRIES):
                try:
                    with Session(self.engine) as session, session.begin():
                        return work(session)
                except (IntegrityError, OperationalError) as exc:
                    if attempt == RETRIES - 1 or not _transient(exc):
                        raise
                    time.sleep(delay)
                    delay *= 2
        raise AssertionError("unreachable")

    def read(self, work: Callable[[Session], T], doing: str) -> T:
        """Run ``work(session)`` reading only."""
        with database_errors(self.url, doing), Session(self.engine) as session, session.begin():
            return work(session)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _refuse(state: SchemaState, where: str, older_ok: bool = False) -> None:
    """DatabaseError for a schema this accbench must not touch (older: unless ``older_ok``)."""
    if state.state == "older" and not older_ok:
        raise DatabaseError(f"database {where} has schema {state.revision}, older than this accbench's "
                            f"{state.head}: run accbench db upgrade {where}", "db")
    if state.state == "newer":
        raise DatabaseError(f"database {where} has schema {state.revision}, newer than this accbench knows "
                            f"(up to {state.head}): upgrade accbench", "db")
    if state.state == "foreign":
        raise DatabaseError(f"database {where} holds tables but no accbench schema version: not an accbench "
                            "results database; give another URL", "db")


def upgrade_database(url: str | URL) -> tuple[SchemaState, SchemaState]:
    """Create the schema in an empty database or migrate an older one (``accbench db upgrade``); (before, after)."""
    target = url if isinstance(url, URL) else parse_url(url)
    path = sqlite_path(target)
    if path is not None and not path.parent.is_dir():
        raise DatabaseError(f"cannot create the results database {path}: folder {path.parent} does not exist", "db")
    engine = make_engine(target)
    try:
        with database_errors(target, "reading the schema version"), engine.connect() as connection:
            before = schema_state(connection)
        _refuse(before, shown(target), older_ok=True)
        if before.state == "current":
            return before, before
        with database_errors(target, "migrating the schema"):
            upgrade(engine)
        with database_errors(target, "reading the schema version"), engine.connect() as connection:
            return before, schema_state(connection)
    finally:
        engine.dispose()


def _transient(exc: DBAPIError) -> bool:
    """A conflict another writer caused (unique key, deadlock, serialisation, SQLite busy): worth a retry."""
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01") or "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()


def open_database(db: str | URL | Database, *, write: bool = False) -> tuple[Database, bool]:
    """``db`` open (a ``Database`` is used as given); and whether the caller opened it (and so closes it)."""
    if isinstance(db, Database):
        return db, False
    return Database(db, write=write), True
