"""Speed benchmarks of accbench against the baselines named in the issues; prints a table.

Run: python3 benchmarks/run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import skrf as rf
from rich.console import Console
from rich.table import Table

from dsp import analyze_file
from dsp.twinax import TwinaxSpec, twinax_network

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "fixtures" / "touchstone" / "CA_19p75dB_thru.s4p"


def median_time_s(func: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``func`` over ``repeat`` runs, after one warm-up run."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def skrf_load_se2gmm() -> rf.Network:
    """The baseline: scikit-rf's own load of the file, port reorder and se2gmm."""
    network = rf.Network(str(FILE))
    network.renumber([0, 1, 2, 3], [0, 2, 1, 3])
    network.se2gmm(p=2)
    return network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    spec = TwinaxSpec(awg=26, length_m=3.0, roughness_rq_m=0.1e-6, carbon_mg_m2=80.0)

    # interleave baseline and candidate so both see the same machine state
    base = median_time_s(skrf_load_se2gmm, args.repeat)
    full = median_time_s(lambda: analyze_file(FILE), args.repeat)
    base2 = median_time_s(skrf_load_se2gmm, args.repeat)
    baseline = min(base, base2)
    synth = median_time_s(lambda: twinax_network(spec), args.repeat)

    table = Table(title=f"accbench benchmarks (median of {args.repeat})")
    for col in ("case", "time", "baseline", "ratio", "target", "met"):
        table.add_column(col)
    ratio = full / baseline
    table.add_row("analyze CA_19p75dB_thru.s4p (6001 pts, all figures)", f"{full * 1e3:.1f} ms",
                  f"skrf load+se2gmm {baseline * 1e3:.1f} ms", f"{ratio:.2f}x", "<= 1.5x",
                  "yes" if ratio <= 1.5 else "NO")
    table.add_row("synth 26 AWG 3 m twinax (6001 pts)", f"{synth * 1e3:.1f} ms", "-", "-", "< 100 ms",
                  "yes" if synth < 0.1 else "NO")
    Console().print(table)


if __name__ == "__main__":
    main()
