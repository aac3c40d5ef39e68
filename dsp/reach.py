"""The reach gate: the longest cable length that closes the link at the target BER with the optimised EQ.

BER grows with length, so the reach is bracketed by stepping up from the required length
(x1.5) and then narrowed to ``resolution_m`` by Brent's method on the eye height at the target
BER (about half the evaluations of bisection); the CTLE/FFE optimisation runs at every length.
The verdict carries the link margin at the required length and the power gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from accbench.dsp.link import LinkModel
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.power import PowerModel, power_gate
from accbench.dsp.statistical import stat_ber
from scipy.optimize import brentq

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


def estimate_reach_m(reach_m: float, reach_upper_m: float | None) -> float:
    """Midpoint of the reach bracket [passing, failing]; the passing end alone when the upper end is unknown.

    The gate uses the passing end (never claim more reach than was shown); lot statistics use the
    midpoint, because the passing end is low by half the search resolution on average and that bias
    would put a carbon limit's interval systematically below the truth.
    """
    if reach_upper_m is None or not np.isfinite(reach_upper_m) or reach_upper_m < reach_m:
        return float(reach_m)
    return 0.5 * (float(reach_m) + float(reach_upper_m))


def _evaluate(channel, cfg: LinkConfig, length_m: float, xt: tuple, hosts: tuple):
    model = LinkModel(channel, cfg, length_m, xt, host_channels=hosts)
    eq = model.equalize()
    stat = stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude,
                    eq.crosstalk, cfg.dfe_tap)
    return stat, eq


def _narrow(ok, heights: dict[float, float], lo: float, hi: float, resolution_m: float) -> tuple[float, float]:
    """Shrink the bracket (``lo`` passes, ``hi`` fails) to ``resolution_m`` with Brent's method.

    Brent's root finder runs on the eye height at the target BER (smooth in length), its sign
    tied to the pass/fail answer; the bracket is then read back from every length evaluated.
    """
    passed: dict[float, bool] = {}

    def signed_height(length: float) -> float:
        if length not in passed:
            passed[length] = ok(length)
        h = heights[length]
        if not np.isfinite(h):
            h = -1.0
        return abs(h) + 1e-12 if passed[length] else -abs(h) - 1e-12

    heights.setdefault(lo, 1.0)
    if lo not in passed:
        passed[lo] = True
    passed.setdefault(hi, False)
    try:
        brentq(signed_height, lo, hi, xtol=0.4 * resolution_m, maxiter=60)
    except ValueError:
        pass
    while True:
        hi = min([length for length, good in passed.items() if not good] + [hi])
        lo = max([length for length, good in passed.items() if good and length < hi] + [lo])
        if hi - lo <= resolution_m:
            return lo, hi
        mid = 0.5 * (lo + hi)
        passed[mid] = ok(mid)


def find_reach(channel, cfg: LinkConfig, required_m: float = 3.0, stretch_m: float = 5.0,
               max_m: float = 20.0, resolution_m: float = 0.01, crosstalk_channels: tuple = (),
               power: PowerModel | None = None, host_channels: tuple = (None, None)) -> ReachResult:
    """Search the reach of ``channel`` (any length-scalable channel) under ``cfg``."""
    if not 0 < required_m <= max_m:
        raise InputError(f"required length {required_m} m must be in (0, {max_m}] m")
    if resolution_m <= 0:
        raise InputError("reach resolution must be > 0")
    evaluations = 0
    heights: dict[float, float] = {}

    def ok(length: float) -> bool:
        nonlocal evaluations
        evaluations += 1
        try:
            stat, _ = _evaluate(channel, cfg, length, crosstalk_channels, host_channels)
        except InputError:
            heights[length] = float("-inf")
            return False
        heights[length] = stat.eye_height
        return stat.ber <= cfg.target_ber

    stat_req, eq_req = _evaluate(channel, cfg, required_m, crosstalk_channels, host_channels)
    evaluations += 1
    heights[required_m] = stat_req.eye_height
    if stat_req.ber <= cfg.target_ber:
        lo, hi = required_m, required_m * 1.5
        while hi < max_m and ok(hi):
            lo, hi = hi, hi * 1.5
        if hi >= max_m:  # the bracket's top is the search limit itself
            lo, hi = (max_m, max_m) if ok(max_m) else (lo, max_m)
    else:
        lo, hi = 0.0, required_m
    if hi - lo > resolution_m:
        lo, hi = _narrow(ok, heights, lo, hi, resolution_m)
    reach = lo
    verdict = power_gate(power or PowerModel(), cfg.baud, abs(eq_req.gdc_db) + abs(eq_req.gdc2_db))
    return ReachResult(
        baud=cfg.baud, reach_m=round(reach, 4), required_m=required_m, passed=reach >= required_m,
        stretch_m=stretch_m, stretch_pass=reach >= stretch_m, margin_db=stat_req.margin_db,
        ber_at_required=stat_req.ber, target_ber=cfg.target_ber,
        ctle_at_required={"gdc_db": eq_req.gdc_db, "gdc2_db": eq_req.gdc2_db},
        power_w=verdict.power_w, pj_per_bit=verdict.pj_per_bit, power_max_w=verdict.max_w,
        power_pass=verdict.passed, evaluations=evaluations, config=cfg.to_dict(), reach_upper_m=round(hi, 4),
    )
