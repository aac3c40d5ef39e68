"""Coverage of the carbon limit's 95 % interval on the simulated bench (not part of the test suite: it is long).

Each run draws ``--lots`` wire lots with surface carbon uniform over 0..``--carbon-max`` mg/m^2 (the
plan's wire: 26 AWG Cu-ETP, 3 m cables), measures ``--cables`` cables per lot on the simulated bench
as a qualification run measures reach (a 4-port sweep by the simulated VNA through the real
driver, the figures at the top rate, the link model's reach on the measured channel at the run's
resolution, taken as the midpoint of the search's final bracket as ``lot_summary`` does), and estimates
the 3 m reach gate's carbon limit from the lot means
(``accbench.bench.carbonlimit.reach_limit``, the same code as ``lot_summary``). The truth is the
twin's own: the carbon at which the noiseless twinax model of the lots' wire, 3 m long, just closes
the link at the target BER (root-finding on the model, no instrument). The script prints one row
per run and the fraction of runs whose interval covers the truth (with its Clopper-Pearson 95 %
interval).

    python3 scripts/carbon_coverage.py --runs 50 --lots 16
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy import optimize, stats

TOP_GBD = 106.25
TARGET_BER = 2.4e-4
REQUIRED_M = 3.0
STRETCH_M = 5.0
WIRE = {"awg": 26.0, "grade": "Cu-ETP"}


def true_limit(required_m: float = REQUIRED_M) -> float:
    """Carbon (mg/m^2) at which the twin's noiseless model of the wire, ``required_m`` long, meets the target BER."""
    from accbench.dsp.channel import TwinaxChannel
    from accbench.dsp.link import LinkModel
    from accbench.dsp.linkconfig import LinkConfig
    from accbench.dsp.statistical import stat_ber
    from accbench.dsp.twinax import spec_from_lot

    cfg = LinkConfig(baud=TOP_GBD * 1e9, target_ber=TARGET_BER)

    def excess_decades(carbon: float) -> float:
        spec = spec_from_lot(length_m=required_m, awg=WIRE["awg"], diameter_mm=None, grade=WIRE["grade"],
                             roughness_um=0.0, carbon_mg_m2=carbon)
        eq = LinkModel(TwinaxChannel(spec), cfg, required_m).equalize()
        stat = stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude, eq.crosstalk,
                        cfg.dfe_tap)
        return float(np.log10(max(stat.ber, 1e-300)) - np.log10(cfg.target_ber))

    return float(optimize.brentq(excess_decades, 0.0, 300.0, xtol=0.05))


