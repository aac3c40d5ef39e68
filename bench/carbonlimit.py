"""The carbon limit of a reach gate: where the lots' mean reach crosses the required length, with its interval.

The limit is estimated locally, not from one curve over the whole range: the twin's (and a real
wire's) roughness loss rises smoothly from its onset and saturates, so a hinge's straight line
laid over 0-300 mg/m^2 misses the crossing badly. Instead:

1. the lots' mean reach, in carbon order, is made monotone (non-increasing) by isotonic
   regression (scipy) only to *find* where it crosses the gate: between lot ``k - 1`` (last at or
   above) and lot ``k`` (first below);
2. a straight line is fitted by OLS (statsmodels) to the two lots either side of that crossing
   (four lots, two residual degrees of freedom: the lot is the unit);
3. the limit is where that line meets the gate, and its 95 % interval is Fieller's: the carbon
   values where the line's 95 % confidence interval contains the gate. It is a bounded interval
   only when the slope differs significantly from zero; otherwise an end is None (unbounded).

A limit whose point estimate lies outside the observed carbon range (every lot passes, or every
lot fails) comes from the two lots at that end of the range and is marked ``extrapolated``.
The simulated-bench coverage of this interval is measured by ``scripts/carbon_coverage.py``.
"""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from scipy import optimize, stats

SIDE = 2  # lots on each side of the crossing that the local line uses


def fieller(x: np.ndarray, y: np.ndarray, level: float) -> dict:
    """The carbon where the OLS line of ``y`` on ``x`` equals ``level``, with Fieller's 95 % interval.

    Returns ``{"carbon_mg_m2", "ci95", "intercept", "slope", "slope_ci95", "df"}``; ``ci95`` ends are
    None where the interval is unbounded (slope not significant at 5 %).
    """
    fit = sm.OLS(np.asarray(y, float), sm.add_constant(np.asarray(x, float), has_constant="add")).fit()
    a, b = (float(v) for v in fit.params)
    cov = fit.cov_params()
    t = float(stats.t.ppf(0.975, fit.df_resid))
    # (a + b c - level)^2 <= t^2 (Vaa + 2 c Vab + c^2 Vbb): q2 c^2 + q1 c + q0 <= 0
    q2 = b * b - t * t * cov[1, 1]
    q1 = 2.0 * (b * (a - level) - t * t * cov[0, 1])
    q0 = (a - level) ** 2 - t * t * cov[0, 0]
    estimate = (level - a) / b if b != 0 else None
    if q2 > 0:
        root = np.sqrt(max(q1 * q1 - 4 * q2 * q0, 0.0))
        ci = [float((-q1 - root) / (2 * q2)), float((-q1 + root) / (2 * q2))]
    else:
        ci = [None, None]
    lo, hi = (float(v) for v in fit.conf_int(0.05)[1])
    return {"carbon_mg_m2": None if estimate is None else float(estimate), "ci95": ci, "intercept": a, "slope": b,
            "slope_ci95": [lo, hi], "df": int(fit.df_resid)}


def crossing_index(y_sorted: np.ndarray, level: float) -> int:
    """How many lots (in carbon order) the monotone (non-increasing) fit keeps at or above ``level``."""
    iso = optimize.isotonic_regression(np.asarray(y_sorted, float), increasing=False).x
    return int(np.sum(iso >= level))


def _suggest_between(lo: float, hi: float, count: int) -> list[float]:
    step = (hi - lo) / (count + 1)
    return [float(5 * round((lo + step * (i + 1)) / 5)) for i in range(count)]


