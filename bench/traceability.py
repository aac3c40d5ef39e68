"""Traceability to wire surface carbon: per-lot summary, the excess-loss regression and the
carbon level above which the reach gate is predicted to fail.

The regression is a hinge model, excess = a + b * max(0, C - C0), with C0 chosen by least
squares over the observed carbon range (C0 = below every lot gives the straight line). The
slope's 95 % interval is the t interval conditional on C0; when it contains zero the answer is
"no significant effect". The reach limit solves the same hinge fit of reach for the required
length.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from bench.plan import Plan


def hinge_fit(x: np.ndarray, y: np.ndarray) -> dict | None:
    """Least-squares hinge fit with the slope's 95 % interval; None with fewer than 3 points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 3 or np.ptp(x) == 0:
        return None
    candidates = np.unique(np.concatenate([[x.min() - 1.0], np.linspace(x.min(), x.max(), 41)[:-1]]))
    best = None
    for c0 in candidates:
        h = np.maximum(0.0, x - c0)
        design = np.column_stack([np.ones_like(x), h])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(np.sum((y - design @ coef) ** 2))
        if best is None or sse < best[0] - 1e-12:
            best = (sse, c0, coef, design)
    sse, c0, coef, design = best
    dof = max(x.size - 3, 1)  # intercept, slope and the chosen hinge
    sigma2 = sse / dof
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    half = float(stats.t.ppf(0.975, dof) * np.sqrt(max(cov[1, 1], 0.0)))
    slope = float(coef[1])
    return {"threshold_mg_m2": max(float(c0), 0.0), "intercept": float(coef[0]), "slope_per_mg_m2": slope,
            "slope_ci95": [slope - half, slope + half], "significant": not (slope - half <= 0.0 <= slope + half),
            "rms_residual": float(np.sqrt(sse / x.size)), "points": int(x.size)}


def carbon_limit(fit: dict | None, required: float) -> float | None:
    """Carbon at which the hinge fit of reach falls to ``required`` (None: no significant effect)."""
    if fit is None or not fit["significant"] or fit["slope_per_mg_m2"] >= 0:
        return None
    if fit["intercept"] < required:
        return 0.0
    return fit["threshold_mg_m2"] + (required - fit["intercept"]) / fit["slope_per_mg_m2"]


def lot_summary(plan: Plan, cables: list[dict]) -> dict:
    """Per-lot pass rates and mean figures; across lots the regressions and the carbon limits."""
    lots = []
    for lot in plan.lots.values():
        mine = [c for c in cables if c["wire_lot"] == lot.id]
        entry = {"id": lot.id, "carbon_mg_m2": lot.carbon_mg_m2, "grade": lot.grade, "cables": len(mine),
                 "pass_rate": (sum(c["pass"] for c in mine) / len(mine)) if mine else None}
        for gbd in plan.rates_gbd:
            rates = [r for c in mine for r in c["rates"] if r["gbd"] == gbd]
            entry[f"il_db_{gbd:g}"] = float(np.mean([r["il_db"] for r in rates])) if rates else None
            entry[f"excess_il_db_{gbd:g}"] = float(np.mean([r["excess_il_db"] for r in rates])) if rates else None
        entry["reach_m"] = float(np.mean([c["reach_m"] for c in mine])) if mine else None
        lots.append(entry)
    carbon = np.array([c["carbon_mg_m2"] for c in cables])
    regressions = {}
    for gbd in plan.rates_gbd:
        excess = [next(r["excess_il_db"] for r in c["rates"] if r["gbd"] == gbd) for c in cables]
        regressions[f"excess_il_db_{gbd:g}"] = hinge_fit(carbon, np.array(excess))
    # reach normalised to the plan's cable length would mix lengths; the reach itself is what is gated
    reach_fit = hinge_fit(carbon, np.array([c["reach_m"] for c in cables]))
    regressions["reach_m"] = reach_fit
    limit = carbon_limit(reach_fit, plan.gates.reach_m)
    return {"lots": lots, "regressions": regressions, "carbon_limit_mg_m2": limit,
            "carbon_limit_stretch_mg_m2": carbon_limit(reach_fit, plan.gates.stretch_m),
            "effect": "significant" if reach_fit and reach_fit["significant"] else "no significant effect"}
