"""A live run into the results database: a progress callback writing each finished cable in one transaction.

``DatabaseSink`` listens to ``run_plan``'s typed events: on ``RunStarted`` it writes the run (station,
operator, host, software version, instrument identities; on a resumed run also the cables finished
before, where the database lacks them), on ``CableRecorded`` the cable as recorded, on ``RunFinished``
the status, lot summary and events. The HDF5 record is the primary copy: a database problem never
stops or fails the run. It is reported once, in one line with the command that loads the record
later (``accbench db ingest``, idempotent), and the sink writes nothing more for that run.
"""

from __future__ import annotations

import getpass
import warnings
from collections.abc import Callable

from accbench.bench.events import CableRecorded, RunFinished, RunStarted
from accbench.bench.record import read_run
from accbench.db.database import Database
from accbench.db.ingest import default_station, run_row, this_host
from accbench.db.store import il_limits, lot_ids, serials, upsert_run, write_cable


class DatabaseWarning(UserWarning):
    """The results database missed part of a run; the record has it all (``accbench db ingest`` loads it)."""


def current_operator() -> str | None:
    """The login name of whoever runs the bench (None where the system cannot say)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


class DatabaseSink:
    """``progress`` callback of a run that writes it into ``db`` as it goes (see the module)."""

    def __init__(self, db: Database, *, station: str | None = None, operator: str | None = None,
                 report: Callable[[str], None] | None = None):
        self.db = db
        self.station = station
        self.operator = operator if operator is not None else current_operator()
        self.report = report or (lambda line: warnings.warn(line, DatabaseWarning, stacklevel=2))
        self.host = this_host()
        self.record: str | None = None
        self.run_id: int | None = None
        self.written = 0  # cables written by this sink in this run
        self.problem: str | None = None
        self._lots: dict[str, int] = {}
        self._limits: dict[float, float] = {}
        self._positions: dict[str, int] = {}

    def __call__(self, event) -> None:
        if self.problem is not None or not isinstance(event, RunStarted | CableRecorded | RunFinished):
            return
        try:
            if isinstance(event, RunStarted):
                self._start(event)
            elif self.run_id is None:
                return
            elif isinstance(event, CableRecorded):
                self._cable(event)
            else:
                self._finish(event)
        except Exception as exc:  # the record is the primary copy: nothing the database does may stop the run
            self._fail(event, exc)

    def _start(self, event: RunStarted) -> None:
        self.record = event.record
        run = read_run(event.record)
        station = self.station or default_station(event.station, self.host)[0]
        row = run_row(event.record, run, station=station, operator=self.operator, host=self.host,
                      written_by="qualify")
        self._positions = {c["serial"]: i for i, c in enumerate(event.plan.get("cables", []))}
        self._limits = il_limits(event.plan)

        def work(session) -> tuple[int, dict[str, int], int]:
            run_id = upsert_run(session, row)
            lots = lot_ids(session, list(row.lots))
            have = serials(session, row.run_key)
            # a resumed run's cables from before that the database lacks (a fresh run has none yet)
            earlier = [c for c in run.cables if c.serial not in have] if event.resumed else []
            for cable in earlier:
                write_cable(session, run_id, self._position(cable.serial), cable, lots, self._limits)
            return run_id, lots, len(earlier)

        self.run_id, self._lots, earlier = self.db.transaction(work, f"writing run {run.name}")
        self.written += earlier

    def _position(self, serial: str) -> int:
        return self._positions.get(serial, len(self._positions))

    def _cable(self, event: CableRecorded) -> None:
        cable = event.result
        if cable is None:
            raise ValueError(f"cable {event.serial}: the run's event carries no result")
        self.db.transaction(lambda s: write_cable(s, self.run_id, self._position(cable.serial), cable, self._lots,
                                                  self._limits), f"writing cable {cable.serial}")
        self.written += 1

    def _finish(self, event: RunFinished) -> None:
        run = read_run(event.record)
        row = run_row(event.record, run, station=self.station or default_station(run.bench, self.host)[0],
                      operator=self.operator, host=self.host, written_by="qualify")
        self.db.transaction(lambda s: upsert_run(s, row), f"finishing run {run.name}")

    def _fail(self, event, exc: Exception) -> None:
        from accbench.db.connect import reason

        what = {RunStarted: "the run", CableRecorded: f"cable {event.serial}",
                RunFinished: "the run's end"}[type(event)]
        self.problem = f"{what}: {reason(exc)}"
        record = self.record or getattr(event, "record", "RECORD")
        self.report(f"database {self.db.shown}: {what} not written ({reason(exc)}); the run goes on and its record "
                    f"{record} keeps everything: load it later with accbench db ingest {record} --db {self.db.shown}")


def chain(*callbacks: Callable | None) -> Callable:
    """One progress callback calling each of ``callbacks`` (None ones skipped) in turn."""
    live = [c for c in callbacks if c is not None]

    def progress(event) -> None:
        for callback in live:
            callback(event)

    return progress
