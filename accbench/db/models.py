"""The results database's tables as SQLAlchemy models: stations, lots, runs, cables, figures per rate and lane,
verdicts, instruments and events.

One row per thing the record holds, with SI units in the column names, so a query over many runs and
stations needs no JSON parsing; each cable also keeps its whole typed result as JSON (``result_json``)
so nothing the record says is lost. Times are UTC, stored without a zone. The schema is created and
changed only by the Alembic migrations of ``accbench.db.migrations`` (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}
"""Constraint names fixed by convention, so migrations can name what they change on every backend."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Station(Base):
    """A bench that writes runs: its id (the bench file's name or ``--station-id``) and how it describes itself."""

    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    first_seen: Mapped[datetime] = mapped_column(DateTime)


class Lot(Base):
    """A wire lot: its id, surface carbon and grade as the first plan naming it gave them (all fields as JSON)."""

    __tablename__ = "lots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    carbon_mg_m2: Mapped[float] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(40))
    fields_json: Mapped[str] = mapped_column(Text)


class Run(Base):
    """One run record: where, by whom, with which software and instruments, its status and lot summary."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(80), unique=True)  # the record's run id: ingest is idempotent on it
    name: Mapped[str] = mapped_column(String(200), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    operator: Mapped[str | None] = mapped_column(String(100))
    software_version: Mapped[str] = mapped_column(String(40))
    record_schema: Mapped[str] = mapped_column(String(40))
    record_path: Mapped[str] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(200))
    started: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))
    written_by: Mapped[str] = mapped_column(String(20))  # "qualify" (live, as the run went) or "ingest"
    plan_json: Mapped[str] = mapped_column(Text)
    station_json: Mapped[str] = mapped_column(Text)
    summary_json: Mapped[str | None] = mapped_column(Text)
    station: Mapped[Station] = relationship()
    cables: Mapped[list[Cable]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                               passive_deletes=True)


class Instrument(Base):
    """The identity (*IDN?) of one instrument of a run, by role."""

    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("run_id", "role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    maker: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(100))
    serial_number: Mapped[str] = mapped_column(String(100))
    firmware: Mapped[str] = mapped_column(String(200))
    dialect: Mapped[str | None] = mapped_column(String(60))


class Event(Base):
    """One event of a run's record (time as written, text), in record order."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)


class Cable(Base):
    """One cable of one run: lot, length, outcome and the headline figures; the whole typed result as JSON."""

    __tablename__ = "cables"
    __table_args__ = (UniqueConstraint("run_id", "serial"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the run
    serial: Mapped[str] = mapped_column(String(100), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    carbon_mg_m2: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    lanes: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10), index=True)
    power_w: Mapped[float | None] = mapped_column(Float)
    power_at_gbd: Mapped[float | None] = mapped_column(Float)
    predicted_power_w: Mapped[float | None] = mapped_column(Float)
    reach_m: Mapped[float | None] = mapped_column(Float)
    reach_estimate_m: Mapped[float | None] = mapped_column(Float)
    instrument_error: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    deembedded: Mapped[bool] = mapped_column(Boolean)
    written_at: Mapped[datetime] = mapped_column(DateTime)
    result_json: Mapped[str] = mapped_column(Text)
    run: Mapped[Run] = relationship(back_populates="cables")
    lot: Mapped[Lot] = relationship()
    rates: Mapped[list[RateFigures]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    verdicts: Mapped[list[Verdict]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class RateFigures(Base):
    """A cable's figures at one symbol rate: IL at Nyquist (with the mask's limit there), link model, COM/ERL."""

    __tablename__ = "rate_figures"
    __table_args__ = (UniqueConstraint("cable_id", "gbd"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cable_id: Mapped[int] = mapped_column(ForeignKey("cables.id", ondelete="CASCADE"), index=True)
    gbd: Mapped[float] = mapped_column(Float)
    nyquist_hz: Mapped[float] = mapped_column(Float)
    il_db: Mapped[float] = mapped_column(Float)
    il_db_max: Mapped[float | None] = mapped_column(Float)  # the plan's IL mask at this Nyquist, where it reaches
    excess_il_db: Mapped[float] = mapped_column(Float)
    baseline_il_db: Mapped[float] = mapped_column(Float)
    mask_margin_db: Mapped[float | None] = mapped_column(Float)
    ild_rms_db: Mapped[float] = mapped_column(Float)
    rl_db: Mapped[float] = mapped_column(Float)
    ber_measured: Mapped[bool] = mapped_column(Boolean)
    predicted_ber: Mapped[float] = mapped_column(Float)
    link_margin_db: Mapped[float] = mapped_column(Float)
    eye_height: Mapped[float] = mapped_column(Float)
    reach_m: Mapped[float] = mapped_column(Float)
    reach_upper_m: Mapped[float | None] = mapped_column(Float)
    predicted_power_w: Mapped[float] = mapped_column(Float)
    com_clause: Mapped[str | None] = mapped_column(String(40))
    com_db: Mapped[float | None] = mapped_column(Float)
    com_db_min: Mapped[float | None] = mapped_column(Float)
    erl_db: Mapped[float | None] = mapped_column(Float)
    erl_db_min: Mapped[float | None] = mapped_column(Float)
    lanes: Mapped[list[LaneCount]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class LaneCount(Base):
    """The BERT's count on one lane at one rate."""

    __tablename__ = "lane_counts"
    __table_args__ = (UniqueConstraint("rate_id", "lane"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rate_id: Mapped[int] = mapped_column(ForeignKey("rate_figures.id", ondelete="CASCADE"), index=True)
    lane: Mapped[int] = mapped_column(Integer)
    bits: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[int | None] = mapped_column(BigInteger)
    ber: Mapped[float | None] = mapped_column(Float)
    ber_upper_95: Mapped[float] = mapped_column(Float)
    sync_lost: Mapped[bool] = mapped_column(Boolean)


class Verdict(Base):
    """One gate's verdict on one cable: value, limit, margin, band, outcome."""

    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("cable_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cable_id: Mapped[int] = mapped_column(ForeignKey("cables.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    measures: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    limit_value: Mapped[float | None] = mapped_column(Float)
    comparison: Mapped[str] = mapped_column(String(2))
    margin: Mapped[float | None] = mapped_column(Float)
    band: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text)
