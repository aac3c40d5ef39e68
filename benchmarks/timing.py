"""Timing and table helpers shared by the benchmark cases."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def wall_times_s(func: Callable[[], object], repeat: int) -> list[float]:
    """Wall times of ``func`` over ``repeat`` runs, after one warm-up run."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def median_time_s(func: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``func`` over ``repeat`` runs, after one warm-up run."""
    return statistics.median(wall_times_s(func, repeat))


def paired_times_s(candidate: Callable[[], object], baseline: Callable[[], object],
                   repeat: int) -> tuple[float, float]:
    """Median times of candidate and baseline, measured alternately so both see the same load."""
    candidate()
    baseline()
    cand, base = [], []
    for _ in range(repeat):
        for func, times in ((baseline, base), (candidate, cand)):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
    return statistics.median(cand), statistics.median(base)


@dataclass(frozen=True)
class Timed:
    """Median wall time and median CPU time (all threads of the process) of repeated runs."""

    wall_s: float
    cpu_s: float

    def rate(self, work: float) -> tuple[float, float]:
        """``work`` per wall second and per CPU second."""
        return work / self.wall_s, work / self.cpu_s


def paired_wall_cpu_s(candidate: Callable[[], object], baseline: Callable[[], object],
                      repeat: int) -> tuple[Timed, Timed]:
    """Like ``paired_times_s``, with the CPU time of each run beside its wall time.

    CPU time is ``time.process_time`` over the run: every thread of this process, so a
    two-thread run that keeps both cores busy costs twice its wall time.
    """
    candidate()
    baseline()
    runs: dict[str, list[tuple[float, float]]] = {"cand": [], "base": []}
    for _ in range(repeat):
        for func, key in ((baseline, "base"), (candidate, "cand")):
            cpu = time.process_time()
            start = time.perf_counter()
            func()
            runs[key].append((time.perf_counter() - start, time.process_time() - cpu))
    cand, base = (Timed(statistics.median(w for w, _ in runs[k]), statistics.median(c for _, c in runs[k]))
                  for k in ("cand", "base"))
    return cand, base


def rate_per_s(func: Callable[[], object], seconds: float = 0.5) -> float:
    """Calls of ``func`` per second over about ``seconds``, after one warm-up call."""
    func()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        func()
        n += 1
    return n / (time.perf_counter() - start)


def print_table(title: str, rows: list[tuple], width: int = 160) -> None:
    """The benchmark table: case, measured, baseline (same run), ratio, target, met."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("case", "measured", "baseline (same run)", "ratio", "target", "met"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    Console(width=width).print(table)
