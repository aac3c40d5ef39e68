"""Benchmarks of issues 6 and 16: simulated qualification runs, time split by step and the CPU they use.

* issue 6: 100 cables at two rates, five lots of twenty identical cables (the twin's caches hit);
* issue 16: 100 cables at two rates, every cable distinct (its own lot, carbon and length: no cache hit
  between cables), serially (the baseline, same run) and with two worker processes, each run's wall
  time, CPU time (this process and its workers) and seconds per step;
* issue 16: a twin that takes the instruments' own time (sweeps, BER gates, captures; scaled by
  ``INSTRUMENT_TIME_SCALE``), serial against pipelined, beside the instruments' time alone.

Run alone: python3 benchmarks/qualify_bench.py   (or as part of benchmarks/run.py)
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CARBON_LEVELS = (5.0, 30.0, 60.0, 120.0, 200.0)
DISTINCT_CABLES = 100
PARALLEL_WORKERS = 2
PARALLEL_TARGET_S = 20.0
DISTINCT_ROUNDS = 3
INSTRUMENT_CABLES = 4
INSTRUMENT_TIME_SCALE = 0.25  # real seconds per instrument second: a 26 s cable (6000-point 1 kHz sweep) in 6.5 s
OVERHEAD_TARGET = 0.05  # software beyond the instruments' own time, of that time


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


def distinct_cable_plan(n: int = DISTINCT_CABLES, first: int = 0):
    """``n`` cables, each from its own lot: carbon 5..200 mg/m^2 and length 2.5..5 m spread without repeats."""
    from accbench.bench.plan import parse_plan

    lots, cables = [], []
    for k in range(first, first + n):
        carbon = round(5.0 + 195.0 * ((37 * k) % 101) / 100, 3)
        length = round(2.5 + 2.5 * ((61 * k) % 103) / 102, 4)
        lots.append({"id": f"D-{k:04d}", "carbon_mg_m2": carbon, "grade": "Cu-ETP", "awg": 26})
        cables.append({"serial": f"X-{k:04d}", "lot": f"D-{k:04d}", "length_m": length})
    data = {"run": {"name": f"distinct-{n}", "rates_gbd": [53.125, 106.25], "ber_rates_gbd": [53.125],
                    "target_ber": 2.4e-4, "seed": 1},
            "gates": {"reach_m": 3.0, "power_w_max": 5.0, "il_mask": "ieee802.3ck-ca"},
            "lots": lots, "cables": cables}
    return parse_plan(data, ROOT, source=f"distinct-{n}-{first}")


def _server_cpu_s() -> float:
    """CPU seconds of the worker process server and the workers it has reaped (Linux /proc), 0 elsewhere."""
    try:
        import multiprocessing.forkserver as forkserver

        pid = forkserver._forkserver._forkserver_pid  # the server is this process's child, its workers its own
        if pid is None:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    except (AttributeError, ImportError, OSError, ValueError):
        return 0.0


def _cpu_s() -> tuple[float, float]:
    """(this process, its worker processes): CPU seconds so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime + _server_cpu_s()


def timed_run(plan, path: Path, workers: int = 1, station=None) -> tuple[object, dict]:
    """Run ``plan``; the run and {wall_s, cpu_main_s, cpu_workers_s, cables_s (wall until the last cable)}."""
    from accbench.bench.events import CableRecorded
    from accbench.bench.qualify import run_plan
    from accbench.sim.station import SimulatedStation

    station = station or SimulatedStation.for_plan(plan)
    last = [0.0]
    own0, kids0 = _cpu_s()
    start = time.perf_counter()
    try:
        run = run_plan(plan, path, station, workers=workers,
                       progress=lambda e: last.__setitem__(0, time.perf_counter()) if isinstance(e, CableRecorded)
                       else None)
    finally:
        station.close()
    wall = time.perf_counter() - start
    own1, kids1 = _cpu_s()
    return run, {"wall_s": wall, "cpu_main_s": own1 - own0, "cpu_workers_s": kids1 - kids0,
                 "cables_s": last[0] - start}


