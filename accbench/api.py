"""The qualification run as one library call: a plan, a station (simulated by default) and a record.

The composition layer above ``accbench.bench`` (which knows only the station interface) and
``accbench.sim`` (which builds the simulated station): what ``accbench qualify`` does, for a notebook
or a production script.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accbench.bench.benchfile import BenchConfig, load_bench
from accbench.bench.plan import Plan, load_plan
from accbench.bench.qualify import run_plan
from accbench.bench.results import RunResult
from accbench.bench.stations import InstrumentStation
from accbench.errors import InputError
from accbench.sim.station import SimulatedStation
from accbench.station import Station

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
            progress: Callable | None = None, confirm: Callable[[str, int], None] | None = None) -> RunResult:
    """Qualify ``plan`` into the record ``output`` on ``station`` (kept open), else on ``bench`` or the simulated bench.

    A station built here is closed here; one given is the caller's to close.
    """
    if station is not None and bench is not None:
        raise InputError("give a station or a bench file, not both")
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    own = station is None
    station = station or station_for(plan, bench, confirm)
    try:
        return run_plan(plan, output, station, resume=resume, force=force, progress=progress)
    finally:
        if own:
            station.close()
