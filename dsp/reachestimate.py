"""The reach a search's final bracket stands for: a leaf, so typed results can use it without the link model."""

from __future__ import annotations

import math


def estimate_reach_m(reach_m: float, reach_upper_m: float | None) -> float:
    """Midpoint of the reach bracket [passing, failing]; the passing end alone when the upper end is unknown.

    The gate uses the passing end (never claim more reach than was shown); lot statistics use the
    midpoint, because the passing end is low by half the search resolution on average and that bias
    would put a carbon limit's interval systematically below the truth.
    """
    if reach_upper_m is None or not math.isfinite(reach_upper_m) or reach_upper_m < reach_m:
        return float(reach_m)
    return 0.5 * (float(reach_m) + float(reach_upper_m))
