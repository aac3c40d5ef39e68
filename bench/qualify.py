"""A qualification run: plan -> station -> per cable (measure, judge, record) -> lot summary and model fit.

Each cable is measured and judged (``accbench.bench.measure``) and written to the HDF5 record before the
next starts. An instrument fault is retried once after re-opening that instrument (an event in the
record); if it persists it is recorded against the cable and the run goes on. Ctrl-C lets the
current write finish and marks the run interrupted; a full disk does the same. At the end the
run's noise and jitter are fitted to the counts (``accbench.bench.modelfit``) and the lots summarised
(``accbench.bench.traceability``). Progress goes out as typed events (``accbench.bench.events``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
from accbench.bench.events import CableRecorded, CableSkipped, RunFinished, RunStarted, StepStarted
from accbench.bench.measure import STEPS, failed_cable, measure_cable
from accbench.bench.plan import Plan
from accbench.bench.record import RunRecord, read_model_inputs, read_run
from accbench.bench.recordio import RecordWriteError
from accbench.bench.results import CableResult, RunResult
from accbench.bench.stations import Instruments, check_station
from accbench.bench.traceability import lot_summary

from accbench.errors import InputError, InstrumentError
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
             progress: Callable | None = None, force: bool = False) -> RunResult:
    """Run ``plan`` on ``station`` into the record ``output``; the run as recorded.

    An existing ``output`` is continued with ``resume``, replaced with ``force``, and otherwise
    refused. The caller owns ``station`` (opens and closes it); the run opens and closes the drivers.
    """
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
        for order, cable in enumerate(plan.cables):
            if cable.serial in done:
                say(CableSkipped(cable.serial))
                continue
            faults: list = []
            try:
                freq, s, result, arrays = measure_cable(plan, cable, station, instruments, say, faults)
            except InstrumentError as exc:
                record.event(f"{cable.serial}: instrument error, cable recorded as failed: {exc}")
                freq, s, result, arrays = np.zeros(0), np.zeros((0, 4, 4), complex), \
                    failed_cable(plan, cable, str(exc)), {}
            record.event(*(f"{cable.serial}: {fault.text()}" for fault in faults),
                         *(f"{cable.serial}: {text}" for text in station.drain_events()))
            say(StepStarted(cable.serial, "record"))
            timing["record"] += record.write_cable(order, freq, s, result, arrays)
            for step, seconds in result.timing_s.items():
                timing[step] += seconds
            say(CableRecorded(cable.serial, result.outcome, result.instrument_error, record.journaled, result))
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
                cables = [c for c in read_run(output).cables if not c.instrument_error]
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
    return read_run(output)
