"""Benchmark of issue 6: a simulated qualification of 100 cables at two rates, time split by step.

Run alone: python3 benchmarks/qualify_bench.py   (or as part of benchmarks/run.py)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CARBON_LEVELS = (5.0, 30.0, 60.0, 120.0, 200.0)


def hundred_cable_plan():
    """Five lots of rising surface carbon, 20 cables of 3 m each, 53.125 and 106.25 GBd."""
    from accbench.bench.plan import parse_plan

    lots = [{"id": f"W-{i + 1:04d}", "carbon_mg_m2": c, "grade": "Cu-ETP", "awg": 26}
            for i, c in enumerate(CARBON_LEVELS)]
    cables = [{"serial": f"B-{n:04d}", "lot": lots[n % len(lots)]["id"], "length_m": 3.0} for n in range(100)]
    data = {"run": {"name": "benchmark-100", "rates_gbd": [53.125, 106.25], "ber_rates_gbd": [53.125],
                    "target_ber": 2.4e-4, "seed": 1},
            "gates": {"reach_m": 3.0, "power_w_max": 5.0, "il_mask": "ieee802.3ck-ca"},
            "lots": lots, "cables": cables}
    return parse_plan(data, ROOT, source="benchmark-100")


def run_cases(add) -> None:
    """Time the 100-cable run and add one row for the total and one per step."""
    from accbench.api import qualify as run_plan

    plan = hundred_cable_plan()
    with tempfile.TemporaryDirectory() as tmp:
        run_plan(plan.__class__(**{**plan.__dict__, "cables": plan.cables[:2]}), Path(tmp) / "warm.h5")  # compile
        start = time.perf_counter()
        run = run_plan(plan, Path(tmp) / "run.h5")
        total = time.perf_counter() - start
    add("qualification, 100 cables x 2 rates (simulated bench)", f"{total:.1f} s", "-",
        f"{total / len(plan.cables) * 1e3:.0f} ms/cable", "< 60 s", total < 60)
    for step, seconds in run.timing_s.items():
        add(f"  step: {step}", f"{seconds:.2f} s", "-", f"{seconds / total:.0%} of the run", "-", True)
    verdicts = sum(c.passed for c in run.cables)
    marginal = sum(c.outcome == "marginal" for c in run.cables)
    limit = run.summary.get("carbon_limit_mg_m2")
    add("  (cables passing / marginal / carbon limit for 3 m)", f"{verdicts} / {marginal} / 100",
        "-", "-" if limit is None else f"{limit:.0f} mg/m^2", "-", True)


def main() -> None:
    from benchmarks.timing import print_table

    rows = []
    run_cases(lambda *row: rows.append((*row[:5], "yes" if row[5] else "NO")))
    print_table("accbench qualification benchmark", rows, width=140)


if __name__ == "__main__":
    main()
