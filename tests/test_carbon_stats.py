"""The lot-level carbon statistics against independent truths: statsmodels/scipy computed here, Davies'
test on synthetic data with and without a break, the example's three lots, extrapolation, and that
cables of one lot are not counted as independent evidence about carbon."""

from __future__ import annotations

import json

import numpy as np
import pytest
import statsmodels.api as sm
from accbench.bench.carbonfit import fit_hinge
from accbench.bench.carbonlimit import fieller, reach_limit
from accbench.bench.carbontest import davies_test
from accbench.bench.gates import evaluate
from accbench.bench.plan import load_plan, parse_plan
from accbench.bench.results import CableResult, LinkPrediction, ModelInputs, RateResult
from accbench.bench.traceability import MIN_LEVELS, lot_summary

from .conftest import FIXTURES

PLAN = FIXTURES / "plans" / "lot-qual-example.toml"


def reach_curve(carbon):
    """A smooth onset-and-saturation reach curve like the twin's (5.2 m clean, 2.84 m at 300 mg/m^2)."""
    return np.interp(carbon, [0, 50, 100, 150, 200, 300], [5.19, 5.19, 3.68, 3.05, 2.88, 2.84])


def cable(serial: str, lot: str, carbon: float, reach: float, plan, power_w: float = 3.0) -> CableResult:
    """A judged cable with the figures the lot statistics read (one rate: the plan's top)."""
    link = LinkPrediction(1e-9, 3.0, 0.1, reach, 1.0, -5.0, 0.0, 3.0, ModelInputs(10, {}, 0.0, False))
    rate = RateResult(gbd=max(plan.rates_gbd), nyquist_hz=26.6e9, il_db=15.0 + carbon / 50, excess_il_db=carbon / 50,
                      baseline_il_db=15.0, mask_margin_db=2.0, ild_rms_db=0.1, rl_db=15.0, link=link,
                      ber_measured=False)
    result = CableResult(serial, lot, carbon, 3.0, 1, rates=(rate,), power_w=power_w, predicted_power_w=3.0)
    return result.with_verdicts(evaluate(result, plan))


def make_plan(carbons, cables_per_lot: int = 1):
    lots = [{"id": f"L{i}", "carbon_mg_m2": float(c)} for i, c in enumerate(carbons)]
    cables = [{"serial": f"C{i}-{k}", "lot": f"L{i}", "length_m": 3.0} for i in range(len(carbons))
              for k in range(cables_per_lot)]
    data = {"run": {"name": "t", "rates_gbd": [106.25], "ber_rates_gbd": []}, "lots": lots, "cables": cables}
    return parse_plan(data, source=json.dumps(data))


def run_of(carbons, reach, cables_per_lot: int = 1, spread: float = 0.0):
    """A plan and its judged cables; each lot's cables spread symmetrically about the lot's reach."""
    plan = make_plan(carbons, cables_per_lot)
    offsets = np.linspace(-spread, spread, cables_per_lot) if cables_per_lot > 1 else [0.0]
    cables = [cable(f"C{i}-{k}", f"L{i}", float(c), float(r + offsets[k]), plan)
              for i, (c, r) in enumerate(zip(carbons, reach, strict=True)) for k in range(cables_per_lot)]
    return plan, cables


CARBON = np.array([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 240.0])
NOISE = np.random.default_rng(7).normal(0, 0.02, CARBON.size)


def test_lot_mean_hinge_matches_statsmodels_at_its_knee():
    y = reach_curve(CARBON) + NOISE
    fit = fit_hinge(CARBON, y)
    design = np.column_stack([np.ones_like(CARBON), np.maximum(0, CARBON - fit.knee)])
    direct = sm.OLS(y, design).fit()
    assert fit.intercept == pytest.approx(direct.params[0]) and fit.slope == pytest.approx(direct.params[1])
    assert fit.df == CARBON.size - 3  # intercept, slope and the knee, from lots
    # the reported interval carries the knee: it contains the t interval at the best knee alone
    lo, hi = direct.conf_int(0.05)[1]
    assert fit.slope_ci95[0] <= lo and hi <= fit.slope_ci95[1]
    # the knee is the least-squares one over the grid: no knee fits better
    for knee in np.linspace(0, 200, 41):
        other = sm.OLS(y, np.column_stack([np.ones_like(CARBON), np.maximum(0, CARBON - knee)])).fit()
        assert other.ssr >= fit.rss - 1e-12


