"""The schema's version: Alembic's migrations in ``accbench.db.migrations``, run from code (no alembic.ini).

``schema_state`` says where a database stands (empty, current, older, newer, foreign); ``upgrade``
brings it to this accbench's head. The Alembic configuration is built here and handed the open
connection, so the migrations run on the same engine (and SQLite locking) as every write.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from accbench.db.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration in code: the migrations folder, and the connection to run them on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this accbench knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> list[str]:
    """Every revision of the migrations, newest first."""
    return [s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()]


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this accbench: ``state`` and the revision it is at."""

    state: str  # "empty", "current", "older", "newer", "foreign"
    revision: str | None
    head: str


def schema_state(connection: Connection) -> SchemaState:
    """The state of the schema on ``connection`` (reads only)."""
    head = head_revision()
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        ours = set(Base.metadata.tables)
        tables = set(inspect(connection).get_table_names())
        return SchemaState("foreign" if tables & ours else "empty", None, head)
    if current == head:
        return SchemaState("current", current, head)
    return SchemaState("older" if current in known_revisions() else "newer", current, head)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` to ``revision`` in one transaction (PostgreSQL: one migrator at a time)."""
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