def _steps(add, label: str, run, wall: float) -> None:
    for step, seconds in run.timing_s.items():
        add(f"  {label} step: {step}", f"{seconds:.2f} s", "-", f"{seconds / wall:.0%} of the run", "-", True)


def _cpu_row(add, label: str, t: dict) -> None:
    cpu = t["cpu_main_s"] + t["cpu_workers_s"]
    add(f"  {label} CPU (this process + workers)", f"{cpu:.1f} s",
        f"{t['cpu_main_s']:.1f} + {t['cpu_workers_s']:.1f} s", f"{cpu / t['wall_s']:.2f} cores busy", "-", True)


def twin_cases(add) -> None:
    """Issue 6: 100 cables of five identical-twin lots, serial."""
    from accbench.api import qualify as run_plan

    plan = hundred_cable_plan()
    with tempfile.TemporaryDirectory() as tmp:
        run_plan(plan.__class__(**{**plan.__dict__, "cables": plan.cables[:2]}), Path(tmp) / "warm.h5")  # compile
        start = time.perf_counter()
        run = run_plan(plan, Path(tmp) / "run.h5")
        total = time.perf_counter() - start
    add("qualification, 100 cables x 2 rates (simulated bench)", f"{total:.1f} s", "-",
        f"{total / len(plan.cables) * 1e3:.0f} ms/cable", "< 60 s", total < 60)
    _steps(add, "", run, total)
    verdicts = sum(c.passed for c in run.cables)
    marginal = sum(c.outcome == "marginal" for c in run.cables)
    limit = run.summary.get("carbon_limit_mg_m2")
    add("  (cables passing / marginal / carbon limit for 3 m)", f"{verdicts} / {marginal} / 100",
        "-", "-" if limit is None else f"{limit:.0f} mg/m^2", "-", True)


def _cables(run) -> list[dict]:
    """A run's cables as plain data, timings left out."""
    return [c.to_dict() | {"timing_s": 0} for c in run.cables]


def fresh_process_run(workers: int, output: str) -> None:
    """In a new process: compile with two other cables, then time the distinct plan with ``workers``; JSON out.

    A first parallel run of a process starts its worker process server inside the timed run, as
    ``accbench qualify --workers 2`` does, this process measuring the first cables meanwhile.
    """
    import json

    with tempfile.TemporaryDirectory() as tmp:
        timed_run(distinct_cable_plan(2, first=500), Path(tmp) / "warm.h5")  # compile, fill nothing the plan shares
    run, t = timed_run(distinct_cable_plan(), Path(output), workers)
    print(json.dumps(t | {"timing_s": run.timing_s}))