def test_fieller_interval_is_where_the_lines_confidence_interval_meets_the_gate():
    x, y = np.array([120, 140, 160, 180.0]), np.array([3.30, 3.12, 3.03, 2.93])
    out = fieller(x, y, 3.0)
    direct = sm.OLS(y, sm.add_constant(x)).fit()
    assert out["carbon_mg_m2"] == pytest.approx((3.0 - direct.params[0]) / direct.params[1])
    lo, hi = out["ci95"]
    upper_at_hi = direct.get_prediction(np.array([[1.0, hi]])).conf_int(alpha=0.05)[0, 1]
    lower_at_lo = direct.get_prediction(np.array([[1.0, lo]])).conf_int(alpha=0.05)[0, 0]
    assert upper_at_hi == pytest.approx(3.0, abs=1e-9) and lower_at_lo == pytest.approx(3.0, abs=1e-9)


def test_davies_statistic_is_the_largest_t_and_reduces_to_the_t_test_on_one_knee():
    rng = np.random.default_rng(3)
    x = np.linspace(0, 100, 14)
    y = 1.0 + 0.01 * x + 0.03 * np.maximum(0, x - 60) + rng.normal(0, 0.05, x.size)
    result = davies_test(x, y)
    ts = []
    for knee in np.linspace(x[1], x[-2], 10):
        design = np.column_stack([np.maximum(0, x - knee), np.ones_like(x), x])
        ts.append(sm.OLS(y, design).fit().tvalues[0])
    assert result.statistic == pytest.approx(np.max(np.abs(ts))) and result.df == x.size - 3
    # one knee: no search, so the bound is the two-sided t test of the hinge term (known answer)
    one = davies_test(x, y, k=1)
    design = np.column_stack([np.maximum(0, x - x[1]), np.ones_like(x), x])
    assert one.p_value == pytest.approx(sm.OLS(y, design).fit().pvalues[0], rel=1e-9)


def test_davies_test_rejects_a_clear_break_and_holds_its_size_without_one():
    rng = np.random.default_rng(11)
    x = np.linspace(0, 300, 16)
    broken = davies_test(x, 5.0 - 0.02 * np.maximum(0, x - 100) + rng.normal(0, 0.05, x.size))
    assert broken.p_value < 1e-4 and 60 <= broken.best_knee <= 140
    rejected = sum(davies_test(x, 5.0 - 0.004 * x + rng.normal(0, 0.05, x.size)).p_value < 0.05 for _ in range(300))
    assert rejected / 300 <= 0.08  # an upper bound on the p-value: conservative at 5 %
    flat = davies_test(x, 5.0 + rng.normal(0, 0.05, x.size), null="constant")
    assert flat.p_value > 0.05 or flat.statistic < 3


def test_the_examples_three_lots_are_insufficient_data_and_say_what_is_needed():
    plan = load_plan(PLAN)
    reach = {"W-1001": 5.19, "W-1002": 5.19, "W-1003": 2.99}
    cables = [cable(c.serial, c.lot, plan.lots[c.lot].carbon_mg_m2, reach[c.lot], plan) for c in plan.cables]
    summary = lot_summary(plan, cables)
    inf = summary["inference"]
    assert inf["status"] == "insufficient data" and inf["lots"] == 3 and inf["carbon_levels"] == 3
    assert f"at least {MIN_LEVELS} lots" in inf["needed"] and "add at least 3 lot(s)" in inf["needed"]
    assert inf["band"] is None and inf["onset_mg_m2"] is None and inf["change_point"]["p_value"] is None
    assert [lim["gate"] for lim in summary["limits"]] == ["reach_m", "stretch_m"]
    for lim in summary["limits"]:
        assert lim["status"] == "insufficient data" and lim["carbon_mg_m2"] is None
        assert "between 45 and 160 mg/m^2" in lim["needed"] and "above 160 mg/m^2" in lim["needed"]
    assert summary["carbon_limit_mg_m2"] is None and summary["carbon_limit_stretch_mg_m2"] is None
    assert summary["effect"] == "insufficient data"
    json.dumps(summary, allow_nan=False)  # the record keeps it as JSON
    for lot in summary["lots"]:
        assert all(v is None or isinstance(v, int | float | str) for v in lot.values())


