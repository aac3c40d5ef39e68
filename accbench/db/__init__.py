"""Results across runs and stations: SQLAlchemy models, Alembic migrations, ingest and queries."""
