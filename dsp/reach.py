"""The reach gate: the longest cable length that closes the link at the target BER with the optimised EQ.

BER grows with length. The search starts from the required length and any lengths the caller's
``LinkFamily`` evaluated already (the cable's own), extrapolates the eye height at the target BER
(smooth in length) to a first failing length, then closes the bracket to ``resolution_m`` with
interpolated steps placed just either side of the predicted crossing (two steps once it is
predicted well; bisection guards a poor prediction). Every length gets the full CTLE-grid/FFE
optimisation; the length-independent parts are computed once per search (``LinkFamily``). The
verdict carries the link margin at the required length and the power gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from accbench.dsp.link import LinkFamily
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.power import PowerModel, power_gate
from accbench.dsp.reachestimate import estimate_reach_m

from accbench.errors import InputError


@dataclass(frozen=True)
class ReachResult:
    """Reach and power verdicts of one cable design at one baud."""

    baud: float
    reach_m: float  # the longest length evaluated that passes (the gate's conservative figure)
    required_m: float
    passed: bool
    stretch_m: float
    stretch_pass: bool
    margin_db: float  # the link model's margin at the required length (not IEEE COM)
    ber_at_required: float
    target_ber: float
    ctle_at_required: dict
    power_w: float
    pj_per_bit: float
    power_max_w: float
    power_pass: bool
    evaluations: int
    config: dict
    reach_upper_m: float = float("nan")  # the shortest length evaluated that fails: the crossing lies in between

    @property
    def reach_estimate_m(self) -> float:
        """The bracket's midpoint: an unbiased estimate of where the link stops closing (for statistics)."""
        return estimate_reach_m(self.reach_m, self.reach_upper_m)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["pass"] = out.pop("passed")
        return out


LENGTH_QUANTUM_M = 1e-4
"""Lengths the search picks are multiples of this (0.1 mm): the bracket it reports holds lengths it evaluated."""


def eye_margin_db(eye_height: float, main: float) -> float:
    """The eye height at the target BER as a margin in dB: -20 log10(1 - h / (2 d)), d = main / 3 the half
    level spacing (0 where the eye just closes at the target, negative when it is closed).

    The eye closes at the target BER where the link margin (``stat_ber``'s, read at DER0) falls to a
    fixed value; this is the margin above that point, and like the margin it falls almost linearly
    with length through the crossing, where the eye height itself bends (it saturates once closed),
    so the search interpolates it.
    """
    if not (np.isfinite(eye_height) and main > 0):
        return float("nan")
    opening = 1.0 - eye_height / (2.0 * main / 3.0)
    return -20.0 * float(np.log10(opening)) if opening > 1e-6 else 120.0


def _evaluate(channel, cfg: LinkConfig, length_m: float, xt: tuple, hosts: tuple):
    """(statistical result, equalisation) of ``channel`` at ``length_m`` with the EQ optimised."""
    return LinkFamily(channel, cfg, xt, hosts).evaluate(length_m)


def _snap(length_m: float) -> float:
    return round(round(length_m / LENGTH_QUANTUM_M) * LENGTH_QUANTUM_M, 4)


