"""A qualification run: plan -> instruments -> analysis -> link model -> BERT, power -> gates -> record.

Per cable: a 4-port VNA sweep, its S-parameter figures, the link model on the measured channel
(predicted BER and reach at each rate), a gated BER per rate (its upper confidence bound is what
the gate uses), the supply draw (the power gate), and the verdicts, written to the HDF5 record
before the next cable starts. Instrument faults on one cable are recorded against it and the
run goes on; Ctrl-C finishes the current write and marks the run interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accbench.errors import InstrumentError
from bench.plan import Cable, Lot, Plan
from bench.record import RunRecord, read_run
from bench.traceability import lot_summary
from dsp.twinax import TwinaxSpec

SWEEP = {"start_hz": 10e6, "stop_hz": 60e9, "points": 6000, "ifbw_hz": 1e3}
GATE_S = 1.0
SUPPLY_V = 3.3


def wire_spec(lot: Lot, cable: Cable, carbon: bool = True) -> TwinaxSpec:
    """The twinax spec of a cable from its lot (``carbon=False``: the same wire with no carbon)."""
    awg = cable.awg if cable.awg is not None else lot.awg
    diameter = lot.diameter_mm * 1e-3 if lot.diameter_mm else None
    return TwinaxSpec(length_m=cable.length_m, awg=None if diameter else awg, diameter_m=diameter,
                      copper_grade=lot.grade, roughness_rq_m=lot.roughness_um * 1e-6,
                      carbon_mg_m2=lot.carbon_mg_m2 if carbon else 0.0)


class SimulatedBench:
    """The simulated bench built from the plan's cables and lots, opened through the real drivers."""

    def __init__(self, plan: Plan, faults: str = "", extra_power_w: dict | None = None):
        from sim_instruments.faults import FaultPlan
        from sim_instruments.twin import SimBench, SimDut, set_bench

        duts = [SimDut(c.serial, wire_spec(plan.lots[c.lot], c), wire_lot=c.lot,
                       extra_power_w=(extra_power_w or {}).get(c.serial, 0.0)) for c in plan.cables]
        self.sim = SimBench(duts, plan.seed, FaultPlan(faults, plan.seed))
        self._previous = set_bench(self.sim)

    def open(self, role: str):
        from instruments import open_instrument
        from sim_instruments.visa import RESOURCES

        return open_instrument(RESOURCES[role], "@accsim", kind=role, timeout_s=2.0)

    def connect(self, serial: str) -> None:
        self.sim.select(serial)

    def describe(self) -> dict:
        return {"kind": "simulated", **self.sim.describe()}

    def close(self) -> None:
        from sim_instruments.twin import set_bench

        set_bench(self._previous)