def _fresh(workers: int, output: Path) -> dict:
    """``fresh_process_run`` in a child process; its figures."""
    import json
    import subprocess

    code = f"from benchmarks.qualify_bench import fresh_process_run; fresh_process_run({workers}, {str(output)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env=os.environ | {"PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return float(sorted(r[key] for r in runs)[len(runs) // 2]) if len(runs) % 2 else \
        float(sum(sorted(r[key] for r in runs)[len(runs) // 2 - 1: len(runs) // 2 + 1]) / 2)


def distinct_cases(add, rounds: int = DISTINCT_ROUNDS) -> None:
    """Issue 16: 100 distinct cables, serial (the baseline) and 2 workers, each in a fresh process, alternated
    ``rounds`` times (this machine's speed drifts by tens of percent within minutes): medians and every run."""
    from accbench.bench.record import read_run

    serial, parallel = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k in range(rounds):
            serial.append(_fresh(1, tmp / f"serial{k}.h5"))
            parallel.append(_fresh(PARALLEL_WORKERS, tmp / f"parallel{k}.h5"))
        records = [read_run(tmp / f"{kind}{k}.h5") for kind in ("serial", "parallel") for k in range(rounds)]
    same = all(_cables(r) == _cables(records[0]) for r in records)
    n = len(records[0].cables)
    ts, tp = _median(serial, "wall_s"), _median(parallel, "wall_s")
    pairs = ", ".join(f"{s['wall_s']:.1f}/{p['wall_s']:.1f}" for s, p in zip(serial, parallel, strict=True))
    ratios = ", ".join(f"{s['wall_s'] / p['wall_s']:.2f}" for s, p in zip(serial, parallel, strict=True))
    add(f"qualification, {n} distinct cables x 2 rates, serial (median of {rounds})", f"{ts:.1f} s", "-",
        f"{ts / n * 1e3:.0f} ms/cable", "-", True)
    add(f"qualification, {n} distinct cables x 2 rates, {PARALLEL_WORKERS} workers (median of {rounds})",
        f"{tp:.1f} s", f"serial {ts:.1f} s", f"{ts / tp:.2f}x faster", f"< {PARALLEL_TARGET_S:g} s",
        tp < PARALLEL_TARGET_S)
    add("  each round, serial/parallel (fresh processes, server start inside)", pairs, "-",
        f"ratios {ratios}", "-", True)
    for label, runs in (("serial", serial), ("parallel", parallel)):
        t = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]  # the median run's split
        add(f"  {label}: cables until the last is recorded / lot summary", f"{t['cables_s']:.1f} s", "-",
            f"summary {t['timing_s'].get('summary', 0.0):.1f} s", "-", True)
        _cpu_row(add, label, t)
        _steps(add, label + (" (summed over processes)" if label == "parallel" else ""),
               SimpleNamespace(timing_s=t["timing_s"]), t["wall_s"])
    add("  same cables and verdicts in every run", "yes" if same else "NO", "-", "-", "identical", same)


def instrument_time_cases(add) -> None:
    """Issue 16: a twin taking the instruments' own time: serial, pipelined, and the instruments alone."""
    from accbench.sim.station import SimulatedStation

    plan = distinct_cable_plan(INSTRUMENT_CABLES, first=700)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, PARALLEL_WORKERS):
            station = SimulatedStation.for_plan(plan, time_scale=INSTRUMENT_TIME_SCALE)
            run, t = timed_run(plan, Path(tmp) / f"it{workers}.h5", workers, station)
            results[workers] = (run, t, station.sim.modelled_s * INSTRUMENT_TIME_SCALE)
    instruments = results[1][2]
    label = f"{INSTRUMENT_CABLES} cables, instruments taking their time (x{INSTRUMENT_TIME_SCALE:g})"
    add(f"{label}: instruments alone", f"{instruments:.1f} s", "-",
        f"{instruments / INSTRUMENT_CABLES:.1f} s/cable", "-", True)
    for workers, name in ((1, "serial"), (PARALLEL_WORKERS, f"pipelined, {PARALLEL_WORKERS} workers")):
        run, t, _ = results[workers]
        over = t["cables_s"] / instruments - 1
        add(f"  {name}: cables / whole run", f"{t['cables_s']:.1f} / {t['wall_s']:.1f} s",
            f"instruments {instruments:.1f} s", f"software +{over:.1%} (cables)",
            f"<= +{OVERHEAD_TARGET:.0%}" if workers > 1 else "-", over <= OVERHEAD_TARGET or workers == 1)


def run_cases(add) -> None:
    """Every qualification case: one row per result, ``add(case, value, baseline, ratio, target, met)``."""
    twin_cases(add)
    distinct_cases(add)
    instrument_time_cases(add)


def main() -> None:
    from benchmarks.timing import print_table

    rows = []
    run_cases(lambda *row: rows.append((*row[:5], "yes" if row[5] else "NO")))
    print_table("accbench qualification benchmark", rows, width=160)


if __name__ == "__main__":
    main()