class _Search:
    """Lengths evaluated so far: whether each passes and its signed eye height (positive: passes)."""

    def __init__(self, family: LinkFamily, target_ber: float):
        self.family = family
        self.target_ber = target_ber
        self.points: dict[float, tuple[bool, float]] = {}  # length -> (passes, signed eye height; nan if closed)
        self.evaluations = 0

    def add(self, length_m: float, stat) -> None:
        passes = stat is not None and stat.ber <= self.target_ber
        height = float("nan") if stat is None else abs(eye_margin_db(stat.eye_height, stat.main))
        self.points[length_m] = (passes, height if passes else -height)

    def ok(self, length_m: float) -> bool:
        if length_m not in self.points:
            self.evaluations += 1
            try:
                stat, _ = self.family.evaluate(length_m)
            except InputError:  # the channel is closed at this length
                stat = None
            self.add(length_m, stat)
        return self.points[length_m][0]

    def bracket(self) -> tuple[float, float | None]:
        """(longest passing length below the shortest failing one, or 0; shortest failing length, or None)."""
        fails = [length for length, (good, _) in self.points.items() if not good]
        hi = min(fails) if fails else None
        lo = max([length for length, (good, _) in self.points.items() if good and (hi is None or length < hi)],
                 default=0.0)
        return lo, hi

    def height(self, length_m: float) -> float:
        return self.points[length_m][1] if length_m in self.points else float("nan")

    def predict(self, lo: float, hi: float | None) -> float | None:
        """Where the eye margin crosses zero, from the lengths evaluated: a quadratic through the three nearest
        the crossing (the bracket's ends first), else a straight line through two; the root inside the
        bracket, or beyond its known end; None when nothing usable."""
        finite = {length: h for length, (_, h) in self.points.items() if np.isfinite(h)}
        if hi is not None and lo in finite and hi in finite:
            rest = sorted((length for length in finite if length not in (lo, hi)),
                          key=lambda length: min(abs(length - lo), abs(length - hi)))
            near = [lo, hi, *rest[:1]]
        else:
            near = sorted(finite, key=lambda length: abs(finite[length]))[:3]
        accept = ((lambda x: lo < x < hi) if hi is not None and lo > 0 else
                  (lambda x: x > lo) if hi is None else (lambda x: 0 < x < hi))
        for points in (near, near[:2]):
            roots = _roots([(length, finite[length]) for length in points]) if len(points) >= 2 else []
            roots = [x for x in roots if accept(x)]
            if roots:
                anchor = lo if hi is None else hi if lo <= 0 else 0.5 * (lo + hi)
                return min(roots, key=lambda x: abs(x - anchor))
        return None

    def beyond(self, lo: float, resolution_m: float) -> float:
        """The next length to try above ``lo`` when nothing longer has failed yet: just past the predicted
        crossing, else 1.5 x ``lo``; at most 2.5 x ``lo``."""
        x = self.predict(lo, None)
        step = 0.5 * lo if x is None else x + 0.45 * resolution_m - lo  # just past it: a fail to bracket with
        return lo + min(max(step, resolution_m), 1.5 * lo)

    def below(self, hi: float, resolution_m: float) -> float:
        """The next length to try below ``hi`` when nothing shorter has passed yet (the same rule, downwards)."""
        x = self.predict(0.0, hi)
        step = hi / 3 if x is None else hi - x + 0.45 * resolution_m
        return max(hi - min(max(step, resolution_m), 0.5 * hi), LENGTH_QUANTUM_M)


def _roots(points: list[tuple[float, float]]) -> list[float]:
    """Real zeros of the polynomial through ``points`` (length, margin): a line through two, a parabola through
    three (a line where the three are collinear)."""
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    if len(set(xs.tolist())) < len(xs):
        return []
    coeffs = np.polyfit(xs - xs[0], ys, len(xs) - 1)
    if len(xs) == 3 and abs(coeffs[0]) < 1e-12 * max(abs(coeffs[1]), 1e-300):
        coeffs = coeffs[1:]
    roots = np.roots(coeffs)
    return [float(r.real) + float(xs[0]) for r in roots if abs(r.imag) < 1e-12 and np.isfinite(r.real)]


def _next_inside(search: _Search, lo: float, hi: float, resolution_m: float, width_before: float) -> float:
    """The next length inside the bracket (lo, hi).

    Within two resolutions one length closes the bracket whatever it shows. Otherwise a length just off
    the predicted crossing, on the side of the nearer end, placed so that if it shows what the prediction
    expects the bracket left is within two resolutions (and the next length closes it); bisection when
    there is no prediction or the bracket did not halve over the last two steps.
    """
    width = hi - lo
    x = search.predict(lo, hi)
    if width <= 2 * resolution_m:
        return min(max(x if x is not None else 0.5 * (lo + hi), hi - resolution_m), lo + resolution_m)
    if x is None or width > 0.5 * width_before:
        return 0.5 * (lo + hi)
    if hi - x <= x - lo:  # expect a pass just below the crossing: the bracket left is (it, hi)
        pick = x - 0.45 * resolution_m
        if hi - 2 * resolution_m < x:
            pick = max(pick, hi - 2 * resolution_m)
    else:  # expect a fail just above it: the bracket left is (lo, it)
        pick = x + 0.45 * resolution_m
        if lo + 2 * resolution_m > x:
            pick = min(pick, lo + 2 * resolution_m)
    return min(max(pick, lo + 0.05 * width), hi - 0.05 * width)


