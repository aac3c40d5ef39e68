"""Declared gates: each names what it measures, its unit, how the value meets the limit and its marginal band.

As OpenHTF measurements declare their limits, a ``Gate`` is data plus one reading function that
takes the value and the limit from a cable's typed result and the plan; ``evaluate`` turns every
reading into a ``GateVerdict`` in one place. Adding a gate is one declaration in ``GATES``. A value
within the band of its limit (the resolution of what is measured, e.g. the reach search's step)
is "marginal", its own outcome: neither a pass nor a fail by less than the model can resolve.
The readings take dsp's own figures and limits: the mask margin of ``accbench.dsp.masks``, the reach of
``accbench.dsp.reach.find_reach``, the COM and ERL of ``accbench.dsp.com`` with the clause's ERL limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from accbench.bench.plan import Plan
from accbench.bench.results import CableResult, GateVerdict

REACH_RESOLUTION_M = 0.05  # the step of the reach search in the run (dsp.reach.find_reach resolution_m)


@dataclass(frozen=True)
class Reading:
    """A gate's value and limit for one cable (``detail``: what it was read from, e.g. the clause)."""

    value: float | None
    limit: float
    detail: str = ""


@dataclass(frozen=True)
class Gate:
    """A declared gate: name, what it measures, unit, comparison, marginal band and how to read it."""

    name: str
    measures: str
    unit: str
    comparison: Literal[">=", "<="]
    band: float
    read: Callable[[CableResult, Plan], Reading | None]  # None: the gate does not apply to this plan/cable


def _il_mask(cable: CableResult, plan: Plan) -> Reading | None:
    if plan.gates.il_mask is None or not cable.rates:
        return None
    low = min(cable.rates, key=lambda r: r.gbd)
    return Reading(low.mask_margin_db, 0.0, f"{plan.gates.il_mask} at {low.gbd:g} GBd")


def _reach(cable: CableResult, plan: Plan) -> Reading | None:
    if not cable.rates:
        return None
    top = max(cable.rates, key=lambda r: r.gbd)
    return Reading(top.link.reach_m, plan.gates.reach_m, f"link model at {top.gbd:g} GBd")


def _ber(cable: CableResult, plan: Plan) -> Reading | None:
    bounds = [(r.ber_upper_95, r.gbd) for r in cable.rates if r.ber_measured and r.ber_upper_95 is not None]
    if not bounds:
        return None
    worst, gbd = max(bounds)
    return Reading(worst, plan.target_ber, f"worst lane's 95 % upper bound, at {gbd:g} GBd")


def _power(cable: CableResult, plan: Plan) -> Reading | None:
    at = f" at {cable.power_at_gbd:g} GBd" if cable.power_at_gbd else ""
    return Reading(cable.power_w, plan.gates.power_w_max, "supply draw" + at)


def _com(cable: CableResult, plan: Plan) -> Reading | None:
    coms = [r.com for r in cable.rates if r.com is not None]
    if not coms:
        return None
    worst = min(coms, key=lambda c: c.com_db - c.com_db_min)
    return Reading(worst.com_db, worst.com_db_min, worst.clause)


def _erl(cable: CableResult, plan: Plan) -> Reading | None:
    erls = [r.com for r in cable.rates if r.com is not None and r.com.erl_db is not None and r.com.erl_db_min
            is not None]
    if not erls:
        return None
    worst = min(erls, key=lambda c: c.erl_db - c.erl_db_min)
    return Reading(worst.erl_db, worst.erl_db_min, worst.clause)


GATES: tuple[Gate, ...] = (
    Gate("il_mask", "margin of the differential IL to the plan's IL mask at the lowest rate", "dB", ">=", 0.0,
         _il_mask),
    Gate("reach", "reach of the link model on the measured channel at the top rate", "m", ">=", REACH_RESOLUTION_M,
         _reach),
    Gate("ber", "measured BER (95 % upper confidence bound) at the rates the BERT counts", "", "<=", 0.0, _ber),
    Gate("power", "supply draw of the cable while running", "W", "<=", 0.0, _power),
    Gate("com", "IEEE COM of the passive assembly, worst clause of the plan", "dB", ">=", 0.0, _com),
    Gate("erl", "IEEE ERL of the passive assembly, worst clause of the plan", "dB", ">=", 0.0, _erl),
)


def verdict(gate: Gate, reading: Reading) -> GateVerdict:
    """The verdict of one reading: pass, marginal within the band of the limit, fail; no value is a fail."""
    value, limit = reading.value, reading.limit
    if value is None or math.isnan(value):
        return GateVerdict(gate.name, gate.measures, gate.unit, None, limit, gate.comparison, None, gate.band, "fail",
                           reading.detail + "; not measured")
    margin = value - limit if gate.comparison == ">=" else limit - value
    if abs(margin) < gate.band:
        outcome = "marginal"
    else:
        outcome = "pass" if margin >= 0 else "fail"
    return GateVerdict(gate.name, gate.measures, gate.unit, value, limit, gate.comparison, margin, gate.band, outcome,
                       reading.detail)


def evaluate(cable: CableResult, plan: Plan, gates: tuple[Gate, ...] = GATES) -> tuple[GateVerdict, ...]:
    """Every gate that applies to ``cable`` under ``plan``, judged."""
    out = []
    for gate in gates:
        reading = gate.read(cable, plan)
        if reading is not None:
            out.append(verdict(gate, reading))
    return tuple(out)
