"""Declared gates: outcomes at, in and beyond the marginal band; the worst gate decides; a gate is one declaration."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from accbench.bench.gates import GATES, REACH_RESOLUTION_M, Gate, Reading, evaluate, verdict
from accbench.bench.plan import Gates, Lot, Plan
from accbench.bench.results import (
    CableResult,
    ComFigures,
    LaneBer,
    LinkPrediction,
    ModelInputs,
    RateResult,
    worst_outcome,
)

PLAN = Plan("t", (53.125, 106.25), 2.4e-4, 1, Gates(reach_m=3.0, power_w_max=5.0, il_mask="ieee802.3ck-ca"),
            {"L": Lot("L", 10.0)}, (), ber_rates_gbd=(53.125,))


def _rate(gbd: float, reach_m: float, lanes=(), com=None, mask=1.0) -> RateResult:
    link = LinkPrediction(1e-9, 3.0, 0.1, reach_m, 2.0, -5.0, 0.0, 3.0, ModelInputs(1.0, {"rx": 0.01}, 1.0, 0.0))
    return RateResult(gbd, gbd / 2 * 1e9, 10.0, 0.5, 9.5, mask, 0.1, 15.0, link, bool(lanes), tuple(lanes), com)


def _cable(reach_m=4.0, power_w=4.0, ber_upper=1e-9, com_db=5.0, mask=1.0) -> CableResult:
    com = ComFigures("802.3ck-cr", com_db, 20.0, {}, {"1": com_db}, 3.0, 8.25, 1.0)
    rates = (_rate(53.125, 9.0, [LaneBer(1, 10**9, 1, 1e-9, ber_upper, False)], com, mask),
             _rate(106.25, reach_m))
    return CableResult("S1", "L", 10.0, 3.0, 1, rates, power_w, 53.125, 3.9)


def _outcomes(cable: CableResult) -> dict[str, str]:
    return {v.name: v.outcome for v in evaluate(cable, PLAN)}


def test_a_good_cable_passes_every_gate_with_its_margin():
    verdicts = {v.name: v for v in evaluate(_cable(), PLAN)}
    assert set(verdicts) == {"il_mask", "reach", "ber", "power", "com", "erl"}
    assert all(v.outcome == "pass" for v in verdicts.values())
    assert verdicts["reach"].margin == pytest.approx(1.0) and verdicts["reach"].unit == "m"
    assert verdicts["power"].margin == pytest.approx(1.0) and verdicts["power"].comparison == "<="
    assert verdicts["com"].margin == pytest.approx(2.0) and verdicts["com"].detail == "802.3ck-cr"


@pytest.mark.parametrize(("reach_m", "outcome"), [
    (3.0 + 2 * REACH_RESOLUTION_M, "pass"),
    (3.0 + 0.5 * REACH_RESOLUTION_M, "marginal"),
    (3.0, "marginal"),
    (3.0 - 0.5 * REACH_RESOLUTION_M, "marginal"),  # short by less than the search can resolve: not a fail
    (3.0 - 2 * REACH_RESOLUTION_M, "fail"),
])
def test_reach_within_the_search_resolution_of_the_limit_is_marginal(reach_m, outcome):
    cable = _cable(reach_m=reach_m)
    assert _outcomes(cable)["reach"] == outcome
    assert cable.with_verdicts(evaluate(cable, PLAN)).outcome == outcome


def test_the_worst_gate_decides_fail_over_marginal_over_pass():
    assert worst_outcome(["pass", "marginal", "pass"]) == "marginal"
    assert worst_outcome(["marginal", "fail"]) == "fail"
    assert worst_outcome([]) == "pass"
    cable = _cable(reach_m=3.0, power_w=6.0)
    judged = cable.with_verdicts(evaluate(cable, PLAN))
    assert _outcomes(cable)["reach"] == "marginal" and judged.outcome == "fail" and not judged.passed


def test_a_gate_without_a_value_fails_and_says_so():
    cable = _cable(power_w=None)
    power = next(v for v in evaluate(cable, PLAN) if v.name == "power")
    assert power.outcome == "fail" and power.margin is None and "not measured" in power.detail


def test_ber_gate_uses_the_upper_bound_and_a_lost_sync_fails():
    assert _outcomes(_cable(ber_upper=1e-3))["ber"] == "fail"
    assert _outcomes(_cable(ber_upper=2.4e-4))["ber"] == "pass"  # at the limit, no band: the bound meets it


def test_gates_that_do_not_apply_are_left_out():
    plan = replace(PLAN, gates=replace(PLAN.gates, il_mask=None))
    cable = replace(_cable(), rates=tuple(replace(r, com=None) for r in _cable().rates))
    assert {v.name for v in evaluate(cable, plan)} == {"reach", "ber", "power"}


def test_adding_a_gate_is_one_declaration():
    eye = Gate("eye_height", "eye height of the link model at the top rate", "V", ">=", 0.005,
               lambda cable, plan: Reading(max(cable.rates, key=lambda r: r.gbd).link.eye_height, 0.098))
    verdicts = evaluate(_cable(), PLAN, (*GATES, eye))
    mine = verdicts[-1]
    assert mine.name == "eye_height" and mine.outcome == "marginal" and math.isclose(mine.margin, 0.002)


def test_verdict_of_a_nan_is_a_fail_not_a_pass():
    gate = GATES[1]
    assert verdict(gate, Reading(float("nan"), 3.0)).outcome == "fail"
    assert verdict(gate, Reading(float("inf"), 3.0)).outcome == "pass"
