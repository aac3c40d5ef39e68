"""Traceability to wire surface carbon: per-lot summary, the excess-loss regression and the
carbon level above which the reach gate is predicted to fail.

Excess loss is the measured IL over the twinax model of the same wire at zero carbon (so the
wire's grade and size are already in the baseline); the other lot properties still enter the
regression as covariates where they vary and the lots allow it.

The regression is a hinge model, excess = a + b * max(0, C - C0), with C0 chosen by least
squares over the observed carbon range (C0 = below every lot gives the straight line). The
slope's 95 % interval is the t interval conditional on C0; when it contains zero the answer is
"no significant effect". The reach limit solves the same hinge fit of reach for the required
length.
"""

from __future__ import annotations

import numpy as np
from accbench.bench.plan import Plan
from accbench.bench.results import CableResult
from scipy import stats

MIN_EXCESS_DB = 0.1  # excess loss changes smaller than this over the lots are not an effect
MIN_REACH_M = 0.1  # two steps of the reach search (0.05 m)


def hinge_fit(x: np.ndarray, y: np.ndarray, covariates: dict[str, np.ndarray] | None = None,
              min_effect: float = 0.0) -> dict | None:
    """Least-squares hinge fit with the slope's 95 % interval; None with fewer than 3 points.

    The effect is ``significant`` when the slope's interval excludes zero and the fitted change
    over the observed carbon range exceeds ``min_effect`` (below that, e.g. the reach search's
    resolution, a "trend" is measurement granularity, not carbon).

    ``covariates`` (other lot properties, one value per point) enter as extra linear terms when
    they vary and the distinct lots leave degrees of freedom for them; the others are listed
    in ``covariates_dropped`` with the reason.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 3 or np.ptp(x) == 0:
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
    candidates = np.unique(np.concatenate([[x.min() - 1.0], np.linspace(x.min(), x.max(), 81)[:-1]]))
    best = None
    for c0 in candidates:
        h = np.maximum(0.0, x - c0)
        design = np.column_stack([np.ones_like(x), h] + [v for _, v in extra])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            continue
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(np.sum((y - design @ coef) ** 2))
        if best is None or sse < best[0] - 1e-12:
            best = (sse, c0, coef, design)
    if best is None:
        return None
    sse, c0, coef, design = best
    dof = max(x.size - design.shape[1] - 1, 1)  # the chosen hinge costs one more
    sigma2 = sse / dof
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    t = float(stats.t.ppf(0.975, dof))
    half = t * np.sqrt(np.maximum(np.diag(cov), 0.0))
    slope = float(coef[1])
    change = slope * float(np.max(design[:, 1]))
    terms = {name: {"coef": float(coef[2 + i]), "ci95": [float(coef[2 + i] - half[2 + i]),
                                                          float(coef[2 + i] + half[2 + i])],
                    "significant": not (coef[2 + i] - half[2 + i] <= 0.0 <= coef[2 + i] + half[2 + i])}
             for i, (name, _) in enumerate(extra)}
    return {"threshold_mg_m2": max(float(c0), 0.0), "intercept": float(coef[0]), "slope_per_mg_m2": slope,
            "slope_ci95": [slope - float(half[1]), slope + float(half[1])],
            "statistically_significant": bool(not (slope - half[1] <= 0.0 <= slope + half[1])),
            "change_over_range": change,
            "significant": bool(not (slope - half[1] <= 0.0 <= slope + half[1]) and abs(change) > min_effect),
            "rms_residual": float(np.sqrt(sse / x.size)), "points": int(x.size),
            "covariates": terms, "covariates_dropped": dropped}


def carbon_limit(fit: dict | None, required: float) -> float | None:
    """Carbon at which the hinge fit of reach falls to ``required`` (None: no significant effect)."""
    if fit is None or not fit["significant"] or fit["slope_per_mg_m2"] >= 0:
        return None
    if fit["intercept"] < required:
        return 0.0
    return fit["threshold_mg_m2"] + (required - fit["intercept"]) / fit["slope_per_mg_m2"]


def _covariates(plan: Plan, cables: list[CableResult]) -> dict[str, np.ndarray]:
    """The other lot properties per cable (grade as 1 for Cu-OFC; oxygen, roughness, wire size)."""
    lots = [plan.lots[c.wire_lot] for c in cables]
    out = {"grade_ofc": np.array([1.0 if lot.grade == "Cu-OFC" else 0.0 for lot in lots]),
           "roughness_um": np.array([lot.roughness_um for lot in lots])}
    if all(lot.oxygen_ppm is not None for lot in lots):
        out["oxygen_ppm"] = np.array([lot.oxygen_ppm for lot in lots])
    if all(lot.diameter_mm for lot in lots):
        out["diameter_mm"] = np.array([lot.diameter_mm for lot in lots])
    elif all(lot.awg for lot in lots):
        out["awg"] = np.array([lot.awg for lot in lots])
    return out


def lot_summary(plan: Plan, cables: list[CableResult]) -> dict:
    """Per-lot pass rates and mean figures; across lots the regressions and the carbon limits."""
    lots = []
    for lot in plan.lots.values():
        mine = [c for c in cables if c.wire_lot == lot.id]
        entry = {"id": lot.id, "carbon_mg_m2": lot.carbon_mg_m2, "grade": lot.grade, "cables": len(mine),
                 "pass_rate": (sum(c.passed for c in mine) / len(mine)) if mine else None,
                 "marginal": sum(c.outcome == "marginal" for c in mine)}
        for gbd in plan.rates_gbd:
            rates = [r for c in mine for r in c.rates if r.gbd == gbd]
            entry[f"il_db_{gbd:g}"] = float(np.mean([r.il_db for r in rates])) if rates else None
            entry[f"excess_il_db_{gbd:g}"] = float(np.mean([r.excess_il_db for r in rates])) if rates else None
        entry["reach_m"] = float(np.mean([c.reach_m for c in mine])) if mine else None
        lots.append(entry)
    carbon = np.array([c.carbon_mg_m2 for c in cables])
    regressions = {}
    covariates = _covariates(plan, cables)
    for gbd in plan.rates_gbd:
        excess = [c.rate(gbd).excess_il_db for c in cables]
        regressions[f"excess_il_db_{gbd:g}"] = hinge_fit(carbon, np.array(excess), covariates,
                                                         min_effect=MIN_EXCESS_DB)
    # reach normalised to the plan's cable length would mix lengths; the reach itself is what is gated
    reach_fit = hinge_fit(carbon, np.array([c.reach_m for c in cables]), min_effect=MIN_REACH_M)
    regressions["reach_m"] = reach_fit
    limit = carbon_limit(reach_fit, plan.gates.reach_m)
    return {"lots": lots, "regressions": regressions, "carbon_limit_mg_m2": limit,
            "carbon_limit_stretch_mg_m2": carbon_limit(reach_fit, plan.gates.stretch_m),
            "effect": "significant" if reach_fit and reach_fit["significant"] else "no significant effect"}
