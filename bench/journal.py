"""The run record's journal: every write goes here first, then into the HDF5 record.

``<record>.journal/`` holds one ``<seq>.npz`` per pending write: a finished cable (its figures
and arrays), an event, or root attributes (status, summary, instruments). An entry is written to
a temporary name, fsynced and renamed, so it is whole or absent. The record merges entries in
order and notes the last merged ``journal_seq``; an entry is removed only after the merge is read
back. Entries wait here while the record cannot be written (another process holds it open, a
full disk), and ``read_run`` shows them on top of the record meanwhile. Entries carry the record's
``run_id``: those of a record since replaced (``--force``) are stale and dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import h5py
import numpy as np
from accbench.bench.recordio import FULL, RecordWriteError, fsync_dir, journal_dir, why
from accbench.bench.recordschema import check_storable, write_cable
from accbench.bench.results import CableResult, cable_from_dict

from accbench.errors import InputError

_NAME = re.compile(r"^(\d{8})\.npz$")


@dataclass
class Entry:
    """One pending write: ``meta`` (run_id, events, attrs, cable, drop_incomplete) and its arrays file."""

    seq: int
    path: Path
    meta: dict = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        """The cable's arrays (freq_hz, s and the model's), read on demand."""
        with np.load(self.path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files if name != "meta"}


class Journal:
    """The folder of pending entries next to a record."""

    def __init__(self, record: Path):
        self.record = record
        self.dir = journal_dir(record)

    def seqs(self) -> list[int]:
        """Sequence numbers of the entries present, in order."""
        if not self.dir.is_dir():
            return []
        return sorted(int(m.group(1)) for m in map(_NAME.match, os.listdir(self.dir)) if m)

    def entries(self) -> list[Entry]:
        """Every entry with its metadata; a damaged one is an InputError naming it."""
        out = []
        for seq in self.seqs():
            path = self.dir / f"{seq:08d}.npz"
            try:
                with np.load(path, allow_pickle=False) as data:
                    out.append(Entry(seq, path, json.loads(str(data["meta"][()]))))
            except FileNotFoundError:
                continue  # merged meanwhile by another process
            except (OSError, ValueError, KeyError) as exc:
                raise InputError(f"journal entry {path} is damaged ({exc}); move it away and run again") from exc
        return out

    def add(self, seq: int, meta: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
        """Write one entry atomically (temporary name, fsync, rename); RecordWriteError if the disk refuses."""
        tmp = self.dir / f".tmp-{os.getpid()}-{seq:08d}.npz"
        try:
            self.dir.mkdir(exist_ok=True)
            with open(tmp, "wb") as fh:
                np.savez(fh, meta=np.array(json.dumps(meta)), **(arrays or {}))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.dir / f"{seq:08d}.npz")
            fsync_dir(self.dir)
        except (OSError, TypeError, ValueError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if not isinstance(exc, OSError):
                raise InputError(f"cannot journal a write of the run record: {exc}") from exc
            fix = "free space" if exc.errno in FULL else "fix that"
            raise RecordWriteError(f"cannot write the run record journal {self.dir}: {why(exc)}; {fix} and run "
                                   "again, resuming it", "resume") from exc

    def remove(self, entries: list[Entry]) -> None:
        """Drop merged or stale entries; the folder goes when nothing is left in it."""
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                entry.path.unlink()
        fsync_dir(self.dir)
        with contextlib.suppress(OSError):
            if self.dir.is_dir() and not self.seqs() and not (self.dir / "undo.log").exists():
                shutil.rmtree(self.dir)

    def discard(self) -> None:
        """Remove the whole folder (its record was replaced)."""
        shutil.rmtree(self.dir, ignore_errors=True)


def cable_entry(order: int, freq_hz: np.ndarray, s: np.ndarray, cable: CableResult,
                arrays: dict[str, np.ndarray] | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata (the typed result as a dict) and arrays of a finished cable's entry."""
    check_storable(cable.extra)  # a figure the record cannot hold is refused now, not found at the merge
    extra = {name: np.asarray(values, dtype=float) for name, values in (arrays or {}).items()}
    meta = {"cable": {"serial": cable.serial, "order": int(order), "result": asdict(cable), "arrays": sorted(extra)}}
    return meta, {"freq_hz": np.asarray(freq_hz, dtype=float), "s": np.asarray(s, dtype=complex), **extra}


def apply(f: h5py.File, entry: Entry) -> None:
    """Merge one entry into an open record (idempotent: a cable replaces its earlier group)."""
    meta = entry.meta
    cables = f["cables"]
    if meta.get("drop_incomplete"):
        for serial in [s for s in cables if not cables[s].attrs.get("complete", False)]:
            del cables[serial]
    if meta.get("cable"):
        _write_cable(cables, meta["cable"], entry.arrays())
    for name, value in meta.get("attrs", {}).items():
        f.attrs[name] = value
    for lot, values in meta.get("lots", {}).items():
        if lot in f["lots"]:
            f["lots"][lot].attrs.update(values)
    if meta.get("events"):
        f.attrs["events_json"] = json.dumps(json.loads(f.attrs["events_json"]) + meta["events"])


def _write_cable(cables: h5py.Group, cable: dict, arrays: dict[str, np.ndarray]) -> None:
    """A cable's group in schema accbench-run/2 (replacing an earlier one of that serial), marked complete last."""
    serial = cable["serial"]
    if serial in cables:
        del cables[serial]
    group = cables.create_group(serial)
    models = {name: arrays[name] for name in cable["arrays"]}
    write_cable(group, cable_from_dict(cable["result"]), cable["order"], arrays["freq_hz"], arrays["s"], models)
    group.attrs["complete"] = True


def overlay(run: dict, orders: dict[str, int], entry: Entry) -> None:
    """Show one pending entry in a ``read_run`` view (``orders``: serial -> plan order of the view's cables)."""
    meta = entry.meta
    cable = meta.get("cable")
    if cable:
        run["cables"] = [c for c in run["cables"] if c.serial != cable["serial"]] + [cable_from_dict(cable["result"])]
        orders[cable["serial"]] = cable["order"]
        run["cables"].sort(key=lambda c: orders[c.serial])
    attrs = meta.get("attrs", {})
    for name, key in (("status", "status"), ("ended", "ended")):
        if name in attrs:
            run[key] = attrs[name]
    for name, key in (("instruments_json", "instruments"), ("summary_json", "summary"), ("timing_json", "timing_s")):
        if name in attrs:
            run[key] = json.loads(attrs[name])
    run["events"] = run["events"] + meta.get("events", [])