def simulate_run(seed: int, lots: int, cables: int, carbon_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Lot carbon and lot-mean reach estimate (m; reach search bracket midpoints) of one seeded simulated run."""
    from accbench.bench.gates import REACH_RESOLUTION_M
    from accbench.dsp import AnalysisOptions, analyze_rates
    from accbench.dsp.channel import MeasuredChannel
    from accbench.dsp.linkconfig import LinkConfig
    from accbench.dsp.reach import find_reach
    from accbench.instruments import open_instrument
    from accbench.instruments.vna import SweepSettings
    from accbench.sim.station import SimulatedStation

    rng = np.random.default_rng(seed)
    carbon = np.sort(rng.uniform(0.0, carbon_max, lots))
    plan = {"seed": seed, "sim": {},
            "lots": [{"id": f"L{i}", "carbon_mg_m2": float(c), **WIRE} for i, c in enumerate(carbon)],
            "cables": [{"serial": f"C{i}-{k}", "lot": f"L{i}", "length_m": REQUIRED_M, "lanes": 1}
                       for i in range(lots) for k in range(cables)]}
    station = SimulatedStation.for_plan(plan)
    spec = station.resources()["vna"]
    vna = open_instrument(spec.resource, spec.backend, spec.dialect, kind="vna", timeout_s=spec.timeout_s)
    cfg = LinkConfig(baud=TOP_GBD * 1e9, target_ber=TARGET_BER)
    reach = np.zeros((lots, cables))
    try:
        for i in range(lots):
            for k in range(cables):
                station.connect(f"C{i}-{k}", 1)
                network = vna.measure_sparams(SweepSettings(**station.sweep)).network
                figs = analyze_rates(network, [cfg.baud], AnalysisOptions(), name=f"C{i}-{k}")[0]
                channel = MeasuredChannel.from_analysis(figs, REQUIRED_M)
                reach[i, k] = find_reach(channel, cfg, REQUIRED_M, STRETCH_M,
                                         resolution_m=REACH_RESOLUTION_M).reach_estimate_m
    finally:
        vna.close()
        station.close()
    return carbon, reach.mean(axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="seeded runs (default 50)")
    parser.add_argument("--lots", type=int, default=16, help="wire lots per run (default 16)")
    parser.add_argument("--cables", type=int, default=1, help="cables per lot (default 1)")
    parser.add_argument("--carbon-max", type=float, default=300.0, help="top of the carbon range, mg/m^2")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (the others follow)")
    parser.add_argument("--json", help="also write the rows and the totals to this file")
    args = parser.parse_args(argv)
    from accbench.bench.carbonlimit import reach_limit

    t0 = time.perf_counter()
    truth = true_limit()
    print(f"true carbon limit for a {REQUIRED_M:g} m reach (twin's noiseless model): {truth:.1f} mg/m^2 "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"{'run':>4} {'seed':>5} {'limit':>7} {'95 % interval':>19} {'status':>34} {'covers':>6} {'s':>5}")
    rows = []
    for run in range(args.runs):
        seed = args.seed + run
        start = time.perf_counter()
        carbon, reach = simulate_run(seed, args.lots, args.cables, args.carbon_max)
        limit = reach_limit(carbon, reach, REQUIRED_M, "reach_m")
        lo, hi = limit["ci95"] or (None, None)
        covered = (limit["ci95"] is not None and (lo is None or lo <= truth) and (hi is None or truth <= hi))
        seconds = time.perf_counter() - start
        rows.append({"seed": seed, "limit": limit["carbon_mg_m2"], "ci95": limit["ci95"], "status": limit["status"],
                     "covered": bool(covered), "bounded": lo is not None and hi is not None, "seconds": seconds})
        est = "-" if limit["carbon_mg_m2"] is None else f"{limit['carbon_mg_m2']:.1f}"
        ci = "-" if limit["ci95"] is None else f"[{'-inf' if lo is None else f'{lo:.1f}'}, " \
                                               f"{'inf' if hi is None else f'{hi:.1f}'}]"
        print(f"{run + 1:>4} {seed:>5} {est:>7} {ci:>19} {limit['status']:>34} {'yes' if covered else 'NO':>6} "
              f"{seconds:5.1f}", flush=True)
    hits = sum(r["covered"] for r in rows)
    n = len(rows)
    lo_cp = stats.beta.ppf(0.025, hits, n - hits + 1) if hits else 0.0
    hi_cp = stats.beta.ppf(0.975, hits + 1, n - hits) if hits < n else 1.0
    widths = [r["ci95"][1] - r["ci95"][0] for r in rows if r["bounded"]]
    total = time.perf_counter() - t0
    print(f"coverage: {hits}/{n} = {hits / max(n, 1):.0%} (Clopper-Pearson 95 %: {lo_cp:.0%}..{hi_cp:.0%}); "
          f"bounded intervals {len(widths)}/{n}, median width {np.median(widths) if widths else float('nan'):.1f} "
          f"mg/m^2; {args.lots} lots x {args.cables} cable(s) per run; {total:.0f} s in all "
          f"({total / max(n, 1):.1f} s per run)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"truth_mg_m2": truth, "runs": n, "lots": args.lots, "cables": args.cables, "covered": hits,
                       "coverage": hits / max(n, 1), "clopper_pearson_95": [lo_cp, hi_cp], "seconds": total,
                       "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
