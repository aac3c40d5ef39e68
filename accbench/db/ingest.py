"""Loading run records into the results database (``accbench db ingest``): idempotent, both record schemas.

Each record is read with ``accbench.bench.record.read_run`` (``accbench-run/2`` and the older
``accbench-run/1``, its journal included) and written in one transaction: the run keyed by the
record's run id, its cables replacing any earlier copy. Loading a record twice, or loading one a
live run already wrote (``qualify --db``), leaves one copy of each cable: this is how cables a
database outage kept out of a live run get in.
"""

from __future__ import annotations

import hashlib
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import h5py

from accbench.bench.record import read_run
from accbench.bench.results import RunResult
from accbench.db.database import Database
from accbench.db.store import RunRow, cable_lots, il_limits, lot_ids, serials, upsert_run, utc, write_cable


@dataclass(frozen=True)
class Ingested:
    """One record loaded: its run, how many cables it holds and how many of them were new to the database."""

    path: str
    run: str
    run_key: str
    status: str
    cables: int
    new: int

    def to_dict(self) -> dict:
        return dict(vars(self))


def run_key(path: str | Path, run: RunResult) -> str:
    """The run's key: the record's run id (``accbench-run/2``), else a hash of its name, start, plan and bench."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            run_id = str(f.attrs.get("run_id", ""))
    except OSError:
        run_id = ""
    if run_id:
        return run_id
    text = json.dumps([run.name, run.started, run.plan, run.bench], sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:64]


def default_station(describe: dict, host: str | None) -> tuple[str, str]:
    """(station id, kind) from a station's description: the bench file's name, else the kind at the host."""
    kind = str(describe.get("kind", "unknown"))
    name = describe.get("name")
    if name:
        return str(name), kind
    return (f"{kind}@{host}" if host else kind), kind


def run_row(path: str | Path, run: RunResult, *, station: str | None = None, operator: str | None = None,
            host: str | None = None, written_by: str = "ingest") -> RunRow:
    """The database's row of a run read from its record."""
    name, kind = default_station(run.bench, host)
    return RunRow(run_key=run_key(path, run), name=run.name, station=station or name, station_kind=kind,
                  station_json=run.bench, operator=operator, software_version=run.software_version,
                  record_schema=run.schema, record_path=str(Path(path).resolve()), host=host,
                  started=utc(run.started), ended=utc(run.ended), status=run.status, written_by=written_by,
                  plan=run.plan, instruments=run.instruments, summary=run.summary or None,
                  events=tuple(tuple(e) for e in run.events), lots=tuple(cable_lots(run.cables, run.plan)),
                  station_given=station is not None)


def write_run(db: Database, path: str | Path, run: RunResult, *, station: str | None = None,
              operator: str | None = None, host: str | None = None, written_by: str = "ingest") -> Ingested:
    """Write ``run`` (read from ``path``) and all its cables in one transaction."""
    row = run_row(path, run, station=station, operator=operator, host=host, written_by=written_by)

    def work(session) -> Ingested:
        before = serials(session, row.run_key)
        run_id = upsert_run(session, row)
        lots = lot_ids(session, list(row.lots))
        limits = il_limits(run.plan)
        for position, cable in enumerate(run.cables):
            write_cable(session, run_id, position, cable, lots, limits)
        return Ingested(str(path), run.name, row.run_key, run.status, len(run.cables),
                        len({c.serial for c in run.cables} - before))

    return db.transaction(work, f"writing run {run.name} from {path}")


def ingest(db: Database, paths: list[str | Path], *, station: str | None = None,
           operator: str | None = None) -> list[Ingested]:
    """Load the records ``paths``: every one is read first (a bad one stops it before anything is written)."""
    runs = [(path, read_run(path)) for path in paths]
    return [write_run(db, path, run, station=station, operator=operator) for path, run in runs]


def this_host() -> str:
    return socket.gethostname()
