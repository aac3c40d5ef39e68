"""The run record: one HDF5 file per run, written cable by cable.

Schema ``accbench-run/2`` (also in the README):
``/`` attrs: schema, name, software_version, started, ended, status (running, complete,
interrupted, failed), plan_toml, plan_json, bench_json, instruments_json, events_json, run_id,
journal_seq; ``timing_json`` (seconds per step) and ``summary_json`` (lots, regressions, model
fit) at the end. ``/lots/<id>`` attrs: the lot's fields. ``/cables/<serial>``: one cable's typed
result as groups, attributes and datasets with units (``accbench.bench.recordschema``), ``complete``
last. ``accbench-run/1`` records (figures as one JSON string per cable) are still read
(``accbench.bench.recordv1``), not resumed.

Every write goes first to the journal next to the record (``accbench.bench.journal``: one atomic file per
cable or event) and is then merged into the HDF5 file all-or-nothing (``accbench.bench.recordio``), so a
kill, a full disk or a reader holding the file open never damages or loses a finished cable:
what cannot be merged yet waits in the journal, ``read_run`` shows it, and the next write, the
end of the run or ``--resume`` merges it. A group without ``complete`` is dropped on resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from accbench.bench.journal import Entry, Journal, apply, cable_entry, overlay
from accbench.bench.recordio import FULL, RecordLocked, RecordWriteError, fsync_dir, recover, why, write_session
from accbench.bench.recordschema import read_cable, read_cursors
from accbench.bench.recordv1 import cable_from_v1
from accbench.bench.results import CableResult, RunResult, cable_from_dict

from accbench import __version__
from accbench.errors import InputError

SCHEMA = "accbench-run/2"
READABLE = ("accbench-run/1", SCHEMA)
_ROOT = ("name", "status", "started", "ended", "software_version", "plan_toml", "plan_json", "bench_json",
         "instruments_json", "events_json")
_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RunRecord:
    """Append-only access to a run's HDF5 file, through its journal."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.journal = Journal(self.path)
        self._run_id: str | None = None
        self._seq = 0
        self._blocked = False  # a merge found the file locked; entries wait in the journal
        self._waited = 0  # cables that waited in the journal for the file lock
        self._merged: dict[str, CableResult] = {}  # cables this writer merged (checked in the file), typed

    @property
    def journaled(self) -> bool:
        """Whether the last write waits in the journal because another process holds the record open."""
        return self._blocked

    def refuse_overwrite(self) -> None:
        """InputError if ``path`` (or a journal of it) exists: a new run must not silently replace a record."""
        if self.path.exists():
            try:
                with _read_file(self.path, "cannot read run record"):
                    pass
            except InputError as exc:
                detail = str(exc).split(f"{self.path}: ", 1)[-1]
                raise InputError(f"{self.path} already exists and is not a run record ({detail}); choose another "
                                 "output or overwrite it (force)", "force") from None
            raise InputError(f"{self.path} already holds a run record; continue it (resume) or overwrite it (force)",
                             "resume", "force")
        if self.journal.seqs():
            raise InputError(f"{self.journal.dir} holds unmerged cables of a run whose record {self.path} is "
                             "missing; move it away or discard it (force)", "force")

    def create(self, name: str, plan_toml: str, plan: dict, bench: dict) -> None:
        """Write a new record beside the old path and rename it into place (replacing any old one and its journal)."""
        self._run_id, self._seq = uuid.uuid4().hex, 0
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        try:
            with _interrupts_held():
                with write_session(tmp, create=True) as f:
                    f.attrs.update({"schema": SCHEMA, "name": name, "software_version": __version__,
                                    "started": _now(), "ended": "", "status": "running", "plan_toml": plan_toml,
                                    "plan_json": json.dumps(plan), "bench_json": json.dumps(bench),
                                    "instruments_json": "{}", "events_json": json.dumps([[_now(), "started"]]),
                                    "run_id": self._run_id, "journal_seq": 0})
                    lots = f.create_group("lots")
                    for lot in plan["lots"]:
                        lots.create_group(lot["id"]).attrs.update(
                            {k: ("" if v is None else v) for k, v in lot.items()})
                    f.create_group("cables")
                os.replace(tmp, self.path)
                fsync_dir(self.path.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            fix = "free space" if exc.errno in FULL else "fix that"
            raise RecordWriteError(f"cannot write the run record {self.path}: {why(exc)}; {fix} and run "
                                   "again") from exc
        self.journal.discard()

    def open_for_resume(self, plan_toml: str) -> list[str]:
        """Check the file belongs to this plan, merge its journal, note the resume; finished serials."""
        if not self.path.exists():
            raise InputError(f"cannot resume: {self.path} does not exist; start the run first", "resume")
        run, internal, from_journal = _load(self.path, "cannot resume: cannot open")
        if internal["schema"] != SCHEMA:
            raise InputError(f"cannot resume: {self.path} is an {internal['schema']} record; resume it with the "
                             "accbench that wrote it, or start the run again (force)", "resume", "force")
        if internal["plan_toml"] != plan_toml:
            raise InputError(f"cannot resume: {self.path} was recorded with a different plan", "resume")
        self._run_id, self._seq = internal["run_id"], internal["journal_seq"]
        done = [c.serial for c in run["cables"]]
        note = f" ({from_journal} from the journal)" if from_journal else ""
        self._write({"events": [[_now(), f"resumed after status {run['status']}, {len(done)} cables kept{note}"]],
                     "attrs": {"status": "running"}, "drop_incomplete": True}, attempts=6)
        return done

    def event(self, *texts: str) -> None:
        """Append events (time, text) to the record, in one write."""
        if texts:
            self._write({"events": [[_now(), text] for text in texts]})

    def set_instruments(self, identities: dict) -> None:
        """Record the identity of every instrument."""
        self._write({"attrs": {"instruments_json": json.dumps(identities)}})

    def write_cable(self, order: int, freq_hz: np.ndarray, s: np.ndarray, cable: CableResult,
                    arrays: dict[str, np.ndarray] | None = None) -> float:
        """Keep one finished cable (raw data, typed result, model arrays) and merge it; seconds taken.

        Ctrl-C during the write is held until the cable is kept, then raised.
        """
        t0 = time.perf_counter()
        meta, data = cable_entry(order, freq_hz, s, cable, arrays)
        self._write(meta, data)
        return time.perf_counter() - t0

    def finish(self, status: str, summary: dict | None = None, timing: dict | None = None) -> None:
        """Record the run's end: status, time, summary and timing (waits a few seconds for a locked file)."""
        attrs = {"status": status, "ended": _now()}
        lots = {}
        if summary is not None:
            attrs["summary_json"] = json.dumps(summary)
            # the numbers the factory acts on, searchable without parsing JSON (absent: none found)
            attrs |= {key: summary[key] for key in ("carbon_limit_mg_m2", "carbon_limit_stretch_mg_m2", "effect")
                      if summary.get(key) is not None}
            lots = {lot["id"]: {k: v for k, v in lot.items() if k not in ("id", "grade") and v is not None}
                    for lot in summary.get("lots", [])}
        if timing is not None:
            attrs["timing_json"] = json.dumps(timing)
        self._write({"attrs": attrs, "lots": lots, "events": [[_now(), status]]}, attempts=8)

    def read(self) -> RunResult:
        """``read_run`` of this record, without reading again the cables this writer merged: their typed results
        are those it wrote (the schema's round trip is exact, as ``read_run`` of a journal entry relies on too)."""
        return _run_result(*_load(self.path, "cannot read run record", self._merged)[:2])

    def merge(self, attempts: int = 4) -> bool:
        """Merge the journal's entries into the record; False while another process holds it open."""
        with _interrupts_held():
            return self._merge(attempts)

    def _merge(self, attempts: int) -> bool:
        """``merge`` without holding Ctrl-C (the caller holds it)."""
        entries = self.journal.entries()
        if not entries:
            return True
        try:
            with write_session(self.path, attempts) as f:
                run_id, done = str(f.attrs.get("run_id", "")), int(f.attrs.get("journal_seq", 0))
                fresh = [e for e in entries if e.meta.get("run_id") == run_id and e.seq > done]
                for entry in fresh:
                    apply(f, entry)
                if self._blocked and fresh:
                    cables = f"{self._waited} cable" + ("" if self._waited == 1 else "s")
                    note = [_now(), f"merged the journal {self.journal.dir.name} into the record: {cables} had "
                                    "waited there for the file lock"]
                    f.attrs["events_json"] = json.dumps([*json.loads(f.attrs["events_json"]), note])
                if fresh:
                    f.attrs["journal_seq"] = fresh[-1].seq
        except RecordLocked:
            return False
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            fix = "free space" if isinstance(exc, OSError) and exc.errno in FULL else "fix that"
            raise RecordWriteError(f"cannot write the run record {self.path}: {_why(exc)}; finished cables are kept "
                                   f"in {self.journal.dir.name}; {fix} and resume the run", "resume") from exc
        self._blocked, self._waited = False, 0
        self._check_merged(fresh)
        self.journal.remove(entries)
        return True

    def _check_merged(self, fresh: list) -> None:
        """Read the merge back before its entries are removed (``read`` then reuses the merged cables)."""
        if not fresh:
            return
        cables = {e.meta["cable"]["serial"]: e.meta["cable"]["result"] for e in fresh if e.meta.get("cable")}
        with _read_file(self.path, "cannot read back the run record") as f:
            ok = int(f.attrs.get("journal_seq", 0)) >= fresh[-1].seq and all(
                bool(f["cables"][serial].attrs.get("complete", False)) for serial in cables)
        for serial, result in cables.items():
            self._merged.pop(serial, None)
            if ok:
                self._merged[serial] = cable_from_dict(result)
        if not ok:
            raise RecordWriteError(f"the run record {self.path} does not hold what was merged into it; the entries "
                                   f"are kept in {self.journal.dir}")

    def _write(self, meta: dict, arrays: dict | None = None, attempts: int = 4) -> None:
        """Journal an entry, then merge; a locked record leaves it (and a note) in the journal."""
        if self._run_id is None:
            _, internal, _ = _load(self.path, "cannot read run record")
            self._run_id, self._seq = internal["run_id"], internal["journal_seq"]
        with _interrupts_held():
            self._seq = max([self._seq, *self.journal.seqs()]) + 1
            self.journal.add(self._seq, {"run_id": self._run_id, **meta}, arrays)
            if self._merge(attempts):
                return
            self._waited += 1 if meta.get("cable") else 0
            if self._blocked:
                return
            self._blocked = True
            self._seq += 1
            self.journal.add(self._seq, {"run_id": self._run_id, "events": [[
                _now(), f"{self.path.name} is open in another process (HDF5 file lock); writes wait in the journal "
                        f"{self.journal.dir.name} until it is free"]]})


def _why(exc: Exception) -> str:
    """The reason of a write failure, for one line."""
    return why(exc) if isinstance(exc, OSError) and exc.errno else str(exc).splitlines()[0]


@contextlib.contextmanager
def _interrupts_held():
    """Hold SIGINT while a write is in progress and re-raise it as KeyboardInterrupt afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _diagnose(path: Path, exc: OSError) -> str:
    """Why h5py could not open ``path``, in words."""
    text = str(exc)
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != _SIGNATURE and "signature" in text:
        return "not an HDF5 file (no HDF5 signature); give the .h5 record accbench qualify wrote"
    cut = re.search(r"eof = (\d+).*stored_eof = (\d+)", text)
    if cut:
        return (f"the file is truncated ({cut.group(1)} of {cut.group(2)} bytes; an interrupted copy or a full disk "
                "cut it short); use the original record")
    if "lock" in text:
        return "it is being written by another process; try again when that finishes"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"damaged HDF5 file ({text.splitlines()[0]})"


@contextlib.contextmanager
def _read_file(path: Path, prefix: str) -> Iterator[h5py.File]:
    """Open a record read-only after rolling back an interrupted write; InputError naming what is wrong."""
    if not path.exists():
        raise InputError(f"{prefix} {path}: no such file")
    if path.is_dir():
        raise InputError(f"{prefix} {path}: a folder, not a run record file")
    with contextlib.suppress(RecordLocked):
        try:
            recover(path)
        except OSError as exc:
            raise InputError(f"{prefix} {path}: a write was interrupted and cannot be rolled back here "
                             f"({why(exc)}); resume the run where the file is writable") from exc
    delay = 0.05
    while True:
        try:
            f = h5py.File(path, "r")
            break
        except BlockingIOError:  # our own writer's lock: a short merge
            if delay > 2:
                raise InputError(f"{prefix} {path}: it is being written by another process; try again") from None
            time.sleep(delay)
            delay *= 2
        except OSError as exc:
            raise InputError(f"{prefix} {path}: {_diagnose(path, exc)}") from exc
    with f:
        try:
            _check_root(f)
            yield f
        except InputError as exc:
            raise InputError(f"{prefix} {path}: {exc}") from None
        except (KeyError, ValueError, TypeError, OSError, RuntimeError) as exc:
            detail = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
            raise InputError(f"{prefix} {path}: damaged run record, its HDF5 structure is corrupt ({detail}); "
                             "use the original or a backup copy") from exc


def _check_root(f: h5py.File) -> None:
    """InputError unless the file has the run record's schema, root attributes and groups."""
    schema = f.attrs.get("schema")
    if schema is None:
        raise InputError("an HDF5 file but not an accbench run record (no 'schema' attribute)")
    if schema not in READABLE:
        raise InputError(f"not an accbench run record (schema {schema!r}; this accbench reads "
                         f"{' and '.join(READABLE)})")
    missing = [f"attribute {name!r}" for name in _ROOT if name not in f.attrs]
    missing += [f"group '/{name}'" for name in ("lots", "cables") if name not in f]
    if missing:
        raise InputError(f"damaged run record: {', '.join(missing)} missing")


def _json(holder: h5py.Group, name: str, where: str, default: str | None = None) -> Any:
    """A JSON attribute; InputError naming it when it is not valid JSON."""
    if default is None and name not in holder.attrs:
        raise InputError(f"damaged run record: {where}attribute {name!r} missing")
    try:
        return json.loads(holder.attrs[name] if default is None else holder.attrs.get(name, default))
    except (json.JSONDecodeError, TypeError) as exc:
        raise InputError(f"damaged run record: {where}{name} is not valid JSON") from exc


def _load(path: Path, prefix: str, known: dict[str, CableResult] | None = None) -> tuple[dict, dict, int]:
    """The run with its pending journal entries on top, (run_id, journal_seq, plan_toml), cables from the journal.

    ``known``: cables its one writer merged into this file, taken instead of read again.
    """
    known = known or {}
    with _read_file(path, prefix) as f:
        cables = f["cables"]
        orders = {}
        for serial in cables:
            if cables[serial].attrs.get("complete", False):
                if "order" not in cables[serial].attrs:
                    raise InputError(f"damaged run record: cable {serial!r} has no 'order'")
                orders[serial] = int(cables[serial].attrs["order"])
        run = {"name": str(f.attrs["name"]), "status": str(f.attrs["status"]), "started": str(f.attrs["started"]),
               "ended": str(f.attrs["ended"]), "software_version": str(f.attrs["software_version"]),
               "plan": _json(f, "plan_json", ""), "instruments": _json(f, "instruments_json", ""),
               "events": _json(f, "events_json", ""),
               "cables": [known.get(s) or _cable(cables[s], s) for s in sorted(orders, key=orders.get)],
               "bench": _json(f, "bench_json", ""), "timing_s": _json(f, "timing_json", "", "{}"),
               "summary": _json(f, "summary_json", "", "{}")}
        internal = _internal(f) | {"plan_toml": str(f.attrs["plan_toml"]), "schema": str(f.attrs["schema"])}
    pending = _pending(path, internal)
    for entry in pending:
        overlay(run, orders, entry)
    return run, internal, sum(1 for e in pending if e.meta.get("cable"))


def _internal(f: h5py.File) -> dict:
    """The record's journal bookkeeping: its run id and the last merged journal entry."""
    return {"run_id": str(f.attrs.get("run_id", "")), "journal_seq": int(f.attrs.get("journal_seq", 0))}


def _pending(path: Path, internal: dict) -> list[Entry]:
    """The journal entries of this record not merged yet."""
    return [e for e in Journal(path).entries()
            if e.meta.get("run_id") == internal["run_id"] and e.seq > internal["journal_seq"]]


def _cable(group: h5py.Group, serial: str) -> CableResult:
    """The typed result of one cable group of either schema."""
    if "figures_json" in group.attrs:
        return cable_from_v1(_json(group, "figures_json", f"cable {serial!r} "))
    try:
        return read_cable(group)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"damaged run record: cable {serial!r} ({str(exc).splitlines()[0]})") from exc


