"""Statistical process control of one figure: Shewhart charts, the Western Electric rules, process capability.

* ``individuals``: the I-MR pair in time order, sigma = MR-bar / d2(2).
* ``subgroup_charts``: X-bar with R or S per subgroup (a wire lot), subgroups of any size >= 2; sigma
  is the average of R_i / d2(n_i) (or S_i / c4(n_i)) over the subgroups, the method of ASTM E2587
  for unequal sizes, which for equal sizes gives the textbook limits (A2 R-bar, D3/D4 R-bar; A3
  S-bar, B3/B4 S-bar; Montgomery, *Introduction to Statistical Quality Control*, Appendix VI).
* ``western_electric``: rules 1-4 of the Western Electric handbook (1956) on a chart's zones.
* ``capability``: Cpk against the gate (one-sided where the gate is), with the within sigma of the
  charts, and Ppk with the overall sample sigma.

The chart constants come from the normal distribution (scipy), not from a typed-in table: d2 and
d3 are the mean and standard deviation of the range of n standard normals, c4 the mean of the
sample standard deviation; the tests check them against the published tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from scipy import integrate, special

SIGMA_LIMITS = 3.0


@cache
def c4(n: int) -> float:
    """E[s] / sigma for samples of ``n`` normal values: sqrt(2/(n-1)) Gamma(n/2) / Gamma((n-1)/2)."""
    if n < 2:
        raise ValueError("c4 needs n >= 2")
    return math.sqrt(2.0 / (n - 1)) * math.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))


_X = np.linspace(-12.0, 12.0, 4801)  # grid of the range integrals: the integrands are smooth and vanish beyond it
_W = np.linspace(0.0, 16.0, 1601)


def _range_cdf(w: np.ndarray, n: int) -> np.ndarray:
    """P(range of n standard normals <= w) = n * integral of phi(x) (Phi(x + w) - Phi(x))^(n-1) dx, for each w."""
    phi = np.exp(-0.5 * _X ** 2) / math.sqrt(2.0 * math.pi)
    inner = special.ndtr(_X[None, :] + w[:, None]) - special.ndtr(_X)[None, :]
    return n * integrate.simpson(phi[None, :] * inner ** (n - 1), x=_X, axis=1)


@cache
def d2(n: int) -> float:
    """E[range] / sigma for ``n`` normal values: integral of 1 - Phi(x)^n - (1 - Phi(x))^n over x."""
    if n < 2:
        raise ValueError("d2 needs n >= 2")
    cdf = special.ndtr(_X)
    return float(integrate.simpson(1.0 - cdf ** n - (1.0 - cdf) ** n, x=_X))


@cache
def d3(n: int) -> float:
    """sd[range] / sigma for ``n`` normal values: E[W^2] = 2 * integral of w (1 - F_W(w)) over w >= 0."""
    if n < 2:
        raise ValueError("d3 needs n >= 2")
    second = float(integrate.simpson(2.0 * _W * (1.0 - _range_cdf(_W, n)), x=_W))
    return math.sqrt(max(second - d2(n) ** 2, 0.0))


@dataclass(frozen=True)
class Violation:
    """A Western Electric rule broken at point ``index`` (the last point of the run that breaks it)."""

    rule: int
    index: int
    label: str
    side: str  # "above" or "below" the centre line

    def to_dict(self) -> dict:
        return {"rule": self.rule, "index": self.index, "label": self.label, "side": self.side,
                "text": RULES[self.rule]}


RULES = {1: "one point beyond 3 sigma", 2: "2 of 3 points beyond 2 sigma on one side",
         3: "4 of 5 points beyond 1 sigma on one side", 4: "8 points in a row on one side of the centre line"}


@dataclass(frozen=True)
class Chart:
    """A control chart: the plotted statistic, centre line and limits per point (sizes may vary), violations."""

    kind: str  # individuals, moving range, xbar, r, s
    labels: tuple[str, ...]
    values: np.ndarray
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    sizes: np.ndarray
    violations: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"kind": self.kind, "labels": list(self.labels), "values": self.values.tolist(),
                "center": self.center.tolist(), "lcl": self.lcl.tolist(), "ucl": self.ucl.tolist(),
                "sizes": self.sizes.tolist(), "violations": [v.to_dict() for v in self.violations],
                "notes": list(self.notes)}


def _runs(flags: np.ndarray, window: int, need: int) -> np.ndarray:
    """Where a point is flagged and at least ``need`` of the ``window`` points ending there are flagged."""
    out = np.zeros(flags.size, bool)
    for i in range(window - 1, flags.size):
        out[i] = flags[i] and flags[i - window + 1:i + 1].sum() >= need
    return out


def western_electric(z: np.ndarray, labels: tuple[str, ...] | None = None) -> tuple[Violation, ...]:
    """Rules 1-4 on ``z``, each point's distance from the centre line in its own sigma (of the plotted statistic).

    A point is flagged for a rule when it ends a run that breaks the rule and is itself part of it:
    1: beyond 3 sigma; 2: 2 of the 3 last beyond 2 sigma on its side; 3: 4 of the 5 last beyond 1
    sigma on its side; 4: the 8 last on its side of the centre line.
    """
    z = np.asarray(z, float)
    labels = labels or tuple(str(i) for i in range(z.size))
    found: list[Violation] = []
    for side, sign in (("above", 1.0), ("below", -1.0)):
        s = sign * z
        rules = {1: s > 3.0, 2: _runs(s > 2.0, 3, 2), 3: _runs(s > 1.0, 5, 4), 4: _runs(s > 0.0, 8, 8)}
        for rule, hits in rules.items():
            found += [Violation(rule, int(i), labels[i], side) for i in np.flatnonzero(hits)]
    return tuple(sorted(found, key=lambda v: (v.index, v.rule)))


def _zones(values: np.ndarray, center: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return (values - center) / sigma if np.all(sigma > 0) else np.zeros(values.size)


@dataclass(frozen=True)
class ChartPair:
    """A location chart and its dispersion chart, and the process sigma both were built from."""

    location: Chart
    dispersion: Chart
    sigma: float
    method: str

    def to_dict(self) -> dict:
        return {"location": self.location.to_dict(), "dispersion": self.dispersion.to_dict(), "sigma": self.sigma,
                "method": self.method}


def individuals(values, labels: tuple[str, ...] | None = None) -> ChartPair | None:
    """I-MR charts of ``values`` in time order (None for fewer than 2 values); rules on the I chart."""
    x = np.asarray(values, float)
    if x.size < 2:
        return None
    labels = labels or tuple(str(i) for i in range(x.size))
    mr = np.abs(np.diff(x))
    mr_bar = float(mr.mean())
    sigma = mr_bar / d2(2)
    ones = np.ones(x.size)
    center = float(x.mean()) * ones
    location = Chart("individuals", labels, x, center, center - SIGMA_LIMITS * sigma, center + SIGMA_LIMITS * sigma,
                     ones.astype(int), western_electric(_zones(x, center, sigma * ones), labels))
    k = 1.0 + SIGMA_LIMITS * d3(2) / d2(2)  # D4 for n = 2
    dispersion = Chart("moving range", labels[1:], mr, mr_bar * np.ones(mr.size), np.zeros(mr.size),
                       k * mr_bar * np.ones(mr.size), 2 * np.ones(mr.size, int),
                       tuple(Violation(1, int(i), labels[1:][i], "above") for i in np.flatnonzero(mr > k * mr_bar)))
    return ChartPair(location, dispersion, sigma, "average moving range / d2(2)")


def subgroup_charts(groups: list[np.ndarray], labels: tuple[str, ...], spread: str = "s") -> ChartPair | None:
    """X-bar with S (``spread="s"``) or R (``"r"``) charts of ``groups`` (None without two subgroups of size >= 2).

    Subgroups of one value have no spread and are left out (said in the notes).
    """
    if spread not in ("s", "r"):
        raise ValueError(f"spread {spread!r}: use 's' or 'r'")
    kept = [(np.asarray(g, float), lab) for g, lab in zip(groups, labels, strict=True) if len(g) >= 2]
    dropped = [lab for g, lab in zip(groups, labels, strict=True) if len(g) < 2]
    notes = (f"left out (one value, no spread): {', '.join(dropped)}",) if dropped else ()
    if len(kept) < 2:
        return None
    n = np.array([g.size for g, _ in kept])
    names = tuple(lab for _, lab in kept)
    means = np.array([g.mean() for g, _ in kept])
    if spread == "s":
        stat = np.array([g.std(ddof=1) for g, _ in kept])
        k = np.array([c4(int(m)) for m in n])
        m = np.sqrt(1.0 - k ** 2)
    else:
        stat = np.array([np.ptp(g) for g, _ in kept])
        k = np.array([d2(int(m)) for m in n])
        m = np.array([d3(int(m)) for m in n])
    sigma = float(np.mean(stat / k))
    grand = float(np.sum(n * means) / np.sum(n))
    half = SIGMA_LIMITS * sigma / np.sqrt(n)
    center = grand * np.ones(n.size)
    location = Chart("xbar", names, means, center, center - half, center + half, n,
                     western_electric(_zones(means, center, sigma / np.sqrt(n)), names), notes)
    mid = k * sigma
    upper = (k + SIGMA_LIMITS * m) * sigma
    dispersion = Chart(spread, names, stat, mid, np.maximum(0.0, (k - SIGMA_LIMITS * m) * sigma), upper, n,
                       tuple(Violation(1, int(i), names[i], "above" if stat[i] > upper[i] else "below")
                             for i in np.flatnonzero((stat > upper) | (stat < (k - SIGMA_LIMITS * m) * sigma))),
                       notes)
    method = f"average of {'S_i / c4(n_i)' if spread == 's' else 'R_i / d2(n_i)'} over the subgroups"
    return ChartPair(location, dispersion, sigma, method)


@dataclass(frozen=True)
class Capability:
    """Cpk (within sigma) and Ppk (overall sigma) against the gate's limits; None where a limit or sigma is missing."""

    mean: float
    sigma_within: float | None
    sigma_overall: float | None
    lsl: float | None
    usl: float | None
    cpk: float | None
    ppk: float | None
    points: int

    def to_dict(self) -> dict:
        return dict(vars(self))


def _index(mean: float, sigma: float | None, lsl: float | None, usl: float | None) -> float | None:
    if sigma is None or not sigma > 0 or (lsl is None and usl is None):
        return None
    sides = [(usl - mean) / (SIGMA_LIMITS * sigma)] if usl is not None else []
    sides += [(mean - lsl) / (SIGMA_LIMITS * sigma)] if lsl is not None else []
    return float(min(sides))


def capability(values, sigma_within: float | None, lsl: float | None = None, usl: float | None = None) -> Capability:
    """Cpk = min(USL - mean, mean - LSL) / (3 sigma_within) over the limits given; Ppk with the sample sigma."""
    x = np.asarray(values, float)
    mean = float(x.mean())
    overall = float(x.std(ddof=1)) if x.size >= 2 else None
    return Capability(mean, sigma_within, overall, lsl, usl, _index(mean, sigma_within, lsl, usl),
                      _index(mean, overall, lsl, usl), int(x.size))
