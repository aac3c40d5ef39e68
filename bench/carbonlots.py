"""The lot table of the carbon question: per lot, the means of its cables and its pass rates, unit defects apart.

A lot's cables share one wire, so the lot (not the cable) is the unit of the carbon statistics,
and its figures are the means of its cables. The carbon question counts only verdicts the wire
can cause (``WIRE_GATES``: the IL mask, IEEE COM and ERL, the link model's reach on the measured
channel); a cable's power draw, its BER count (a noisy redriver is invisible in the
S-parameters) and a model outlier are defects of the unit, counted apart in ``unit_defects``.
Every entry is a flat scalar or None (each becomes an HDF5 attribute of ``/lots/<id>``).
"""

from __future__ import annotations

import numpy as np
from accbench.bench.plan import Lot, Plan
from accbench.bench.results import CableResult, worst_outcome

WIRE_GATES = ("il_mask", "reach", "com", "erl")
UNIT_GATES = ("power", "ber")


def wire_passed(cable: CableResult) -> bool:
    """True when every gate the wire can cause passes (marginal counts as not passed, as in ``pass_rate``)."""
    return worst_outcome(v.outcome for v in cable.verdicts if v.name in WIRE_GATES) == "pass"


def unit_defect(cable: CableResult, outliers: set[str]) -> bool:
    """A defect of the unit, not the wire: a power or BER gate not passed (an over-current leaves the power
    unmeasured, which fails its gate), or a model outlier."""
    return any(v.name in UNIT_GATES and not v.passed for v in cable.verdicts) or cable.serial in outliers


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def lot_entry(plan: Plan, lot: Lot, cables: list[CableResult], outliers: set[str]) -> dict:
    """One lot's row: carbon, grade, cables, pass rates (all gates; wire gates only), unit defects, mean figures."""
    mine = [c for c in cables if c.wire_lot == lot.id]
    entry = {"id": lot.id, "carbon_mg_m2": lot.carbon_mg_m2, "grade": lot.grade, "cables": len(mine),
             "pass_rate": (sum(c.passed for c in mine) / len(mine)) if mine else None,
             "wire_pass_rate": (sum(wire_passed(c) for c in mine) / len(mine)) if mine else None,
             "unit_defects": int(sum(unit_defect(c, outliers) for c in mine)),
             "marginal": sum(c.outcome == "marginal" for c in mine)}
    for gbd in plan.rates_gbd:
        rates = [r for c in mine for r in c.rates if abs(r.gbd - gbd) < 1e-9]
        entry[f"il_db_{gbd:g}"] = _mean([r.il_db for r in rates])
        entry[f"excess_il_db_{gbd:g}"] = _mean([r.excess_il_db for r in rates])
    entry["reach_m"] = _mean([c.reach_m for c in mine])
    entry["reach_estimate_m"] = _mean([c.reach_estimate_m for c in mine])  # bracket midpoints: for the statistics
    return entry


def lot_table(plan: Plan, cables: list[CableResult], outliers: set[str] | None = None) -> list[dict]:
    """Every lot of the plan, in the plan's order (lots without a measured cable have None figures)."""
    return [lot_entry(plan, lot, cables, outliers or set()) for lot in plan.lots.values()]