def measure_cable(plan: Plan, cable: Cable, instruments: dict, progress: Callable[[str], None]) -> tuple:
    """All measurements and figures of one cable: (freq_hz, s, figures)."""
    from dsp import AnalysisOptions, analyze
    from dsp.channel import MeasuredChannel
    from dsp.link import simulate_link
    from dsp.linkconfig import LinkConfig
    from dsp.reach import find_reach
    from dsp.twinax import twinax_network
    from instruments.bert import BerSettings, SyncLossError
    from instruments.power import OverCurrentError
    from instruments.vna import SweepSettings

    lot = plan.lots[cable.lot]
    figures: dict = {"serial": cable.serial, "wire_lot": cable.lot, "carbon_mg_m2": lot.carbon_mg_m2,
                     "length_m": cable.length_m, "errors": []}
    progress("VNA sweep")
    network = instruments["vna"].measure_sparams(SweepSettings(**SWEEP)).network
    channel = MeasuredChannel.from_network(network, cable.length_m, name=cable.serial)
    baseline = twinax_network(wire_spec(lot, cable, carbon=False), network.f)
    rates = []
    for gbd in plan.rates_gbd:
        baud = gbd * 1e9
        progress(f"analysis and link model at {gbd:g} GBd")
        mask = plan.gates.il_mask if gbd == min(plan.rates_gbd) else None
        figs = analyze(network, AnalysisOptions(baud=baud, mask=mask), name=cable.serial)
        base = analyze(baseline, AnalysisOptions(baud=baud))
        cfg = LinkConfig(baud=baud, target_ber=plan.target_ber)
        link = simulate_link(channel, cfg, with_eye_width=False)
        reach = find_reach(channel, cfg, plan.gates.reach_m, plan.gates.stretch_m, resolution_m=0.05)
        rate = {"gbd": gbd, "nyquist_hz": figs.nyquist_hz, "il_db": figs.il_db, "excess_il_db": figs.il_db - base.il_db,
                "mask_margin_db": figs.mask_margin_db, "predicted_ber": link.ber, "reach_m": reach.reach_m,
                "com_db": reach.margin_db}
        progress(f"BERT {gbd:g} GBd")
        try:
            ber = instruments["bert"].measure_ber(BerSettings(baud, "PRBS13Q", GATE_S, sync_timeout_s=0.5))
            rate.update({"bits": ber.bits, "errors": ber.errors, "ber": ber.ber, "ber_upper_95": ber.ber_upper,
                         "sync_lost": ber.sync_lost})
        except SyncLossError as exc:
            rate.update({"bits": 0, "errors": None, "ber": None, "ber_upper_95": 1.0, "sync_lost": True})
            figures["errors"].append(str(exc))
        rates.append(rate)
    figures["rates"] = rates
    progress("power")
    try:
        supply = instruments["power"]
        supply.power_up([1, 2], SUPPLY_V)
        figures["power_w"] = supply.measure([1, 2], points=256).total_w
    except OverCurrentError as exc:
        figures["power_w"] = None
        figures["errors"].append(str(exc))
    return network.f, network.s, _verdicts(plan, figures)


def _verdicts(plan: Plan, figures: dict) -> dict:
    rates = figures["rates"]
    low = min(rates, key=lambda r: r["gbd"])
    top = max(rates, key=lambda r: r["gbd"])
    mask_margin = low["mask_margin_db"]
    figures["il_db"] = {f"{r['gbd']:g}": r["il_db"] for r in rates}
    figures["reach_m"] = top["reach_m"]
    measured_ok = all(r["ber_upper_95"] <= plan.target_ber for r in rates)
    figures["verdicts"] = {
        "il_mask": None if mask_margin is None else {"pass": mask_margin >= 0, "margin_db": mask_margin},
        "reach": {"pass": top["reach_m"] >= plan.gates.reach_m and measured_ok,
                  "margin_m": top["reach_m"] - plan.gates.reach_m, "measured_ber_pass": measured_ok},
        "power": {"pass": figures["power_w"] is not None and figures["power_w"] <= plan.gates.power_w_max,
                  "margin_w": None if figures["power_w"] is None else plan.gates.power_w_max - figures["power_w"]},
    }
    figures["pass"] = all(v["pass"] for v in figures["verdicts"].values() if v is not None)
    return figures


def run_plan(plan: Plan, output: str | Path, bench=None, resume: bool = False,
             progress: Callable[[str, str], None] | None = None) -> dict:
    """Run ``plan`` on ``bench`` (the simulated bench by default) into ``output``; the run summary."""
    record = RunRecord(output)
    bench = bench or SimulatedBench(plan)
    say = progress or (lambda serial, step: None)
    if resume:
        done = set(record.open_for_resume(plan.source))
    else:
        record.create(plan.name, plan.source, plan.to_dict(), bench.describe())
        done = set()
    status = "failed"
    try:
        instruments = {role: bench.open(role) for role in ("vna", "bert", "power")}
        record.set_instruments({role: inst.identity.to_dict() | {"dialect": inst.DIALECT}
                                for role, inst in instruments.items()})
        for order, cable in enumerate(plan.cables):
            if cable.serial in done:
                continue
            bench.connect(cable.serial)
            try:
                freq, s, figures = measure_cable(plan, cable, instruments,
                                                   lambda step, serial=cable.serial: say(serial, step))
            except InstrumentError as exc:
                record.event(f"{cable.serial}: {exc}")
                say(cable.serial, f"instrument error recorded: {exc}")
                continue
            record.write_cable(cable.serial, order, freq, s, figures)
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        summary = lot_summary(plan, read_run(output)["cables"]) if status == "complete" else None
        record.finish(status, summary)
        if isinstance(bench, SimulatedBench):
            bench.close()
    return read_run(output)


