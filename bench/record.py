"""The run record: one HDF5 file per run, written cable by cable.

Schema ``accbench-run/1`` (also in the README):
``/`` attrs: schema, name, software_version, started, ended, status (running, complete,
interrupted, failed), plan_toml, plan_json, bench_json, instruments_json, events_json.
``/lots/<id>`` attrs: the lot's fields. ``/cables/<serial>`` attrs: wire_lot, length_m, order,
pass, complete, and figures (``figures_json``); datasets ``freq_hz`` (N), ``s`` (N x 4 x 4
complex) and ``eq_cursors_<GBd>`` (the link model's equalised pulse, for the model fit).
``timing_json`` (seconds per step) and ``summary_json`` (lots, regressions, model fit) at the end.
Each cable is computed in memory and then written in one short open-write-close, so a run
killed at any moment leaves every finished cable readable; a group without ``complete`` is
dropped on resume.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from pathlib import Path

import h5py
import numpy as np

from accbench import __version__
from accbench.errors import InputError

SCHEMA = "accbench-run/1"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RunRecord:
    """Append-only access to a run's HDF5 file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def create(self, name: str, plan_toml: str, plan: dict, bench: dict) -> None:
        with h5py.File(self.path, "w") as f:
            f.attrs.update({"schema": SCHEMA, "name": name, "software_version": __version__, "started": _now(),
                            "ended": "", "status": "running", "plan_toml": plan_toml,
                            "plan_json": json.dumps(plan), "bench_json": json.dumps(bench),
                            "instruments_json": "{}", "events_json": json.dumps([[_now(), "started"]])})
            lots = f.create_group("lots")
            for lot in plan["lots"]:
                lots.create_group(lot["id"]).attrs.update({k: ("" if v is None else v) for k, v in lot.items()})
            f.create_group("cables")

    def open_for_resume(self, plan_toml: str) -> list[str]:
        """Check the file belongs to this plan, drop unfinished cables, note the resume; finished serials."""
        if not self.path.is_file():
            raise InputError(f"--resume: {self.path} does not exist; run without --resume first")
        try:
            with h5py.File(self.path, "a") as f:
                if f.attrs.get("schema") != SCHEMA:
                    raise InputError(f"--resume: {self.path} is not an accbench run record")
                if f.attrs["plan_toml"] != plan_toml:
                    raise InputError(f"--resume: {self.path} was recorded with a different plan")
                for serial in list(f["cables"]):
                    if not f["cables"][serial].attrs.get("complete", False):
                        del f["cables"][serial]
                done = sorted(f["cables"], key=lambda s: int(f["cables"][s].attrs["order"]))
                previous = f.attrs["status"]
                self._event(f, f"resumed after status {previous}, {len(done)} cables kept")
                f.attrs["status"] = "running"
        except OSError as exc:
            raise InputError(f"--resume: cannot open {self.path} ({exc}); the file may be damaged") from exc
        return done

    @staticmethod
    def _event(f: h5py.File, text: str) -> None:
        events = json.loads(f.attrs["events_json"])
        events.append([_now(), text])
        f.attrs["events_json"] = json.dumps(events)

    def event(self, text: str) -> None:
        with h5py.File(self.path, "a") as f:
            self._event(f, text)

    def set_instruments(self, identities: dict) -> None:
        with h5py.File(self.path, "a") as f:
            f.attrs["instruments_json"] = json.dumps(identities)

    def write_cable(self, serial: str, order: int, freq_hz: np.ndarray, s: np.ndarray, figures: dict,
                    arrays: dict[str, np.ndarray] | None = None) -> float:
        """Write one finished cable (data, figures, verdicts, model arrays), mark it complete; seconds taken.

        Ctrl-C during the write is held until the cable is complete, then raised.
        """
        t0 = time.perf_counter()
        with _interrupts_held(), h5py.File(self.path, "a") as f:
            cables = f["cables"]
            if serial in cables:
                del cables[serial]
            group = cables.create_group(serial)
            group.create_dataset("freq_hz", data=np.asarray(freq_hz, dtype=float))
            group.create_dataset("s", data=np.asarray(s, dtype=complex), compression="gzip", compression_opts=1)
            for name, values in (arrays or {}).items():
                group.create_dataset(name, data=np.asarray(values, dtype=float))
            group.attrs.update({"order": order, "wire_lot": figures["wire_lot"], "length_m": figures["length_m"],
                                "pass": bool(figures["pass"]), "figures_json": json.dumps(figures)})
            group.attrs["complete"] = True
            f.flush()
        return time.perf_counter() - t0

    def finish(self, status: str, summary: dict | None = None, timing: dict | None = None) -> None:
        with _interrupts_held(), h5py.File(self.path, "a") as f:
            f.attrs["status"] = status
            f.attrs["ended"] = _now()
            if summary is not None:
                f.attrs["summary_json"] = json.dumps(summary)
            if timing is not None:
                f.attrs["timing_json"] = json.dumps(timing)
            self._event(f, status)


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


def read_run(path: str | Path) -> dict:
    """Everything of a run except the raw S-parameters: metadata, per-cable figures, summary."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("schema") != SCHEMA:
                raise InputError(f"{path} is not an accbench run record (schema {f.attrs.get('schema')!r})")
            cables = [json.loads(f["cables"][s].attrs["figures_json"])
                      for s in sorted(f["cables"], key=lambda s: int(f["cables"][s].attrs["order"]))
                      if f["cables"][s].attrs.get("complete", False)]
            return {"name": str(f.attrs["name"]), "status": str(f.attrs["status"]),
                    "started": str(f.attrs["started"]), "ended": str(f.attrs["ended"]),
                    "software_version": str(f.attrs["software_version"]),
                    "plan": json.loads(f.attrs["plan_json"]), "instruments": json.loads(f.attrs["instruments_json"]),
                    "events": json.loads(f.attrs["events_json"]), "cables": cables,
                    "bench": json.loads(f.attrs["bench_json"]),
                    "timing_s": json.loads(f.attrs.get("timing_json", "{}")),
                    "summary": json.loads(f.attrs.get("summary_json", "{}"))}
    except OSError as exc:
        raise InputError(f"cannot read run record {path}: {exc}") from exc


def read_model_inputs(path: str | Path) -> dict[tuple[str, str], np.ndarray]:
    """(serial, rate in GBd as text) -> the equalised cursors the link model found for that cable."""
    out = {}
    with h5py.File(path, "r") as f:
        for serial, group in f["cables"].items():
            if group.attrs.get("complete", False):
                for name in group:
                    if name.startswith("eq_cursors_"):
                        out[(serial, name.removeprefix("eq_cursors_"))] = group[name][()]
    return out


def read_sparameters(path: str | Path, serial: str) -> tuple[np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as f:
        group = f["cables"][serial]
        return group["freq_hz"][()], group["s"][()]
