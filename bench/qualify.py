"""A qualification run: plan -> station -> per cable (measure, judge, record) -> lot summary and model fit.

Each cable is measured and judged (``accbench.bench.measure``) and written to the HDF5 record in plan
order; with ``workers`` > 1 the cables are computed in worker processes meanwhile (``accbench.bench.parallel``),
the record the same. An instrument fault is retried once after re-opening that instrument (an event in the
record); if it persists it is recorded against the cable and the run goes on. Ctrl-C lets the
current write finish and marks the run interrupted; a full disk does the same. At the end the
run's noise and jitter are fitted to the counts (``accbench.bench.modelfit``) and the lots summarised
(``accbench.bench.traceability``). Progress goes out as typed events (``accbench.bench.events``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from accbench.bench.events import CableRecorded, CableSkipped, RunFinished, RunStarted, StepStarted
from accbench.bench.measure import STEPS
from accbench.bench.parallel import cable_results, check_workers
from accbench.bench.plan import Plan
from accbench.bench.record import RunRecord, read_model_inputs
from accbench.bench.recordio import RecordWriteError
from accbench.bench.results import CableResult, RunResult
from accbench.bench.stations import Instruments, check_station
from accbench.bench.traceability import lot_summary

from accbench.errors import InputError
from accbench.station import Station

__all__ = ["model_comparison", "run_plan"]


def model_comparison(path: str | Path, cables: list[CableResult]) -> dict:
    """Fit the run's noise/jitter to its BER counts and its power model to its watts (``accbench.bench.modelfit``)."""
    from accbench.bench.modelfit import fit_ber_model, fit_power_model

    cursors = read_model_inputs(path)
    observations = []
    for c in cables:
        for r in c.rates:
            for lane in r.lanes:
                key = (c.serial, f"{r.gbd:g}")
                if not lane.sync_lost and lane.bits and key in cursors:
                    observations.append((c.serial, r.gbd, lane.lane, lane.bits, lane.errors, asdict(r.link.model),
                                         cursors[key]))
    ber = fit_ber_model(observations)
    power = fit_power_model([(c.serial, c.power_w, c.predicted_power_w) for c in cables])
    return {"ber": ber, "power": power, "outliers": sorted(set(ber["outliers"]) | set(power["outliers"]))}


def run_plan(plan: Plan, output: str | Path, station: Station, resume: bool = False,
             progress: Callable | None = None, force: bool = False, workers: int = 1) -> RunResult:
    """Run ``plan`` on ``station`` into the record ``output``; the run as recorded.

    An existing ``output`` is continued with ``resume``, replaced with ``force``, and otherwise
    refused. The caller owns ``station`` (opens and closes it); the run opens and closes the drivers.
    ``workers`` > 1 computes cables in that many processes (``accbench.bench.parallel``; 0: one per
    core): behind the instruments of this process, or each on its own copy of a simulated station;
    the record is the serial run's, only the timings differ.
    """
    workers = check_workers(workers)
    record = RunRecord(output)
    if resume and force:
        raise InputError("resume and force exclude each other: continue the run or start it again", "resume", "force")
    if not resume and not force:
        record.refuse_overwrite()  # before any instrument is opened: never a silent overwrite
    check_station(station, plan)  # before anything is written or opened
    say = progress or (lambda event: None)
    record_open = False
    status = "failed"
    timing = dict.fromkeys(STEPS, 0.0)
    instruments = Instruments(station)
    try:
        if resume:
            done = set(record.open_for_resume(plan.source))
        else:
            record.create(plan.name, plan.source, plan.to_dict(), station.describe())
            done = set()
        record_open = True
        instruments.open_all()
        check_station(station, plan, instruments.models())  # again, with the models the instruments report
        record.set_instruments(instruments.identities())
        record.event(*station.drain_events())
        say(RunStarted(str(output), plan.to_dict(), station.describe(), instruments.identities(), resumed=resume))
        with contextlib.closing(cable_results(plan, station, instruments, done, workers, say)) as results:
            for got in results:
                if isinstance(got, CableSkipped):
                    say(got)
                    continue
                serial = got.cable.serial
                if got.instrument_error is not None:
                    record.event(f"{serial}: instrument error, cable recorded as failed: {got.instrument_error}")
                record.event(*(f"{serial}: {fault.text()}" for fault in got.faults),
                             *(f"{serial}: {text}" for text in got.station_events))
                for event in got.replay:  # what happened in a worker process, in its order
                    say(event)
                say(StepStarted(serial, "record"))
                result = got.result
                timing["record"] += record.write_cable(got.order, got.freq_hz, got.s, result, got.arrays)
                for step, seconds in result.timing_s.items():
                    timing[step] += seconds
                say(CableRecorded(serial, result.outcome, result.instrument_error, record.journaled, result))
        status = "complete"
    except (KeyboardInterrupt, RecordWriteError):  # a full disk stops the run like Ctrl-C: --resume continues it
        status = "interrupted"
        raise
    finally:
        instruments.close()
        summary, finish_error = None, None
        if status == "complete":
            t0 = time.perf_counter()
            try:
                cables = [c for c in record.read().cables if not c.instrument_error]
                model = model_comparison(output, cables)  # first: its outliers are unit defects of their lots
                summary = lot_summary(plan, cables, outliers=set(model.get("outliers", [])))
                summary["model_vs_measurement"] = model
            except Exception as exc:  # every cable is recorded: a failed summary must not leave the run "running"
                summary = {"error": f"the lot summary failed: {exc}"}
                finish_error = exc
            timing["summary"] = time.perf_counter() - t0
        if record_open:
            try:
                record.finish(status, summary, timing)
            except RecordWriteError as exc:  # where possible: an error already on its way is the one to report
                finish_error = finish_error or exc
        if record_open:
            say(RunFinished(str(output), status, summary))
    if finish_error is not None:
        raise finish_error
    return record.read()