def read_run(path: str | Path) -> RunResult:
    """Everything of a run except the raw S-parameters: metadata, typed cables, summary (journal included)."""
    run, internal, _ = _load(Path(path), "cannot read run record")
    return _run_result(run, internal)


def _run_result(run: dict, internal: dict) -> RunResult:
    """The typed run of a loaded record."""
    return RunResult(name=run["name"], status=run["status"], schema=internal["schema"], started=run["started"],
                     ended=run["ended"], software_version=run["software_version"], plan=run["plan"],
                     instruments=run["instruments"], bench=run["bench"],
                     events=tuple(tuple(e) for e in run["events"]), cables=tuple(run["cables"]),
                     timing_s=run["timing_s"], summary=run["summary"])


def read_model_inputs(path: str | Path) -> dict[tuple[str, str], np.ndarray]:
    """(serial, rate in GBd as text) -> the equalised cursors the link model found for that cable."""
    path = Path(path)
    out = {}
    with _read_file(path, "cannot read run record") as f:
        for serial, group in f["cables"].items():
            if group.attrs.get("complete", False):
                out.update({(serial, gbd): cursors for gbd, cursors in read_cursors(group).items()})
        internal = _internal(f)
    for entry in _pending(path, internal):
        cable = entry.meta.get("cable")
        if cable:
            arrays = entry.arrays()
            out = {key: v for key, v in out.items() if key[0] != cable["serial"]}
            out.update({(cable["serial"], n.removeprefix("eq_cursors_")): arrays[n]
                        for n in cable["arrays"] if n.startswith("eq_cursors_")})
    return out


def read_sparameters(path: str | Path, serial: str) -> tuple[np.ndarray, np.ndarray]:
    """The frequencies and the 4-port S-parameters of one cable (journal included)."""
    path = Path(path)
    with _read_file(path, "cannot read run record") as f:
        internal = _internal(f)
        group = f["cables"].get(serial)
        found = None if group is None else (group["freq_hz"][()], group["s"][()])
    for entry in _pending(path, internal):
        if (entry.meta.get("cable") or {}).get("serial") == serial:
            arrays = entry.arrays()
            found = arrays["freq_hz"], arrays["s"]
    if found is None:
        raise InputError(f"run record {path} has no cable {serial!r}")
    return found
