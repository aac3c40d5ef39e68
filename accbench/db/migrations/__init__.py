"""Alembic migrations of the accbench results database."""
