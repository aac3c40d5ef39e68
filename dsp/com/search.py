"""The equaliser search: the candidate with the best FOM over the clause's transmitter FFE x CTLE grid.

A candidate is a point on an integer grid: (g_DC index, g_DC2 index, one index per swept transmitter
tap), valid when c(0) = 1 - sum |c(k)| >= c0_min. ``exhaustive`` scores every valid point (the
definition; for tests and offline checks). ``smart`` finds the same optimum with far fewer scores:
every CTLE setting with the transmitter FFE off, then coordinate sweeps of each transmitter tap from
the best few CTLE settings, then a pattern search (one grid step in every dimension and along the
diagonals of each pair) until no neighbour improves; scores are cached, so no point is scored twice.
It is a local method: tests and the offline full-grid run show where it agrees with the exhaustive one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from operator import add

import numpy as np
from accbench.dsp.com.params import ClauseParams
from accbench.dsp.com.pulses import TX_TAPS
from accbench.dsp.com.threads import pool, threads

TOP_CTLE = 3


@dataclass(frozen=True)
class Grid:
    """The search grid of a clause: CTLE gains and the swept transmitter taps."""

    g_dc: np.ndarray
    g_dc2: np.ndarray
    tap_index: tuple[int, ...]  # which taps are swept, e.g. (-2, -1, 1)
    tap_values: tuple[np.ndarray, ...]
    c0_min: float

    @classmethod
    def of(cls, p: ClauseParams, tx_ffe: bool = True) -> Grid:
        swept = tuple(k for k in sorted(p.tx_taps) if p.tx_taps[k].size > 1) if tx_ffe else ()
        return cls(p.g_dc_db, p.g_dc2_db, swept, tuple(p.tx_taps[k] for k in swept), p.c0_min)

    @cached_property
    def dims(self) -> tuple[int, ...]:
        return (self.g_dc.size, self.g_dc2.size, *(v.size for v in self.tap_values))

    def taps(self, point: tuple[int, ...]) -> dict[int, float]:
        return {k: float(v[i]) for k, v, i in zip(self.tap_index, self.tap_values, point[2:], strict=True)}

    @cached_property
    def _tap_slots(self) -> tuple[tuple[int, tuple[float, ...]], ...]:
        """(slot in c(-3) .. c(3), grid values as Python floats) of every swept tap."""
        return tuple((TX_TAPS.index(k), tuple(float(x) for x in v)) for k, v in zip(self.tap_index, self.tap_values,
                                                                                       strict=True))

    def tap_array(self, point: tuple[int, ...]) -> np.ndarray:
        """``pulses.tx_taps(self.taps(point))``, the seven taps c(-3) .. c(3), built without the dict."""
        taps = np.zeros(len(TX_TAPS))
        for (slot, values), i in zip(self._tap_slots, point[2:], strict=True):
            taps[slot] = values[i]
        taps[TX_TAPS.index(0)] = 1.0 - np.abs(taps).sum()
        return taps

    @cached_property
    def _abs_taps(self) -> tuple[tuple[float, ...], ...]:
        """|value| of every swept tap's grid points, as Python floats (``valid`` runs for every neighbour)."""
        return tuple(tuple(abs(float(x)) for x in v) for v in self.tap_values)

    def valid(self, point: tuple[int, ...]) -> bool:
        """Inside the grid, and c(0) = 1 - sum |c(k)| >= c0_min."""
        for i, n in zip(point, self.dims, strict=True):
            if not 0 <= i < n:
                return False
        return 1.0 - sum(a[i] for a, i in zip(self._abs_taps, point[2:], strict=True)) >= self.c0_min - 1e-12

    def zero_taps(self) -> tuple[int, ...]:
        """Indices of the transmitter taps' zero values (or the value nearest zero)."""
        return tuple(int(np.argmin(np.abs(v))) for v in self.tap_values)

    def points(self):
        for point in itertools.product(*(range(n) for n in self.dims)):
            if self.valid(point):
                yield point

    def size(self) -> int:
        return sum(1 for _ in self.points())


@dataclass
class Search:
    """Scores with a cache: ``score(point)`` -> FOM (dB)."""

    grid: Grid
    fom: Callable[[tuple[int, ...]], float]
    cache: dict = field(default_factory=dict)
    fast_evaluations: int = 0  # scores by a fast proxy before these (``smart`` with ``exact``)
    pure: bool = False  # ``fom`` depends on the point alone (no state between calls): points may be scored at once

    def score(self, point: tuple[int, ...]) -> float:
        if point not in self.cache:
            self.cache[point] = self.fom(point) if self.grid.valid(point) else -np.inf
        return self.cache[point]

    def prefetch(self, points: Iterable[tuple[int, ...]]) -> None:
        """Score the valid, unscored ``points`` on the search threads (a pure ``fom`` only; else nothing).

        The scores are stored in the order given, so the search proceeds exactly as if scored one by one.
        """
        todo = list(dict.fromkeys(q for q in points if q not in self.cache and self.grid.valid(q)))
        count = threads()
        if not self.pure or len(todo) < 2 or count < 2:
            return
        for point, value in zip(todo, pool(count).map(self.fom, todo), strict=True):
            self.cache[point] = value

    def best(self) -> tuple[tuple[int, ...], float]:
        point = max(self.cache, key=lambda k: self.cache[k])
        return point, self.cache[point]

    @property
    def evaluations(self) -> int:
        return sum(1 for v in self.cache.values() if np.isfinite(v))


