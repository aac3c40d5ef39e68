"""Alembic's environment for the results database: run on the connection ``accbench.db.migrate`` hands over.

On PostgreSQL a transaction-level advisory lock makes one migrator at a time: a second station that
finds a fresh database waits, then sees the schema already at head and does nothing.
"""

from __future__ import annotations

from alembic import context

from accbench.db.models import Base

MIGRATION_LOCK = 0x61636362  # "accb": the advisory lock key of schema migrations


def run_migrations_online() -> None:
    """Run the migrations on the given connection, in one transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("accbench's migrations run from accbench.db.migrate.upgrade (accbench db upgrade URL)")
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", transactional_ddl=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("accbench's migrations run online only: accbench db upgrade URL")
run_migrations_online()