def reach_limit(carbon: np.ndarray, reach: np.ndarray, required_m: float, gate: str) -> dict:
    """The carbon limit for ``required_m`` of reach from lot-mean reach (see the module).

    ``status``: "estimated", "insufficient data" (``needed`` says which lots would settle it),
    "no significant effect" (the local slope's interval contains zero), "not reached in the
    observed range" (every lot reaches ``required_m``) or "not met at any observed carbon level"
    (no lot does); an estimate outside the range is marked ``extrapolated`` and never clamped to a
    limit the data do not show. ``line``: the local line used (for drawing it).
    """
    order = np.argsort(np.asarray(carbon, float), kind="stable")
    x, y = np.asarray(carbon, float)[order], np.asarray(reach, float)[order]
    out = {"reach_m": float(required_m), "gate": gate, "carbon_mg_m2": None, "ci95": None, "extrapolated": False,
           "status": "insufficient data", "needed": None, "line": None}
    k = crossing_index(y, required_m) if x.size else 0
    n = x.size
    if 0 < k < n and (k < SIDE or n - k < SIDE):
        extra = []
        if k < SIDE:
            extra.append(f"at least {SIDE - k} below {x[0]:g} mg/m^2")
        if n - k < SIDE:
            extra.append(f"at least {SIDE - (n - k)} above {x[-1]:g} mg/m^2")
        out["needed"] = (f"reach crosses {required_m:g} m between {x[k - 1]:g} and {x[k]:g} mg/m^2 ({k} lot(s) at or "
                         f"above {required_m:g} m, {n - k} below); the limit's local fit needs {SIDE} lots either "
                         f"side: add lots between {x[k - 1]:g} and {x[k]:g} mg/m^2 (e.g. at "
                         + ", ".join(f"{c:g}" for c in _suggest_between(x[k - 1], x[k], 2))
                         + f" mg/m^2) and {' and '.join(extra)}")
        return out
    if (k in (0, n)) and (n < 2 * SIDE or np.unique(x[:2 * SIDE] if k == 0 else x[-2 * SIDE:]).size < 2):
        end = "above the highest" if k == n else "below the lowest"
        out["status"] = "not reached in the observed range" if k == n and n else "insufficient data"
        out["needed"] = (f"{'no lot measured' if not n else ('every lot ' + ('reaches' if k == n else 'misses'))} "
                         f"{required_m:g} m; at least {2 * SIDE} lots at distinct carbon levels, some {end} level, "
                         "would place the limit")
        return out
    window = slice(n - 2 * SIDE, n) if k == n else slice(0, 2 * SIDE) if k == 0 else slice(k - SIDE, k + SIDE)
    local = fieller(x[window], y[window], required_m)
    est, (lo, hi) = local["carbon_mg_m2"], local["ci95"]
    out["line"] = {"intercept_m": local["intercept"], "slope_m_per_mg_m2": local["slope"],
                   "carbon_mg_m2": [float(x[window][0]), float(x[window][-1])], "lots": int(x[window].size)}
    significant = local["slope_ci95"][1] < 0.0
    if k == n:
        out["status"] = "not reached in the observed range"
        if significant and est is not None:
            out.update(carbon_mg_m2=est, ci95=[lo, hi], extrapolated=True)
        return out
    if k == 0:  # no lot meets the gate: the limit lies below the lowest carbon measured, perhaps below zero
        out["status"] = "not met at any observed carbon level"
        out["needed"] = (f"every lot misses {required_m:g} m, the lowest at {x[0]:g} mg/m^2: "
                         + ("lots with less carbon would show whether any level meets it" if x[0] > 0 else
                            "even carbon-free wire misses it, so no carbon limit can meet this gate with this wire"))
        if significant and est is not None and est >= 0.0:
            out.update(carbon_mg_m2=est, ci95=[None if lo is None else max(lo, 0.0), hi], extrapolated=True)
        return out
    if not significant or est is None:
        out.update(status="no significant effect", ci95=[None, None])
        if est is not None and local["slope"] < 0:
            out.update(carbon_mg_m2=max(est, 0.0), extrapolated=bool(not x[0] <= est <= x[-1]))
        return out
    out.update(status="estimated", carbon_mg_m2=max(est, 0.0), ci95=[None if lo is None else max(lo, 0.0), hi],
               extrapolated=bool(not x[0] <= est <= x[-1]))
    return out
