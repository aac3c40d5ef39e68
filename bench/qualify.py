"""A qualification run: plan -> instruments -> analysis -> link model -> BERT, power -> gates -> record.

Per cable: a 4-port VNA sweep (de-embedded when the bench names a 2x-thru), its figures at
every rate from one mixed-mode conversion, the link model on the measured channel (predicted
BER at the cable's length, reach), a gated BER per lane and rate (its upper confidence bound is
what the gate uses), the supply draw (the power gate), and the verdicts, written to the HDF5
record before the next cable starts. An instrument fault is retried once after re-opening that
instrument; if it persists it is recorded against the cable and the run goes on. Ctrl-C lets
the current write finish and marks the run interrupted. At the end the run's noise and jitter
are fitted to the counts (``bench.modelfit``) and the lots summarised (``bench.traceability``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from accbench.errors import InputError, InstrumentError
from bench.plan import Cable, Plan
from bench.record import RunRecord, read_model_inputs, read_run
from bench.stations import SimulatedBench, wire_spec
from bench.traceability import lot_summary

__all__ = ["SimulatedBench", "measure_cable", "run_plan", "wire_spec"]

STEPS = ("sweep", "analysis", "link model", "reach", "COM", "bert", "power", "record")


class _Clock:
    """Seconds spent per step of one cable."""

    def __init__(self, progress: Callable[[str], None]):
        self.split: dict[str, float] = dict.fromkeys(STEPS, 0.0)
        self._progress = progress

    @contextlib.contextmanager
    def step(self, name: str, detail: str = ""):
        """Announce the step and add its wall time to ``split[name]``."""
        self._progress(name + (f" {detail}" if detail else ""))
        start = time.perf_counter()
        try:
            yield
        finally:
            self.split[name] += time.perf_counter() - start


def _retry(bench, role: str, action: Callable, notes: list[str]):
    """Run ``action``; on an instrument error re-open ``role`` and try once more (the note is kept)."""
    from instruments.bert import SyncLossError
    from instruments.power import OverCurrentError

    try:
        return action()
    except (SyncLossError, OverCurrentError):
        raise
    except InstrumentError as exc:
        notes.append(f"{role}: {exc}; re-opened and retried")
        bench.reopen(role)
        return action()


def measure_cable(plan: Plan, cable: Cable, bench, progress: Callable[[str], None]) -> tuple:
    """All measurements and figures of one cable: (freq_hz, s, figures, arrays)."""
    from dsp import AnalysisOptions, analyze_rates
    from dsp.channel import MeasuredChannel, TwinaxChannel
    from dsp.deembed import deembed_2xthru
    from dsp.link import LinkModel
    from dsp.linkconfig import LinkConfig
    from dsp.portmap import resolve_port_map, to_se2gmm_order
    from dsp.power import PowerModel, cable_power
    from dsp.reach import find_reach
    from dsp.statistical import stat_ber
    from instruments.bert import BerSettings, SyncLossError
    from instruments.power import OverCurrentError
    from instruments.vna import SweepSettings

    lot = plan.lots[cable.lot]
    inst = bench.open_all()  # re-opens an instrument a fault on the previous cable left closed
    clock = _Clock(progress)
    notes: list[str] = []
    figures: dict = {"serial": cable.serial, "wire_lot": cable.lot, "carbon_mg_m2": lot.carbon_mg_m2,
                     "length_m": cable.length_m, "lanes": cable.lanes, "errors": [], "notes": notes}
    with clock.step("sweep"):
        bench.connect(cable.serial, 1)
        network = _retry(bench, "vna", lambda: inst["vna"].measure_sparams(SweepSettings(**bench.sweep)).network,
                         notes)
    with clock.step("analysis"):
        if bench.two_x_thru is not None:
            network = deembed_2xthru(to_se2gmm_order(network, resolve_port_map(network, "auto")[0]),
                                     bench.two_x_thru)
            figures["deembedded"] = True
        bauds = [gbd * 1e9 for gbd in plan.rates_gbd]
        results = analyze_rates(network, bauds, AnalysisOptions(mask=plan.gates.il_mask), masked_baud=min(bauds),
                                name=cable.serial)
        channel = MeasuredChannel.from_analysis(results[0], cable.length_m, name=cable.serial)
        baseline = TwinaxChannel(wire_spec(lot, cable, carbon=False))
    rates, arrays = [], {}
    for gbd, figs in zip(plan.rates_gbd, results, strict=True):
        baud = gbd * 1e9
        cfg = LinkConfig(baud=baud, target_ber=plan.target_ber)
        with clock.step("link model", f"{gbd:g} GBd"):
            eq = LinkModel(channel, cfg, cable.length_m).equalize()
            stat = stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude,
                            eq.crosstalk, cfg.dfe_tap)
        with clock.step("reach", f"{gbd:g} GBd"):
            reach = find_reach(channel, cfg, plan.gates.reach_m, plan.gates.stretch_m, resolution_m=0.05)
        base_il = -20 * np.log10(abs(baseline.sdd21(np.array([figs.nyquist_hz]))[0]))
        arrays[f"eq_cursors_{gbd:g}"] = eq.equalized
        rates.append({"gbd": gbd, "nyquist_hz": figs.nyquist_hz, "il_db": figs.il_db,
                      "excess_il_db": figs.il_db - base_il, "baseline_il_db": base_il,
                      "mask_margin_db": figs.mask_margin_db, "ild_rms_db": figs.ild_rms_db, "rl_db": figs.rl_db,
                      "predicted_ber": stat.ber, "margin_db": stat.margin_db, "eye_height": stat.eye_height,
                      "reach_m": reach.reach_m, "margin_db_at_required": reach.margin_db,
                      "ctle": {"gdc_db": eq.gdc_db, "gdc2_db": eq.gdc2_db},
                      "predicted_power_w": cable_power(PowerModel(), baud, abs(eq.gdc_db) + abs(eq.gdc2_db)),
                      "model": {"main": eq.main, "sigma_parts": eq.sigma_parts, "dd_amplitude": eq.dd_amplitude,
                                "dfe": cfg.dfe_tap},
                      "lanes": []})
    for rate in rates:
        rate["ber_measured"] = rate["gbd"] in plan.measured_rates_gbd
        rate["judged_by"] = "bert" if rate["ber_measured"] else "link model"
    measured = [rate for rate in rates if rate["ber_measured"]]
    for lane in range(1, cable.lanes + 1):
        if lane > 1:
            bench.connect(cable.serial, lane)
        for rate in measured:
            with clock.step("bert", f"lane {lane} {rate['gbd']:g} GBd"):
                settings = BerSettings(rate["gbd"] * 1e9, plan.pattern, plan.gate_s, sync_timeout_s=0.5)
                try:
                    ber = _retry(bench, "bert", lambda s=settings: inst["bert"].measure_ber(s), notes)
                    rate["lanes"].append({"lane": lane, "bits": ber.bits, "errors": ber.errors, "ber": ber.ber,
                                          "ber_upper_95": ber.ber_upper, "sync_lost": ber.sync_lost})
                except SyncLossError as exc:
                    rate["lanes"].append({"lane": lane, "bits": 0, "errors": None, "ber": None,
                                          "ber_upper_95": 1.0, "sync_lost": True})
                    figures["errors"].append(f"lane {lane} {rate['gbd']:g} GBd: {exc}")
    for rate in rates:
        if not rate["lanes"]:
            rate.update({"ber": None, "ber_upper_95": None, "sync_lost": None})
            continue
        worst = max(rate["lanes"], key=lambda r: r["ber_upper_95"])
        rate.update({"ber": worst["ber"], "ber_upper_95": worst["ber_upper_95"],
                     "sync_lost": any(r["sync_lost"] for r in rate["lanes"])})
    figures["rates"] = rates
    for clause in plan.com_clauses:
        with clock.step("COM", clause):
            _com_of(plan, clause, network, rates)
    with clock.step("power"):
        try:
            def draw() -> float:
                supply = inst["power"]
                supply.power_up([1, 2], bench.supply_v)
                return supply.measure([1, 2], points=256).total_w

            figures["power_w"] = _retry(bench, "power", draw, notes)
            figures["power_at_gbd"] = measured[-1]["gbd"] if measured else None
        except OverCurrentError as exc:
            figures["power_w"] = None
            figures["errors"].append(str(exc))
    at = figures.get("power_at_gbd") or max(r["gbd"] for r in rates)  # the rate the cable ran at while measured
    figures["predicted_power_w"] = next(r["predicted_power_w"] for r in rates if r["gbd"] == at)
    figures["timing_s"] = clock.split
    return network.f, network.s, _verdicts(plan, figures), arrays


def _com_of(plan: Plan, clause: str, network, rates: list[dict]) -> None:
    """IEEE COM and ERL of the measured (passive) assembly at the clause's rate, into that rate's figures."""
    from dsp.com import compute_com

    result = compute_com(network, clause=clause)
    rate = next(r for r in rates if abs(r["gbd"] * 1e9 - result.baud) < 1e3)
    erl_min = plan.gates.erl_db_min if plan.gates.erl_db_min is not None else result.limits.get("erl_min_db")
    rate["com"] = {"clause": clause, "com_db": result.com_db, "erl_db": result.erl_db, "eq": result.eq,
                   "cases": {c.case or "1": c.com_db for c in result.cases}, "com_db_min": plan.gates.com_db_min,
                   "erl_db_min": erl_min, "elapsed_s": result.elapsed_s}


def _verdicts(plan: Plan, figures: dict) -> dict:
    rates = figures["rates"]
    low = min(rates, key=lambda r: r["gbd"])
    top = max(rates, key=lambda r: r["gbd"])
    mask_margin = low["mask_margin_db"]
    figures["il_db"] = {f"{r['gbd']:g}": r["il_db"] for r in rates}
    figures["reach_m"] = top["reach_m"]
    bounds = [r["ber_upper_95"] for r in rates if r["ber_upper_95"] is not None]
    measured_ok = all(b <= plan.target_ber for b in bounds)
    power = figures["power_w"]
    figures["verdicts"] = {
        "il_mask": None if mask_margin is None else {"pass": mask_margin >= 0, "margin_db": mask_margin},
        "reach": {"pass": top["reach_m"] >= plan.gates.reach_m and measured_ok,
                  "margin_m": top["reach_m"] - plan.gates.reach_m, "measured_ber_pass": measured_ok,
                  "worst_ber_upper_95": max(bounds) if bounds else None,
                  "measured_at_gbd": [r["gbd"] for r in rates if r["ber_measured"]]},
        "power": {"pass": power is not None and power <= plan.gates.power_w_max,
                  "margin_w": None if power is None else plan.gates.power_w_max - power},
    }
    coms = [r["com"] for r in rates if r.get("com")]
    if coms:
        worst = min(coms, key=lambda c: c["com_db"] - c["com_db_min"])
        figures["com_db"] = {c["clause"]: c["com_db"] for c in coms}
        figures["verdicts"]["com"] = {"pass": all(c["com_db"] >= c["com_db_min"] for c in coms),
                                      "margin_db": worst["com_db"] - worst["com_db_min"], "clause": worst["clause"]}
        erls = [c for c in coms if c["erl_db"] is not None and c["erl_db_min"] is not None]
        if erls:
            worst = min(erls, key=lambda c: c["erl_db"] - c["erl_db_min"])
            figures["verdicts"]["erl"] = {"pass": all(c["erl_db"] >= c["erl_db_min"] for c in erls),
                                          "margin_db": worst["erl_db"] - worst["erl_db_min"],
                                          "clause": worst["clause"]}
    figures["pass"] = all(v["pass"] for v in figures["verdicts"].values() if v is not None)
    return figures


def _failed_cable(cable: Cable, plan: Plan, error: str, notes: list[str]) -> dict:
    """The record of a cable whose measurement an instrument fault stopped (it fails; the run goes on)."""
    return {"serial": cable.serial, "wire_lot": cable.lot, "carbon_mg_m2": plan.lots[cable.lot].carbon_mg_m2,
            "length_m": cable.length_m, "lanes": cable.lanes, "rates": [], "il_db": {}, "reach_m": None,
            "power_w": None, "errors": [error], "notes": notes, "verdicts": {}, "pass": False,
            "instrument_error": error}


def model_comparison(path: str | Path, cables: list[dict]) -> dict:
    """Fit the run's noise/jitter to its BER counts and its power model to its watts (``bench.modelfit``)."""
    from bench.modelfit import fit_ber_model, fit_power_model

    cursors = read_model_inputs(path)
    observations = []
    for c in cables:
        for r in c["rates"]:
            for lane in r["lanes"]:
                key = (c["serial"], f"{r['gbd']:g}")
                if not lane["sync_lost"] and lane["bits"] and key in cursors:
                    observations.append((c["serial"], r["gbd"], lane["lane"], lane["bits"], lane["errors"],
                                         r["model"], cursors[key]))
    ber = fit_ber_model(observations)
    power = fit_power_model([(c["serial"], c["power_w"], c.get("predicted_power_w")) for c in cables])
    return {"ber": ber, "power": power, "outliers": sorted(set(ber["outliers"]) | set(power["outliers"]))}


