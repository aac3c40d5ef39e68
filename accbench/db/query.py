"""Finding cables in the results database (``accbench db query``): by lot, serial, station, date and verdict.

Each match is one cable of one run (a cable qualified twice appears twice), oldest run first, as a
plain dict for the table and ``--json``: where and when it was measured, its headline figures and the
gates it did not pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from accbench.bench.results import OUTCOMES
from accbench.db.database import Database
from accbench.db.models import Cable, Lot, Run, Station
from accbench.db.store import utc
from accbench.errors import FieldError, InputError


@dataclass(frozen=True)
class Filters:
    """What to match; None matches everything. ``since``/``until`` bound the run's start (UTC), both inclusive."""

    lot: str | None = None
    serial: str | None = None
    station: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    verdict: str | None = None
    run: str | None = None

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in OUTCOMES:
            raise FieldError(f"verdict {self.verdict!r}: use one of {', '.join(OUTCOMES)}", "verdict")


def parse_moment(text: str | None, field: str, end: bool = False) -> datetime | None:
    """A date (2026-11-30) or time (2026-11-30T08:00, UTC) as a naive UTC datetime; a date ends its day when ``end``."""
    if text is None:
        return None
    text = text.strip()
    fix = f"{field} {text!r} is not a date: give YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise FieldError(fix, field) from None
        moment = datetime(day.year, day.month, day.day)
        return moment + timedelta(days=1) - timedelta(microseconds=1) if end else moment
    try:
        return utc(text)
    except InputError:
        raise FieldError(fix, field) from None


def filtered(statement: Select, filters: Filters) -> Select:
    """``statement`` (over cables joined to runs, stations and lots) restricted by ``filters``."""
    if filters.lot is not None:
        statement = statement.where(Lot.name == filters.lot)
    if filters.serial is not None:
        statement = statement.where(Cable.serial == filters.serial)
    if filters.station is not None:
        statement = statement.where(Station.name == filters.station)
    if filters.run is not None:
        statement = statement.where(Run.name == filters.run)
    if filters.since is not None:
        statement = statement.where(Run.started >= filters.since)
    if filters.until is not None:
        statement = statement.where(Run.started <= filters.until)
    if filters.verdict is not None:
        statement = statement.where(Cable.outcome == filters.verdict)
    return statement


def cables_statement(filters: Filters) -> Select:
    """The cables matching ``filters``, with their run, station and lot, oldest run first."""
    statement = (select(Cable).join(Run, Cable.run_id == Run.id).join(Station, Run.station_id == Station.id)
                 .join(Lot, Cable.lot_id == Lot.id)
                 .options(selectinload(Cable.rates), selectinload(Cable.verdicts),
                          selectinload(Cable.run).selectinload(Run.station), selectinload(Cable.lot))
                 .order_by(Run.started, Run.id, Cable.position))
    return filtered(statement, filters)


def cable_dict(cable: Cable) -> dict:
    """One match as plain values."""
    run = cable.run
    return {"serial": cable.serial, "lot": cable.lot.name, "carbon_mg_m2": cable.carbon_mg_m2,
            "length_m": cable.length_m, "station": run.station.name, "operator": run.operator, "run": run.name,
            "started": run.started.isoformat() + "Z", "run_status": run.status, "record": run.record_path,
            "software_version": run.software_version, "outcome": cable.outcome,
            "il_db": {f"{r.gbd:g}": r.il_db for r in sorted(cable.rates, key=lambda r: r.gbd)},
            "com_db": {r.com_clause: r.com_db for r in cable.rates if r.com_clause is not None},
            "reach_m": cable.reach_m, "power_w": cable.power_w, "instrument_error": cable.instrument_error,
            "not_passed": sorted(v.name for v in cable.verdicts if v.outcome != "pass")}


def query_cables(db: Database, filters: Filters, limit: int | None = None) -> list[dict]:
    """The cables matching ``filters`` (at most ``limit``), as dicts."""
    statement = cables_statement(filters)
    if limit is not None:
        statement = statement.limit(limit)

    def work(session: Session) -> list[dict]:
        return [cable_dict(c) for c in session.scalars(statement)]

    return db.read(work, "querying cables")