def _inward(length_m: float, lo: float, hi: float, resolution_m: float) -> float:
    """``length_m`` on the search's length grid, strictly inside (lo, hi) and, where the bracket allows,
    within one resolution of both ends."""
    x = _snap(length_m)
    if hi - lo <= 2 * resolution_m:
        half = LENGTH_QUANTUM_M / 2
        x = min(max(x, _snap(hi - resolution_m + half)), _snap(lo + resolution_m - half))
    return min(max(x, _snap(lo + LENGTH_QUANTUM_M)), _snap(hi - LENGTH_QUANTUM_M))


def find_reach(channel, cfg: LinkConfig, required_m: float = 3.0, stretch_m: float = 5.0,
               max_m: float = 20.0, resolution_m: float = 0.01, crosstalk_channels: tuple = (),
               power: PowerModel | None = None, host_channels: tuple = (None, None),
               family: LinkFamily | None = None) -> ReachResult:
    """Search the reach of ``channel`` (any length-scalable channel) under ``cfg``.

    ``family``: the channel's ``LinkFamily`` under ``cfg`` (with its crosstalk and host channels) when
    the caller has one; lengths it evaluated already (e.g. the cable's own) are reused as search points.
    """
    if not 0 < required_m <= max_m:
        raise InputError(f"required length {required_m} m must be in (0, {max_m}] m")
    if not resolution_m >= 10 * LENGTH_QUANTUM_M:
        raise InputError(f"reach resolution must be at least {10 * LENGTH_QUANTUM_M:g} m")
    family = family or LinkFamily(channel, cfg, crosstalk_channels, host_channels)
    search = _Search(family, cfg.target_ber)
    for length, (stat, _) in family.evaluated.items():
        if length is not None and 0 < length <= max_m:
            search.add(length, stat)
    max_m = _snap(max_m) if _snap(max_m) <= max_m else _snap(max_m - LENGTH_QUANTUM_M)
    search.evaluations += required_m not in family.evaluated
    stat_req, eq_req = family.evaluate(required_m)  # a channel closed at the required length is an error
    search.add(required_m, stat_req)
    widths = [float("inf"), float("inf")]
    while True:
        lo, hi = search.bracket()
        if hi is None and lo >= max_m:  # the search limit itself passes
            hi = lo
            break
        if hi is not None and hi - lo <= resolution_m + 1e-9:
            break
        if hi is None:
            x = min(_snap(search.beyond(lo, resolution_m)), max_m)
        elif not any(good for good, _ in search.points.values()):
            x = _inward(search.below(hi, resolution_m), 0.0, hi, resolution_m)
        else:
            x = _inward(_next_inside(search, lo, hi, resolution_m, widths[-2]), lo, hi, resolution_m)
            widths.append(hi - lo)
        search.ok(x)
    verdict = power_gate(power or PowerModel(), cfg.baud, abs(eq_req.gdc_db) + abs(eq_req.gdc2_db))
    return ReachResult(
        baud=cfg.baud, reach_m=lo, required_m=required_m, passed=lo >= required_m,
        stretch_m=stretch_m, stretch_pass=lo >= stretch_m, margin_db=stat_req.margin_db,
        ber_at_required=stat_req.ber, target_ber=cfg.target_ber,
        ctle_at_required={"gdc_db": eq_req.gdc_db, "gdc2_db": eq_req.gdc2_db},
        power_w=verdict.power_w, pj_per_bit=verdict.pj_per_bit, power_max_w=verdict.max_w,
        power_pass=verdict.passed, evaluations=search.evaluations, config=cfg.to_dict(), reach_upper_m=hi,
    )
