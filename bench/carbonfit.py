"""The hinge (segmented) regression of a lot-level figure on surface carbon, its knee profiled.

Model: ``y = a + b * max(0, C - knee) (+ covariates)``, one point per *lot* (the experimental
unit: cables of one lot share one carbon value), fitted by ordinary least squares (statsmodels)
at every knee of a grid from the lowest carbon (where the hinge is a straight line) to the
second-highest (two lots at least on the slope). The knee's 95 % interval is the profile-
likelihood set ``{knee: (RSS(knee) - RSS_min) / (RSS_min / df) <= F(0.95; 1, df)}`` with
``df = lots - parameters - 1`` (the knee counts). The slope's interval and the fitted curve's
band are the union, over the knees of that set, of the t intervals at each knee (same ``df``):
they carry the knee's own uncertainty, which a t interval at the best knee alone does not.

When the set reaches the lowest carbon, the data cannot place the onset below it (the lower end
is None); when it reaches the top of the grid, the upper end is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import statsmodels.api as sm
from scipy import stats

KNEE_GRID = 121  # knees profiled between the lowest and the second-highest carbon
BAND_GRID = 61  # points of the fitted curve's band over the observed carbon range


@dataclass(frozen=True)
class HingeFit:
    """A lot-level hinge fit: knee and its profile interval, slope and its interval, the band."""

    knee: float
    knee_ci95: tuple[float | None, float | None]
    intercept: float
    slope: float
    slope_ci95: tuple[float, float]
    coef: tuple[float, ...]
    coef_ci95: tuple[tuple[float, float], ...]
    df: int
    rss: float
    points: int
    band: dict | None = None
    profile: dict = field(default_factory=dict)

    @property
    def slope_excludes_zero(self) -> bool:
        return not (self.slope_ci95[0] <= 0.0 <= self.slope_ci95[1])


def _design(x: np.ndarray, knee: float, extra: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(x), np.maximum(0.0, x - knee), extra])


def knee_grid(x: np.ndarray) -> np.ndarray:
    """Knees profiled: from the lowest carbon (a straight line) to just below the second-highest."""
    levels = np.unique(x)
    return np.linspace(levels[0], levels[-2], KNEE_GRID)[:-1] if levels.size >= 3 else levels[:1]


def fit_hinge(x: np.ndarray, y: np.ndarray, extra: np.ndarray | None = None, band: bool = True) -> HingeFit | None:
    """Profile the hinge fit of ``y`` on ``x`` (one point per lot); None when no degree of freedom is left.

    ``extra``: further regressors (one column each, one row per point) fitted alongside.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    extra = np.zeros((x.size, 0)) if extra is None else np.asarray(extra, float).reshape(x.size, -1)
    params = 2 + extra.shape[1]
    df = x.size - params - 1
    if df < 1 or np.unique(x).size < 3:
        return None
    knees, fits = [], []
    for knee in knee_grid(x):
        design = _design(x, knee, extra)
        if np.linalg.matrix_rank(design) < design.shape[1]:
            continue
        knees.append(float(knee))
        fits.append(sm.OLS(y, design).fit())
    if not fits:
        return None
    rss = np.array([f.ssr for f in fits])
    best = int(np.argmin(rss))
    scale = max(rss[best] / df, 1e-300)
    accepted = (rss - rss[best]) / scale <= stats.f.ppf(0.95, 1, df)
    kept = [i for i in range(len(fits)) if accepted[i]]
    t = float(stats.t.ppf(0.975, df))

    def interval(fit, j: int) -> tuple[float, float]:
        half = t * float(fit.bse[j]) * np.sqrt(fit.df_resid / df)  # the knee costs one degree of freedom
        return float(fit.params[j] - half), float(fit.params[j] + half)

    coef_ci = []
    for j in range(params):
        ends = [interval(fits[i], j) for i in kept]
        coef_ci.append((min(e[0] for e in ends), max(e[1] for e in ends)))
    lo_knee = None if kept[0] == 0 else knees[kept[0]]
    hi_knee = None if kept[-1] == len(knees) - 1 and len(knees) > 1 else knees[kept[-1]]
    fit = fits[best]
    curve = _band(x, extra, [knees[i] for i in kept], [fits[i] for i in kept], knees[best], fit, df) if band else None
    return HingeFit(knee=knees[best], knee_ci95=(lo_knee, hi_knee), intercept=float(fit.params[0]),
                    slope=float(fit.params[1]), slope_ci95=coef_ci[1], coef=tuple(float(v) for v in fit.params),
                    coef_ci95=tuple(coef_ci), df=int(df), rss=float(rss[best]), points=int(x.size), band=curve,
                    profile={"knees": knees, "rss": [float(v) for v in rss], "accepted": [bool(a) for a in accepted]})


def _band(x: np.ndarray, extra: np.ndarray, knees: list[float], fits: list, best_knee: float, best_fit,
          df: int) -> dict:
    """The fitted curve on a grid over the observed range, with the union of the 95 % bands over ``knees``.

    Covariates, where fitted, are held at their mean over the lots.
    """
    grid = np.linspace(float(x.min()), float(x.max()), BAND_GRID)
    at = np.tile(extra.mean(axis=0), (grid.size, 1))
    t = float(stats.t.ppf(0.975, df))
    lo, hi = np.full(grid.size, np.inf), np.full(grid.size, -np.inf)
    for knee, fit in zip(knees, fits, strict=True):
        design = _design(grid, knee, at)
        mean = design @ fit.params
        cov = fit.cov_params() * (fit.df_resid / df)
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", design, cov, design), 0.0))
        lo, hi = np.minimum(lo, mean - t * se), np.maximum(hi, mean + t * se)
    mean = _design(grid, best_knee, at) @ best_fit.params
    return {"carbon_mg_m2": [float(v) for v in grid], "fit": [float(v) for v in mean],
            "lo": [float(v) for v in lo], "hi": [float(v) for v in hi]}
