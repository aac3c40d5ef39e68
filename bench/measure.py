"""One cable of a qualification run: sweep, figures per rate, link model and reach, COM/ERL, BER per lane, power.

Per cable: a 4-port VNA sweep (de-embedded when the station names a 2x-thru), its figures at
every rate from one mixed-mode conversion, the link model on the measured channel (predicted
BER at the cable's length, reach), IEEE COM/ERL under the plan's clauses, a gated BER per lane
and rate, and the supply draw, judged by the declared gates into a typed ``CableResult``. An
instrument fault is retried once after re-opening that instrument (a ``FaultRecovered`` event).

Two parts: ``acquire`` drives the instruments (sweep, BER gates, supply) and ``compute`` turns
what they gave into figures and verdicts; nothing the instruments do depends on the computation,
so a run can overlap one cable's computation with the next cable's instrument time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from accbench.bench.events import FaultRecovered, StepStarted
from accbench.bench.gates import REACH_RESOLUTION_M, evaluate
from accbench.bench.plan import Cable, Plan
from accbench.bench.results import (
    CableResult,
    ComFigures,
    LaneBer,
    LinkPrediction,
    ModelInputs,
    RateResult,
)
from accbench.bench.stations import Instruments, wire_spec

from accbench.errors import InstrumentError
from accbench.station import Station

STEPS = ("sweep", "analysis", "link model", "reach", "COM", "bert", "power", "record")


class AcquisitionStopped(Exception):
    """The run asked the instrument loop to stop before the next step (Ctrl-C during a pipelined run)."""


class _Clock:
    """Seconds spent per step of one cable, each step announced as a ``StepStarted`` event; a set ``stop``
    event stops the cable before its next step (``AcquisitionStopped``)."""

    def __init__(self, serial: str, progress: Callable, stop: threading.Event | None = None):
        self.split: dict[str, float] = dict.fromkeys(STEPS, 0.0)
        self.serial = serial
        self._progress = progress
        self._stop = stop

    @contextlib.contextmanager
    def step(self, name: str, detail: str = ""):
        if self._stop is not None and self._stop.is_set():
            raise AcquisitionStopped(f"{self.serial}: stopped before {name}")
        self._progress(StepStarted(self.serial, name, detail))
        start = time.perf_counter()
        try:
            yield
        finally:
            self.split[name] += time.perf_counter() - start


def _retry(instruments: Instruments, serial: str, role: str, action: Callable, faults: list, progress: Callable):
    """Run ``action``; on an instrument error re-open ``role`` and try once more (the fault is kept)."""
    from accbench.instruments.bert import SyncLossError
    from accbench.instruments.power import OverCurrentError

    try:
        return action()
    except (SyncLossError, OverCurrentError):
        raise
    except InstrumentError as exc:
        event = FaultRecovered(serial, role, str(exc))
        faults.append(event)
        progress(event)
        instruments.reopen(role)
        return action()


def _rate(plan: Plan, cable: Cable, channel, figs, baseline, gbd: float, clock: _Clock) -> tuple[RateResult, dict]:
    """Figures, link prediction and reach of one rate (no BER counts yet); the model arrays to record."""
    from accbench.dsp.link import LinkFamily
    from accbench.dsp.linkconfig import LinkConfig
    from accbench.dsp.power import PowerModel, cable_power
    from accbench.dsp.reach import find_reach

    baud = gbd * 1e9
    cfg = LinkConfig(baud=baud, target_ber=plan.target_ber)
    with clock.step("link model", f"{gbd:g} GBd"):
        family = LinkFamily(channel, cfg)  # the reach search reuses it, and this length as a search point
        stat, eq = family.evaluate(cable.length_m)
    with clock.step("reach", f"{gbd:g} GBd"):
        reach = find_reach(channel, cfg, plan.gates.reach_m, plan.gates.stretch_m, resolution_m=REACH_RESOLUTION_M,
                           family=family)
    base_il = -20 * np.log10(abs(baseline.sdd21(np.array([figs.nyquist_hz]))[0]))
    link = LinkPrediction(
        predicted_ber=float(stat.ber), margin_db=float(stat.margin_db), eye_height=float(stat.eye_height),
        reach_m=float(reach.reach_m), margin_db_at_required=float(reach.margin_db), gdc_db=float(eq.gdc_db),
        gdc2_db=float(eq.gdc2_db),
        predicted_power_w=float(cable_power(PowerModel(), baud, abs(eq.gdc_db) + abs(eq.gdc2_db))),
        model=ModelInputs(int(eq.main), {k: float(v) for k, v in eq.sigma_parts.items()}, float(eq.dd_amplitude),
                          bool(cfg.dfe_tap)), reach_upper_m=float(reach.reach_upper_m))
    rate = RateResult(gbd=gbd, nyquist_hz=float(figs.nyquist_hz), il_db=float(figs.il_db),
                      excess_il_db=float(figs.il_db - base_il), baseline_il_db=float(base_il),
                      mask_margin_db=None if figs.mask_margin_db is None else float(figs.mask_margin_db),
                      ild_rms_db=float(figs.ild_rms_db), rl_db=float(figs.rl_db), link=link,
                      ber_measured=gbd in plan.measured_rates_gbd)
    return rate, {f"eq_cursors_{gbd:g}": eq.equalized}


def _com_of(plan: Plan, clause: str, network) -> ComFigures:
    """IEEE COM and ERL of the measured (passive) assembly under ``clause``."""
    from accbench.dsp.com import compute_com

    result = compute_com(network, clause=clause)
    erl_min = plan.gates.erl_db_min if plan.gates.erl_db_min is not None else result.limits.get("erl_min_db")
    return ComFigures(clause, float(result.com_db), None if result.erl_db is None else float(result.erl_db),
                      result.eq, {c.case or "1": float(c.com_db) for c in result.cases}, plan.gates.com_db_min,
                      erl_min, float(result.elapsed_s))


def _lane_ber(instruments: Instruments, serial: str, gbd: float, plan: Plan, lane: int, faults: list,
              errors: list[str], progress: Callable) -> LaneBer:
    """One gated BER count on the connected lane (a lost sync counts as a failed lane, not an error)."""
    from accbench.instruments.bert import BerSettings, SyncLossError

    settings = BerSettings(gbd * 1e9, plan.pattern, plan.gate_s, sync_timeout_s=0.5)
    try:
        ber = _retry(instruments, serial, "bert", lambda: instruments["bert"].measure_ber(settings), faults, progress)
        return LaneBer(lane, int(ber.bits), None if ber.errors is None else int(ber.errors), ber.ber,
                       float(ber.ber_upper), bool(ber.sync_lost))
    except SyncLossError as exc:
        errors.append(f"lane {lane} {gbd:g} GBd: {exc}")
        return LaneBer(lane, 0, None, None, 1.0, True)


@dataclass
class Acquisition:
    """What the instruments gave for one cable: the sweep, the BER counts per measured rate and lane,
    the supply draw, what went wrong (errors, mended faults) and the seconds of each instrument step."""

    freq_hz: np.ndarray
    s: np.ndarray
    lanes: dict[float, list[LaneBer]]
    power_w: float | None
    power_at_gbd: float | None
    errors: list[str]
    faults: list[FaultRecovered]
    timing_s: dict[str, float]


def acquire(plan: Plan, cable: Cable, station: Station, instruments: Instruments,
            progress: Callable = lambda event: None, faults: list[FaultRecovered] | None = None,
            stop: threading.Event | None = None) -> Acquisition:
    """The instrument part of one cable: sweep (lane 1), a gated BER per lane and measured rate, the supply draw.

    It needs nothing computed from the cable, so a pipelined run drives the instruments for one cable
    while another process computes the previous one. The faults a retry mended go into ``faults`` as
    they happen, so they are kept even when a later fault stops the cable. ``stop`` (set by another
    thread) ends it before its next step with ``AcquisitionStopped``.
    """
    from accbench.instruments.power import OverCurrentError
    from accbench.instruments.vna import SweepSettings

    inst = instruments.open_all()  # re-opens an instrument a fault on the previous cable left closed
    clock = _Clock(cable.serial, progress, stop)
    faults = [] if faults is None else faults
    errors: list[str] = []
    with clock.step("sweep"):
        station.connect(cable.serial, 1)
        network = _retry(instruments, cable.serial, "vna",
                         lambda: inst["vna"].measure_sparams(SweepSettings(**station.sweep)).network, faults, progress)
    lanes: dict[float, list[LaneBer]] = {gbd: [] for gbd in plan.rates_gbd if gbd in plan.measured_rates_gbd}
    for lane in range(1, cable.lanes + 1):
        if lane > 1:
            station.connect(cable.serial, lane)
        for gbd in lanes:
            with clock.step("bert", f"lane {lane} {gbd:g} GBd"):
                lanes[gbd].append(_lane_ber(instruments, cable.serial, gbd, plan, lane, faults, errors, progress))
    power_w = power_at = None
    with clock.step("power"):
        try:
            def draw() -> float:
                supply = inst["power"]
                supply.power_up([1, 2], station.supply_v)
                return supply.measure([1, 2], points=256).total_w

            power_w = float(_retry(instruments, cable.serial, "power", draw, faults, progress))
            power_at = list(lanes)[-1] if lanes else None
        except OverCurrentError as exc:
            errors.append(str(exc))
    return Acquisition(network.f, network.s, lanes, power_w, power_at, errors, faults,
                       {k: v for k, v in clock.split.items() if v})


def compute(plan: Plan, cable: Cable, acquired: Acquisition, two_x_thru=None,
            progress: Callable = lambda event: None) -> tuple[np.ndarray, np.ndarray, CableResult, dict]:
    """The computing part of one cable from what the instruments gave: figures per rate, link model and
    reach, COM/ERL, verdicts; (freq_hz, s, judged result, model arrays). ``two_x_thru``: the station's
    fixture half to de-embed, or None."""
    from dataclasses import replace

    import skrf as rf
    from accbench.dsp import AnalysisOptions, analyze_rates
    from accbench.dsp.channel import MeasuredChannel, TwinaxChannel
    from accbench.dsp.deembed import deembed_2xthru
    from accbench.dsp.portmap import resolve_port_map, to_se2gmm_order

    lot = plan.lots[cable.lot]
    clock = _Clock(cable.serial, progress)
    network = rf.Network(frequency=rf.Frequency.from_f(acquired.freq_hz, unit="Hz"), s=acquired.s)
    with clock.step("analysis"):
        deembedded = two_x_thru is not None
        if deembedded:
            network = deembed_2xthru(to_se2gmm_order(network, resolve_port_map(network, "auto")[0]), two_x_thru)
        bauds = [gbd * 1e9 for gbd in plan.rates_gbd]
        results = analyze_rates(network, bauds, AnalysisOptions(mask=plan.gates.il_mask), masked_baud=min(bauds),
                                name=cable.serial)
        channel = MeasuredChannel.from_analysis(results[0], cable.length_m, name=cable.serial)
        baseline = TwinaxChannel(wire_spec(lot, cable, carbon=False))
    rates, arrays = [], {}
    for gbd, figs in zip(plan.rates_gbd, results, strict=True):
        rate, more = _rate(plan, cable, channel, figs, baseline, gbd, clock)
        rates.append(replace(rate, lanes=tuple(acquired.lanes.get(gbd, ()))))
        arrays.update(more)
    for clause in plan.com_clauses:
        with clock.step("COM", clause):
            com = _com_of(plan, clause, network)
        rates = [replace(r, com=com) if abs(r.gbd * 1e9 - _clause_baud(clause)) < 1e3 else r for r in rates]
    at = acquired.power_at_gbd or max(r.gbd for r in rates)  # the rate the cable ran at while measured
    timing = {step: acquired.timing_s.get(step, 0.0) + clock.split[step] for step in STEPS}
    result = CableResult(
        serial=cable.serial, wire_lot=cable.lot, carbon_mg_m2=lot.carbon_mg_m2, length_m=cable.length_m,
        lanes=cable.lanes, rates=tuple(rates), power_w=acquired.power_w, power_at_gbd=acquired.power_at_gbd,
        predicted_power_w=next(r.link.predicted_power_w for r in rates if r.gbd == at),
        errors=tuple(acquired.errors), notes=tuple(f.text() for f in acquired.faults), timing_s=timing,
        deembedded=deembedded)
    return network.f, network.s, result.with_verdicts(evaluate(result, plan)), arrays


def measure_cable(plan: Plan, cable: Cable, station: Station, instruments: Instruments,
                  progress: Callable = lambda event: None,
                  faults: list[FaultRecovered] | None = None) -> tuple[np.ndarray, np.ndarray, CableResult, dict]:
    """All measurements and figures of one cable: (freq_hz, s, judged result, model arrays): ``acquire`` then
    ``compute``. The faults a retry mended go into ``faults`` as they happen."""
    acquired = acquire(plan, cable, station, instruments, progress, faults)
    return compute(plan, cable, acquired, station.two_x_thru, progress)


def _clause_baud(clause: str) -> float:
    from accbench.dsp.com import load_clause

    return load_clause(clause).baud


def failed_cable(plan: Plan, cable: Cable, error: str) -> CableResult:
    """The result of a cable whose measurement an instrument fault stopped (it fails; the run goes on)."""
    return CableResult(serial=cable.serial, wire_lot=cable.lot, carbon_mg_m2=plan.lots[cable.lot].carbon_mg_m2,
                       length_m=cable.length_m, lanes=cable.lanes, errors=(error,), instrument_error=error)
