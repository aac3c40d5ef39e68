"""Traceability to wire surface carbon: the lot table, the lot-level inference on reach and the carbon limits.

Cables of one lot share one carbon value, so the *lot* is the experimental unit: every statistic
here is computed on lot means (one point per lot, degrees of freedom from lots), and adding
cables to a lot sharpens its mean but never counts as more evidence about carbon.

* ``regressions``: per figure (excess IL per rate, reach) the hinge fit
  ``y = a + b * max(0, C - knee)`` on lot means, the knee profiled (``accbench.bench.carbonfit``);
  the slope's interval carries the knee's uncertainty.
* ``inference``: for reach (the gated figure) the same fit with its 95 % band, Davies' test for a
  change point and for any carbon effect (``accbench.bench.carbontest``), the onset with its
  profile-likelihood interval; "insufficient data" with what is needed when the lots are too few.
* ``limits``: the carbon at which the lots' reach crosses the reach and stretch gates, with
  Fieller's 95 % interval from the lots either side (``accbench.bench.carbonlimit``), marked
  ``extrapolated`` when outside the carbon measured.
* ``lots``: the lot table (``accbench.bench.carbonlots``), with the wire-only pass rate and the
  unit defects (power, BER, model outliers) counted apart.

Excess loss is the measured IL over the twinax model of the same wire at zero carbon (so the
wire's grade and size are already in the baseline); the other lot properties still enter its
regression as covariates where they vary and the lots leave degrees of freedom for them.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from accbench.bench.carbonfit import HingeFit, fit_hinge
from accbench.bench.carbonlimit import reach_limit
from accbench.bench.carbonlots import lot_table
from accbench.bench.carbontest import davies_test
from accbench.bench.plan import Plan
from accbench.bench.results import CableResult

MIN_EXCESS_DB = 0.1  # excess loss changes smaller than this over the lots are not an effect
MIN_REACH_M = 0.1  # two steps of the reach search (0.05 m)
MIN_LEVELS = 6  # hinge (level, slope, knee) + Davies' test: three residual degrees of freedom at least
ALPHA = 0.05
METHOD = ("OLS on lot means (one point per lot, degrees of freedom from lots) of each cable's reach estimate (the "
          "midpoint of its reach search's final bracket; the gate itself uses the bracket's passing end): "
          "reach = a + b * max(0, C - onset), "
          "onset profiled (profile-likelihood interval; slope and band: union over the onset's interval); "
          "Davies' test for the change point; limits: Fieller's interval of the local line through the "
          f"{2} lots either side of where reach crosses the gate")


def hinge_fit(x: np.ndarray, y: np.ndarray, covariates: dict[str, np.ndarray] | None = None,
              min_effect: float = 0.0) -> dict | None:
    """Hinge fit of ``y`` on ``x`` (give one point per lot) as a dict; None when too few points.

    The effect is ``significant`` when the slope's 95 % interval (carrying the knee's uncertainty)
    excludes zero and the fitted change over the observed range exceeds ``min_effect`` (below
    that, e.g. the reach search's resolution, a "trend" is measurement granularity, not carbon).
    ``effect_p_value`` is Davies' bound for any effect of the hinge shape (no covariates) or None.

    ``covariates`` (other lot properties, one value per point) enter as extra linear terms when
    they vary and the distinct points leave degrees of freedom for them; the others are listed in
    ``covariates_dropped`` with the reason.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 4 or np.unique(x).size < 3:
        return None
    extra, dropped = [], {}
    groups = len({tuple(row) for row in np.column_stack([x] + [np.asarray(v, float) for v in
                                                               (covariates or {}).values()])})
    for name, values in (covariates or {}).items():
        values = np.asarray(values, float)
        if np.ptp(values) == 0:
            dropped[name] = "the same in every lot"
        elif groups <= 4 + len(extra):  # intercept, slope, hinge, the covariates kept, one to spare
            dropped[name] = "too few distinct lots to separate it from carbon"
        else:
            extra.append((name, values))
    fit = fit_hinge(x, y, np.column_stack([v for _, v in extra]) if extra else None, band=False)
    if fit is None:
        return None
    return _fit_dict(fit, x, [name for name, _ in extra], dropped, min_effect,
                     None if extra else davies_test(x, y, null="constant"))


def _fit_dict(fit: HingeFit, x: np.ndarray, names: list[str], dropped: dict, min_effect: float, effect) -> dict:
    change = fit.slope * float(np.max(np.maximum(0.0, x - fit.knee)))
    terms = {name: {"coef": fit.coef[2 + i], "ci95": list(fit.coef_ci95[2 + i]),
                    "significant": not (fit.coef_ci95[2 + i][0] <= 0.0 <= fit.coef_ci95[2 + i][1])}
             for i, name in enumerate(names)}
    return {"threshold_mg_m2": max(fit.knee, 0.0), "threshold_ci95": list(fit.knee_ci95),
            "intercept": fit.intercept, "slope_per_mg_m2": fit.slope, "slope_ci95": list(fit.slope_ci95),
            "statistically_significant": fit.slope_excludes_zero, "change_over_range": change,
            "significant": bool(fit.slope_excludes_zero and abs(change) > min_effect),
            "effect_p_value": None if effect is None else effect.p_value,
            "rms_residual": float(np.sqrt(fit.rss / fit.points)), "points": fit.points, "unit": "lot", "df": fit.df,
            "covariates": terms, "covariates_dropped": dropped}


def _covariates(plan: Plan, lot_ids: list[str]) -> dict[str, np.ndarray]:
    """The other lot properties per lot (grade as 1 for Cu-OFC; oxygen, roughness, wire size)."""
    lots = [plan.lots[i] for i in lot_ids]
    out = {"grade_ofc": np.array([1.0 if lot.grade == "Cu-OFC" else 0.0 for lot in lots]),
           "roughness_um": np.array([lot.roughness_um for lot in lots])}
    if all(lot.oxygen_ppm is not None for lot in lots):
        out["oxygen_ppm"] = np.array([lot.oxygen_ppm for lot in lots])
    if all(lot.diameter_mm for lot in lots):
        out["diameter_mm"] = np.array([lot.diameter_mm for lot in lots])
    elif all(lot.awg for lot in lots):
        out["awg"] = np.array([lot.awg for lot in lots])
    return out


def _suggest_levels(levels: np.ndarray, count: int) -> list[float]:
    """``count`` new carbon levels, each splitting the widest gap left between the levels (rounded to 5)."""
    have = sorted(float(v) for v in levels)
    new: list[float] = []
    for _ in range(count):
        if len(have) < 2:
            have.append(have[-1] + 50.0 if have else 50.0)
            new.append(have[-1])
            continue
        gaps = [(b - a, a, b) for a, b in pairwise(have)]
        _, a, b = max(gaps)
        mid = float(5 * round((a + b) / 10))
        mid = mid if a < mid < b else (a + b) / 2
        have = sorted([*have, mid])
        new.append(mid)
    return sorted(new)


def needed_text(carbon: np.ndarray) -> str:
    """What the lot-level fit needs beyond ``carbon`` (one value per lot), in words."""
    levels = np.unique(carbon)
    more = MIN_LEVELS - levels.size
    span = f"{levels.min():g}-{levels.max():g} mg/m^2" if levels.size else "no carbon measured"
    suggestion = ", ".join(f"{v:g}" for v in _suggest_levels(levels, more))
    return (f"{carbon.size} lot(s) at {levels.size} carbon level(s) ({span}); the lot-level fit of reach on "
            f"carbon (level, slope, onset) and Davies' test need at least {MIN_LEVELS} lots at distinct carbon "
            f"levels: add at least {more} lot(s) at new levels, e.g. at {suggestion} mg/m^2 (filling the widest "
            "gaps), with two lots at least either side of each limit (see the limits)")


def lot_inference(carbon: np.ndarray, reach: np.ndarray) -> dict:
    """The lot-level inference on reach (see the module): the ``inference`` entry of the summary."""
    carbon, reach = np.asarray(carbon, float), np.asarray(reach, float)
    levels = int(np.unique(carbon).size)
    out = {"unit": "lot", "lots": int(carbon.size), "carbon_levels": levels, "method": METHOD,
           "change_point": {"test": "Davies", "p_value": None, "detected": False}, "effect_p_value": None,
           "onset_mg_m2": None, "onset_ci95": None, "slope_per_mg_m2": None, "slope_ci95": None, "band": None,
           "status": "insufficient data", "needed": None}
    fit = fit_hinge(carbon, reach) if levels >= MIN_LEVELS else None
    if fit is None:
        out["needed"] = needed_text(carbon)
        return out
    change = davies_test(carbon, reach, null="linear")
    effect = davies_test(carbon, reach, null="constant")
    detected = change is not None and change.p_value < ALPHA
    out["change_point"] = {"test": "Davies", "p_value": None if change is None else change.p_value,
                           "detected": bool(detected)}
    out["effect_p_value"] = None if effect is None else effect.p_value
    out["slope_per_mg_m2"], out["slope_ci95"] = fit.slope, list(fit.slope_ci95)
    band = fit.band
    out["band"] = {"carbon_mg_m2": band["carbon_mg_m2"], "reach_m": band["fit"], "lo": band["lo"], "hi": band["hi"]}
    if effect is None or effect.p_value >= ALPHA:
        out["status"] = "no significant effect"
        return out
    out["status"] = "estimated"
    out["onset_ci95"] = list(fit.knee_ci95)
    if detected:
        out["onset_mg_m2"] = fit.knee
    return out


def lot_summary(plan: Plan, cables: list[CableResult], outliers: set[str] | None = None) -> dict:
    """Per-lot table, lot-level regressions and inference on reach, and the carbon limits of the reach gates.

    ``outliers``: serials the model-vs-measurement fit flagged (counted as unit defects of their lot).
    """
    lots = lot_table(plan, cables, outliers)
    measured = [lot for lot in lots if lot["cables"] and lot["reach_estimate_m"] is not None]
    carbon = np.array([lot["carbon_mg_m2"] for lot in measured], float)
    regressions: dict[str, dict | None] = {}
    covariates = _covariates(plan, [lot["id"] for lot in measured])
    for gbd in plan.rates_gbd:
        key = f"excess_il_db_{gbd:g}"
        rows = [(lot["carbon_mg_m2"], lot[key]) for lot in measured if lot[key] is not None]
        keep = [i for i, lot in enumerate(measured) if lot[key] is not None]
        regressions[key] = hinge_fit(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
                                     {k: v[keep] for k, v in covariates.items()}, min_effect=MIN_EXCESS_DB)
    reach = np.array([lot["reach_estimate_m"] for lot in measured], float)
    regressions["reach_m"] = hinge_fit(carbon, reach, min_effect=MIN_REACH_M)
    inference = lot_inference(carbon, reach)
    limits = [reach_limit(carbon, reach, plan.gates.reach_m, "reach_m"),
              reach_limit(carbon, reach, plan.gates.stretch_m, "stretch_m")]
    if inference["status"] == "insufficient data":
        for limit in limits:  # the limit's local line alone is not evidence enough without the lot-level fit
            if limit["status"] == "estimated":
                limit.update(status="insufficient data", needed=inference["needed"])
    point = [lim["carbon_mg_m2"] if lim["status"] == "estimated" else None for lim in limits]
    effect = {"estimated": "significant"}.get(inference["status"], inference["status"])
    return {"lots": lots, "regressions": regressions, "inference": inference, "limits": limits,
            "carbon_limit_mg_m2": point[0], "carbon_limit_stretch_mg_m2": point[1], "effect": effect}
