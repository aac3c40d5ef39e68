"""The qualification run as one library call: a plan, a station (simulated by default) and a record.

The composition layer above ``accbench.bench`` (which knows only the station interface) and
``accbench.sim`` (which builds the simulated station): what ``accbench qualify`` does, for a notebook
or a production script.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from accbench.bench.benchfile import BenchConfig, load_bench
from accbench.bench.plan import Plan, load_plan
from accbench.bench.qualify import run_plan
from accbench.bench.results import RunResult
from accbench.bench.stations import InstrumentStation
from accbench.errors import InputError
from accbench.sim.station import SimulatedStation
from accbench.station import Station

if TYPE_CHECKING:
    from accbench.db.database import Database

__all__ = ["qualify", "station_for"]


def station_for(plan: Plan, bench: str | Path | BenchConfig | None = None,
                confirm: Callable[[str, int], None] | None = None) -> Station:
    """The station of a run: the instruments of a bench file, or the plan's simulated bench."""
    if bench is None:
        return SimulatedStation.for_plan(plan)
    config = bench if isinstance(bench, BenchConfig) else load_bench(bench)
    return InstrumentStation(config, confirm=confirm)


def qualify(plan: str | Path | Plan, output: str | Path, *, bench: str | Path | BenchConfig | None = None,
            station: Station | None = None, resume: bool = False, force: bool = False,
            progress: Callable | None = None, confirm: Callable[[str, int], None] | None = None,
            db: str | Database | None = None, station_id: str | None = None, operator: str | None = None,
            db_report: Callable[[str], None] | None = None, workers: int = 1) -> RunResult:
    """Qualify ``plan`` into the record ``output`` on ``station`` (kept open), else on ``bench`` or the simulated bench.

    A station built here is closed here; one given is the caller's to close. With ``db`` (a URL, a
    SQLite file path or an open ``Database``) each finished cable is also written into the results
    database as the run goes (``accbench.db.sink``), under ``station_id`` (default: the bench file's
    name, else the station kind at this host) and ``operator`` (default: the login name). The
    database is opened, and an empty one created, before anything is measured; a problem with it
    later is reported through ``db_report`` (default: a ``DatabaseWarning``) and never stops the run.
    ``workers``: processes computing cables (0: one per core; 1: serial); the record is the serial run's.
    """
    if station is not None and bench is not None:
        raise InputError("give a station or a bench file, not both")
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    database, own_db = None, False
    if db is not None:  # SQLAlchemy and Alembic load only for a run that writes a database
        from accbench.db.database import open_database
        from accbench.db.sink import DatabaseSink, chain

        database, own_db = open_database(db, write=True)
    own = station is None
    try:
        if database is not None:
            sink = DatabaseSink(database, station=station_id, operator=operator, report=db_report)
            progress = chain(progress, sink)
        station = station or station_for(plan, bench, confirm)
        return run_plan(plan, output, station, resume=resume, force=force, progress=progress, workers=workers)
    finally:
        if own and station is not None:
            station.close()
        if own_db:
            database.close()