def test_many_lots_give_limits_with_intervals_inside_the_range():
    plan, cables = run_of(CARBON, reach_curve(CARBON) + NOISE / 4)  # reach to ~5 mm, as the twin's search gives
    summary = lot_summary(plan, cables)
    inf = summary["inference"]
    assert inf["status"] == "estimated" and inf["slope_per_mg_m2"] < 0 and inf["slope_ci95"][1] < 0
    band = inf["band"]
    assert len(band["carbon_mg_m2"]) == len(band["lo"]) == len(band["hi"]) == len(band["reach_m"])
    assert all(lo <= m <= hi for lo, m, hi in zip(band["lo"], band["reach_m"], band["hi"], strict=True))
    reach3 = summary["limits"][0]
    assert reach3["status"] == "estimated" and not reach3["extrapolated"]
    assert reach3["ci95"][0] < reach3["carbon_mg_m2"] < reach3["ci95"][1]
    assert 140 < reach3["carbon_mg_m2"] < 200 and summary["carbon_limit_mg_m2"] == reach3["carbon_mg_m2"]


def test_a_limit_outside_the_carbon_measured_is_marked_extrapolated():
    carbon = np.array([150, 170, 190, 210, 230, 250.0])
    every_lot_fails = reach_limit(carbon, 2.95 - 0.001 * (carbon - 150), 3.0, "reach_m")
    assert every_lot_fails["extrapolated"] and every_lot_fails["carbon_mg_m2"] < carbon.min()
    low = np.array([0, 10, 20, 30, 40, 50.0])
    every_lot_passes = reach_limit(low, 4.0 - 0.01 * low + np.array([0, 0.01, -0.01, 0, 0.01, 0]), 3.0, "reach_m")
    assert every_lot_passes["status"] == "not reached in the observed range"
    assert every_lot_passes["extrapolated"] and every_lot_passes["carbon_mg_m2"] > low.max()
    plan, cables = run_of(low, 4.0 - 0.01 * low + np.array([0, 0.01, -0.01, 0, 0.01, 0]))
    assert lot_summary(plan, cables)["carbon_limit_mg_m2"] is None  # the headline number is never an extrapolation


def test_more_cables_per_lot_do_not_shrink_the_intervals():
    """Pseudo-replication is gone: three cables of each lot (the same lot mean) carry no more evidence."""
    reach = reach_curve(CARBON) + NOISE
    one = lot_summary(*run_of(CARBON, reach))
    three = lot_summary(*run_of(CARBON, reach, cables_per_lot=3, spread=0.01))
    for key in ("slope_ci95", "onset_ci95"):
        assert three["inference"][key] == pytest.approx(one["inference"][key])
    assert three["limits"][0]["ci95"] == pytest.approx(one["limits"][0]["ci95"])
    assert three["regressions"]["reach_m"]["points"] == CARBON.size


def test_unit_defects_are_kept_apart_from_the_wire():
    plan = make_plan([10.0, 10.0], cables_per_lot=2)
    cables = [cable("C0-0", "L0", 10.0, 5.0, plan), cable("C0-1", "L0", 10.0, 5.0, plan, power_w=7.0),
              cable("C1-0", "L1", 10.0, 5.0, plan), cable("C1-1", "L1", 10.0, 2.0, plan)]
    lots = {lot["id"]: lot for lot in lot_summary(plan, cables, outliers={"C1-0"})["lots"]}
    assert lots["L0"]["pass_rate"] == 0.5 and lots["L0"]["wire_pass_rate"] == 1.0 and lots["L0"]["unit_defects"] == 1
    assert lots["L1"]["wire_pass_rate"] == 0.5 and lots["L1"]["unit_defects"] == 1  # the outlier; reach is the wire's


def test_no_effect_is_reported_as_such():
    rng = np.random.default_rng(5)
    plan, cables = run_of(CARBON, 5.19 + rng.normal(0, 0.01, CARBON.size))
    summary = lot_summary(plan, cables)
    assert summary["inference"]["status"] == "no significant effect" and summary["effect"] == "no significant effect"
    assert summary["limits"][0]["status"] == "not reached in the observed range"
    assert summary["carbon_limit_mg_m2"] is None


def test_a_gate_no_lot_meets_gives_no_limit_and_says_so():
    from accbench.bench.carbonlimit import reach_limit

    carbon = np.array([0, 50, 100, 150, 200, 250.0])
    limit = reach_limit(carbon, np.array([2.9, 2.8, 2.7, 2.6, 2.4, 2.2]), 3.0, "reach_m")
    assert limit["status"] == "not met at any observed carbon level" and limit["carbon_mg_m2"] is None
    assert "carbon-free" in limit["needed"]
    for reach in (np.array([3.3, 3.1, 2.7, 2.6, 2.4, 2.2]), np.array([2.95, 2.9, 2.7, 2.6, 2.4, 2.2]) + 0.1):
        lim = reach_limit(carbon, reach, 3.0, "reach_m")
        ci = lim["ci95"] or [None, None]
        assert ci[0] is None or ci[1] is None or ci[0] <= ci[1]