def exhaustive(grid: Grid, fom: Callable[[tuple[int, ...]], float], pure: bool = False) -> Search:
    """Score every valid point of the grid (a ``pure`` score on the search threads, in blocks)."""
    search = Search(grid, fom, pure=pure)
    points = grid.points()
    while block := list(itertools.islice(points, 256)):
        search.prefetch(block)
        for point in block:
            search.score(point)
    return search


def _sweep(search: Search, point: tuple[int, ...], dim: int) -> tuple[int, ...]:
    """The best point along one dimension through ``point``."""
    options = [(*point[:dim], i, *point[dim + 1:]) for i in range(search.grid.dims[dim])]
    search.prefetch(options)
    return max(options, key=search.score)


def _pattern(search: Search, start: tuple[int, ...], diagonals: bool = True) -> tuple[int, ...]:
    """Move to the best neighbour (one step in one dimension, or in two) until none improves."""
    n = len(start)
    steps = [tuple(d if k == i else 0 for k in range(n)) for i in range(n) for d in (-1, 1)]
    if diagonals:
        steps += [tuple(a if k == i else b if k == j else 0 for k in range(n))
                  for i, j in itertools.combinations(range(n), 2) for a in (-1, 1) for b in (-1, 1)]
    point = start
    while True:
        neighbours = [tuple(map(add, point, step)) for step in steps]
        search.prefetch(neighbours)
        best = max(neighbours, key=search.score)
        if search.score(best) <= search.score(point):
            return point
        point = best


def smart(grid: Grid, fom: Callable[[tuple[int, ...]], float], top_ctle: int = TOP_CTLE,
          exact: Callable[[tuple[int, ...]], float] | None = None, finalists: int = 6, pure: bool = False) -> Search:
    """Find the best candidate with few scores (see the module docstring).

    With ``exact``, ``fom`` is a fast score that ranks the grid; the ``finalists`` best points are then
    scored exactly and a pattern search under the exact score polishes the best of them. The returned
    search holds the exact scores. ``exact`` must be pure (a function of the point alone), and so may ``fom``
    be (``pure``): pure scores are computed on the search threads, with the same result as one by one.
    """
    search = _smart_fast(grid, fom, top_ctle, pure)
    if exact is None:
        return search
    final = Search(grid, exact, pure=True)
    ranked = sorted(search.cache, key=lambda k: -search.cache[k])[:finalists]
    final.prefetch(ranked)
    for point in ranked:
        final.score(point)
    _pattern(final, final.best()[0], diagonals=False)
    final.fast_evaluations = search.evaluations
    return final


def _smart_fast(grid: Grid, fom: Callable[[tuple[int, ...]], float], top_ctle: int, pure: bool) -> Search:
    search = Search(grid, fom, pure=pure)
    zero = grid.zero_taps()
    ctle = [(i, j) for i in range(grid.dims[0]) for j in range(grid.dims[1])]
    search.prefetch([(i, j, *zero) for i, j in ctle])
    for i, j in ctle:
        search.score((i, j, *zero))
    ranked = sorted(ctle, key=lambda ij: -search.score((*ij, *zero)))[:top_ctle]
    starts = []
    for i, j in ranked:
        point = (i, j, *zero)
        for _ in range(3):
            before = point
            for dim in range(2, len(point)):
                point = _sweep(search, point, dim)
            if point == before:
                break
        starts.append(point)
    for point in starts:
        _pattern(search, point)
    _pattern(search, search.best()[0])
    _ctle_polish(search)
    return search


def _ctle_polish(search: Search) -> None:
    """Re-run the pattern search from each CTLE neighbour of the best point with its TX taps, until none improves.

    The landscape is rugged across CTLE settings (the DFE and the quantised taps make FOM step): on
    the 802.3ck CA reference cable a pattern search alone stopped one g_DC step from the optimum
    that the full-grid exhaustive search found (fixtures/com/exhaustive/result.json).
    """
    grid = search.grid
    while True:
        best, fom = search.best()
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)):
            i, j = best[0] + di, best[1] + dj
            if 0 <= i < grid.dims[0] and 0 <= j < grid.dims[1]:
                _pattern(search, (i, j, *best[2:]))
        if search.best()[1] <= fom:
            return


def describe(grid: Grid, point: tuple[int, ...]) -> dict:
    """The EQ of a grid point in clause terms: CTLE gains (dB) and transmitter taps c(-3) .. c(3)."""
    taps = grid.taps(point)
    full = {k: taps.get(k, 0.0) for k in TX_TAPS}
    full[0] = 1.0 - sum(abs(v) for k, v in full.items() if k != 0)
    return {"g_dc_db": float(grid.g_dc[point[0]]), "g_dc2_db": float(grid.g_dc2[point[1]]),
            "tx_ffe": {f"c({k})": round(v, 6) for k, v in full.items()}}
