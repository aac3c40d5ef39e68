"""The first schema: stations, lots, runs, instruments, events, cables, figures per rate and lane, verdicts.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    """Create every table with its keys, unique constraints and indexes."""
    op.create_table(
        "stations", _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stations"),
        sa.UniqueConstraint("name", name="uq_stations_name"))
    op.create_table(
        "lots", _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("carbon_mg_m2", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(40), nullable=True),
        sa.Column("fields_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lots"),
        sa.UniqueConstraint("name", name="uq_lots_name"))
    op.create_table(
        "runs", _id(),
        sa.Column("run_key", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(100), nullable=True),
        sa.Column("software_version", sa.String(40), nullable=False),
        sa.Column("record_schema", sa.String(40), nullable=False),
        sa.Column("record_path", sa.Text(), nullable=False),
        sa.Column("host", sa.String(200), nullable=True),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("ended", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("written_by", sa.String(20), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("station_json", sa.Text(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name="fk_runs_station_id_stations"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_key", name="uq_runs_run_key"))
    op.create_index("ix_runs_name", "runs", ["name"])
    op.create_index("ix_runs_station_id", "runs", ["station_id"])
    op.create_index("ix_runs_started", "runs", ["started"])
    op.create_table(
        "instruments", _id(),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("maker", sa.String(200), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("serial_number", sa.String(100), nullable=False),
        sa.Column("firmware", sa.String(200), nullable=False),
        sa.Column("dialect", sa.String(60), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_instruments_run_id_runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_instruments"),
        sa.UniqueConstraint("run_id", "role", name="uq_instruments_run_id"))
    op.create_index("ix_instruments_run_id", "instruments", ["run_id"])
    op.create_table(
        "events", _id(),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_events_run_id_runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("run_id", "seq", name="uq_events_run_id"))
    op.create_index("ix_events_run_id", "events", ["run_id"])
    op.create_table(
        "cables", _id(),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(100), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("carbon_mg_m2", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("lanes", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("power_w", sa.Float(), nullable=True),
        sa.Column("power_at_gbd", sa.Float(), nullable=True),
        sa.Column("predicted_power_w", sa.Float(), nullable=True),
        sa.Column("reach_m", sa.Float(), nullable=True),
        sa.Column("reach_estimate_m", sa.Float(), nullable=True),
        sa.Column("instrument_error", sa.Text(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("deembedded", sa.Boolean(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name="fk_cables_lot_id_lots"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_cables_run_id_runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_cables"),
        sa.UniqueConstraint("run_id", "serial", name="uq_cables_run_id"))
    op.create_index("ix_cables_run_id", "cables", ["run_id"])
    op.create_index("ix_cables_serial", "cables", ["serial"])
    op.create_index("ix_cables_lot_id", "cables", ["lot_id"])
    op.create_index("ix_cables_outcome", "cables", ["outcome"])
    op.create_table(
        "rate_figures", _id(),
        sa.Column("cable_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in ("gbd", "nyquist_hz", "il_db")),
        sa.Column("il_db_max", sa.Float(), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=False) for name in ("excess_il_db", "baseline_il_db")),
        sa.Column("mask_margin_db", sa.Float(), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=False) for name in ("ild_rms_db", "rl_db")),
        sa.Column("ber_measured", sa.Boolean(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in ("predicted_ber", "link_margin_db", "eye_height",
                                                                     "reach_m")),
        sa.Column("reach_upper_m", sa.Float(), nullable=True),
        sa.Column("predicted_power_w", sa.Float(), nullable=False),
        sa.Column("com_clause", sa.String(40), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=True) for name in ("com_db", "com_db_min", "erl_db", "erl_db_min")),
        sa.ForeignKeyConstraint(["cable_id"], ["cables.id"], name="fk_rate_figures_cable_id_cables",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_rate_figures"),
        sa.UniqueConstraint("cable_id", "gbd", name="uq_rate_figures_cable_id"))
    op.create_index("ix_rate_figures_cable_id", "rate_figures", ["cable_id"])
    op.create_table(
        "lane_counts", _id(),
        sa.Column("rate_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("bits", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=True),
        sa.Column("ber", sa.Float(), nullable=True),
        sa.Column("ber_upper_95", sa.Float(), nullable=False),
        sa.Column("sync_lost", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["rate_id"], ["rate_figures.id"], name="fk_lane_counts_rate_id_rate_figures",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_lane_counts"),
        sa.UniqueConstraint("rate_id", "lane", name="uq_lane_counts_rate_id"))
    op.create_index("ix_lane_counts_rate_id", "lane_counts", ["rate_id"])
    op.create_table(
        "verdicts", _id(),
        sa.Column("cable_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("comparison", sa.String(2), nullable=False),
        sa.Column("margin", sa.Float(), nullable=True),
        sa.Column("band", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["cable_id"], ["cables.id"], name="fk_verdicts_cable_id_cables", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_verdicts"),
        sa.UniqueConstraint("cable_id", "name", name="uq_verdicts_cable_id"))
    op.create_index("ix_verdicts_cable_id", "verdicts", ["cable_id"])
    op.create_index("ix_verdicts_name", "verdicts", ["name"])


def downgrade() -> None:
    """Drop every table (children first)."""
    for table in ("verdicts", "lane_counts", "rate_figures", "cables", "events", "instruments", "runs", "lots",
                  "stations"):
        op.drop_table(table)