def run_plan(plan: Plan, output: str | Path, bench=None, resume: bool = False,
             progress: Callable[[str, str], None] | None = None) -> dict:
    """Run ``plan`` on ``bench`` (the simulated bench by default) into ``output``; the run summary."""
    record = RunRecord(output)
    bench = bench or SimulatedBench(plan)
    say = progress or (lambda serial, step: None)
    status = "failed"
    timing = dict.fromkeys(STEPS, 0.0)
    try:
        bench.check_plan(plan)  # before anything is written or opened
    except InputError:
        if isinstance(bench, SimulatedBench):
            bench.close()
        raise
    try:
        if resume:
            done = set(record.open_for_resume(plan.source))
        else:
            record.create(plan.name, plan.source, plan.to_dict(), bench.describe())
            done = set()
        instruments = bench.open_all()
        bench.check_plan(plan)  # again, with the models the instruments report
        record.set_instruments({role: inst.identity.to_dict() | {"dialect": inst.DIALECT}
                                for role, inst in instruments.items()})
        for order, cable in enumerate(plan.cables):
            if cable.serial in done:
                say(cable.serial, "done earlier")
                continue
            try:
                freq, s, figures, arrays = measure_cable(plan, cable, bench,
                                                         lambda step, serial=cable.serial: say(serial, step))
            except InstrumentError as exc:
                record.event(f"{cable.serial}: instrument error, cable recorded as failed: {exc}")
                freq, s, figures, arrays = np.zeros(0), np.zeros((0, 4, 4), complex), \
                    _failed_cable(cable, plan, str(exc), []), {}
            say(cable.serial, "record")
            timing["record"] += record.write_cable(cable.serial, order, freq, s, figures, arrays)
            for step, seconds in figures.get("timing_s", {}).items():
                timing[step] += seconds
            error = figures.get("instrument_error")
            say(cable.serial, "recorded" + (f" with an instrument error: {error}" if error else ""))
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        summary = None
        if status == "complete":
            t0 = time.perf_counter()
            cables = [c for c in read_run(output)["cables"] if not c.get("instrument_error")]
            summary = lot_summary(plan, cables)
            summary["model_vs_measurement"] = model_comparison(output, cables)
            timing["summary"] = time.perf_counter() - t0
        if record.path.is_file():
            record.finish(status, summary, timing)
        if isinstance(bench, SimulatedBench):  # it replaced the in-process twin; a bench file's caller closes
            bench.close()
    return read_run(output)
