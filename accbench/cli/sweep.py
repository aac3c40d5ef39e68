"""``accbench sweep SPEC.toml``: a design or corpus sweep on Dask, recorded point by point in a Parquet file.

A thin layer over ``accbench.sweep.run_sweep``: options, a rich progress bar on stderr, and the
summary (a line of text or one JSON object) on stdout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from accbench.cli.options import option_names
from accbench.cli.params import OutputFile, count

SWEEP_FLAGS = {"workers": "--workers", "scheduler": "--scheduler", "batch_points": "--batch"}
"""Parameters of ``run_sweep`` -> the options that set them."""


class SweepProgress:
    """A rich bar over the points to compute (stderr, only on a terminal), with the count of failed points."""

    def __init__(self, enabled: bool):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True)
        self._bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TimeRemainingColumn(),
                             console=console, disable=not (enabled and console.is_terminal))
        self._task = None
        self._failed = 0

    def start(self, total: int, done_before: int) -> None:
        self._task = self._bar.add_task("points", total=total, failed=0)
        self._bar.start()

    def advance(self, points: int, failed: int) -> None:
        self._failed += failed
        self._bar.update(self._task, advance=points, failed=self._failed)

    def close(self) -> None:
        self._bar.stop()


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=OutputFile(), default=None,
              help="Parquet file of the results; resumed when it exists [default: SPEC with .parquet].")
@click.option("--workers", type=count(0, 1024), default=None,
              help="Worker processes of the local Dask cluster [default: the CPU count]; 0 evaluates in this "
                   "process without Dask (debugging).")
@click.option("--scheduler", default=None,
              help="A running Dask scheduler, tcp://HOST:8786, instead of a local cluster (accbench installed on "
                   "every worker; corpus files at the same path).")
@click.option("--batch", "batch_points", type=count(1, 10_000), default=None,
              help="Points per Dask task [default: the spec's batch_points, else 25 (design) or 2 (corpus)].")
@click.option("--force", is_flag=True, help="Replace the results of another spec found in the output.")
@click.option("--retry-failed", is_flag=True, help="Evaluate the points recorded as failed again.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object (no progress bar).")
def sweep(spec: Path, output: str | None, workers: int | None, scheduler: str | None, batch_points: int | None,
          force: bool, retry_failed: bool, quiet: bool, as_json: bool) -> None:
    """Evaluate a grid, random or corpus sweep (SPEC: TOML) on Dask; results to Parquet, resumable."""
    from accbench.sweep import run_sweep

    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sizes the local cluster; a scheduler's workers are started with "
                               "`dask worker ADDRESS`: leave --workers out")
    if output is None:
        output = str(spec.with_suffix(".parquet"))
    progress = SweepProgress(enabled=not (quiet or as_json))
    try:
        with option_names(SWEEP_FLAGS):
            summary = run_sweep(spec, output, workers=(os.cpu_count() or 1) if workers is None else workers,
                                scheduler=scheduler, force=force, retry_failed=retry_failed,
                                batch_points=batch_points, progress=progress)
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        where = summary.scheduler or ("this process" if summary.workers == 0
                                      else f"{summary.workers} local worker(s)")
        click.echo(f"sweep {summary.spec} ({summary.kind}, {summary.points} points) -> {summary.output}")
        click.echo(f"  computed {summary.computed} point(s) in {summary.elapsed_s:.1f} s "
                   f"({summary.points_per_s:.2f} points/s) on {where}; {summary.done_before} already recorded")
        click.echo(f"  recorded: {summary.ok} ok, {summary.failed} failed")
    if summary.failed:
        click.echo(f"accbench: warning: {summary.failed} point(s) failed; their reasons are in the error column",
                   err=True)
