"""Davies' test for a change point whose position is known only under the alternative.

A hinge term ``max(0, x - psi)`` added to a linear model has a slope that is zero under the null
hypothesis, and then ``psi`` does not exist: the usual t test at the best ``psi`` is far too
liberal (the search for the knee is itself a test). Davies bounds the p-value of the largest
|t| over a grid of knees by the tail of one t plus a term in the total variation of the t
process along the grid.

References
----------
R. B. Davies, "Hypothesis testing when a nuisance parameter is present only under the
alternative", Biometrika 74(1), 33-43 (1987); and "... : linear model case", Biometrika 89(2),
484-489 (2002) for the unknown-variance (t) version used here. The grid (``k`` knees from the
second-smallest to the second-largest x) and the bound follow ``davies.test`` of the R package
``segmented`` (V. M. R. Muggeo, ``daviesLM``): with ``M`` the largest |t|, ``V`` the total
variation of ``asin(sqrt(t^2 / (t^2 + df)))`` along the grid and ``u = M^2 / (df + M^2)``,

    p <= 2 * (P(T_df > M) + V * (1 - u)^((df - 1) / 2) * Gamma(df/2 + 1/2) / (2 sqrt(pi) Gamma(df/2)))

(two-sided; an upper bound, so the test is conservative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import special, stats


@dataclass(frozen=True)
class DaviesResult:
    """The bound on the p-value, the largest |t|, the knee where it occurs and the t process."""

    p_value: float
    statistic: float
    best_knee: float
    knees: tuple[float, ...]
    t_values: tuple[float, ...]
    df: int


def hinge_t_values(x: np.ndarray, y: np.ndarray, null_design: np.ndarray, knees: np.ndarray) -> tuple[np.ndarray, int]:
    """t statistic of the hinge slope ``max(0, x - knee)`` added to ``null_design``, per knee (statsmodels OLS).

    Returns the t values (NaN where the design is singular) and the residual degrees of freedom.
    """
    t = np.full(knees.size, np.nan)
    df = x.size - null_design.shape[1] - 1
    for i, knee in enumerate(knees):
        design = np.column_stack([np.maximum(0.0, x - knee), null_design])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            continue
        fit = sm.OLS(y, design).fit()
        t[i] = fit.tvalues[0]
    return t, df


def davies_bound(t_values: np.ndarray, df: int) -> float:
    """Davies' (2002) two-sided upper bound on the p-value of ``max |t|`` over a grid (see the module)."""
    t = t_values[np.isfinite(t_values)]
    if t.size == 0 or df < 1:
        return 1.0
    m = float(np.max(np.abs(t)))
    v = float(np.sum(np.abs(np.diff(np.arcsin(np.sqrt(t * t / (t * t + df)))))))
    u = m * m / (df + m * m)
    approx = v * (1.0 - u) ** ((df - 1) / 2) * np.exp(special.gammaln(df / 2 + 0.5) - special.gammaln(df / 2)) \
        / (2.0 * np.sqrt(np.pi))
    return float(min(1.0, 2.0 * (stats.t.sf(m, df) + approx)))


def davies_test(x: np.ndarray, y: np.ndarray, k: int = 10, null: str = "linear") -> DaviesResult | None:
    """Davies' test for a change in slope of ``y`` against ``x`` (None with too few points).

    ``null="linear"`` is the classic test (segmented's ``davies.test``): H0 a straight line, H1 a
    line whose slope changes at some knee, ``k`` knees from the second-smallest to the
    second-largest x. ``null="constant"`` tests for any carbon effect of the hinge shape (flat,
    then a slope from a knee on): H0 ``y`` does not depend on ``x``, knees from the smallest x
    (the straight line) to the second-largest.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if null == "linear":
        null_design = np.column_stack([np.ones_like(x), x - x.mean()])
        lo, hi = x[1], x[-2]
    elif null == "constant":
        null_design = np.ones((x.size, 1))
        lo, hi = x[0], x[-2]
    else:
        raise ValueError(f"null must be 'linear' or 'constant', not {null!r}")
    if x.size < null_design.shape[1] + 3 or np.unique(x).size < null_design.shape[1] + 2 or hi <= lo:
        return None
    knees = np.linspace(lo, hi, k)
    t, df = hinge_t_values(x, y, null_design, knees)
    if not np.any(np.isfinite(t)):
        return None
    best = int(np.nanargmax(np.abs(t)))
    return DaviesResult(davies_bound(t, df), float(np.abs(t[best])), float(knees[best]),
                        tuple(float(v) for v in knees), tuple(float(v) for v in t), int(df))
