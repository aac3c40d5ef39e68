"""Running a sweep: spec -> design -> the points not yet recorded -> Dask batches -> Parquet, resumable.

    summary = run_sweep("fixtures/sweeps/design_grid.toml", "grid.parquet", workers=2)

Re-running with the same output evaluates only the points it does not hold yet; a crash or Ctrl-C
loses at most the batches in flight. ``workers=0`` evaluates in this process, without Dask (for a
debugger); ``client`` runs on a Dask client the caller already has.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from accbench.errors import InputError, RunInterrupted
from accbench.sweep.columns import schema
from accbench.sweep.design import Design, build_design
from accbench.sweep.evaluate import error_line, evaluate_batch
from accbench.sweep.spec import load_spec
from accbench.sweep.store import META_KIND, META_POINTS, META_SPEC, META_SPEC_PATH, ResultStore

if TYPE_CHECKING:
    from distributed import Client

DEFAULT_BATCH = {"design": 25, "corpus": 2}
"""Points per task: a design point takes ~0.1 s (scheduling overhead stays small), a COM point ~1 s."""
TASKS_PER_WORKER = 4
"""A small sweep is cut finer, so every worker gets work."""


class Progress(Protocol):
    """What a front end shows: the points to compute, then each batch as it is recorded."""

    def start(self, total: int, done_before: int) -> None: ...

    def advance(self, points: int, failed: int) -> None: ...


class _Silent:
    def start(self, total: int, done_before: int) -> None:
        pass

    def advance(self, points: int, failed: int) -> None:
        pass


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep run did: its design, what it found recorded, what it computed, how fast, where it wrote."""

    spec: str
    output: str
    kind: str
    spec_hash: str
    points: int
    done_before: int
    computed: int
    failed_now: int
    ok: int
    failed: int
    elapsed_s: float
    points_per_s: float
    workers: int
    scheduler: str | None
    batch_points: int

    def to_dict(self) -> dict:
        return asdict(self)


def batch_size(design: Design, todo: int, threads: int, requested: int | None) -> int:
    """Points per task: the one requested (option, then spec), else the default, cut so each thread gets tasks."""
    if requested is None:
        requested = design.spec.batch_points
    if requested is not None:
        return requested
    default = DEFAULT_BATCH[design.job.kind]
    return max(1, min(default, math.ceil(todo / (TASKS_PER_WORKER * max(threads, 1)))))


def run_sweep(spec_path: str | Path, output: str | Path, *, workers: int = 2, scheduler: str | None = None,
              force: bool = False, retry_failed: bool = False, batch_points: int | None = None,
              client: Client | None = None, progress: Progress | None = None) -> SweepSummary:
    """Evaluate the points of ``spec_path`` not yet in ``output`` and record them there (see the module doc)."""
    if workers < 0:
        raise InputError(f"workers {workers}: give 0 (this process) or more worker processes", "workers")
    if batch_points is not None and batch_points < 1:
        raise InputError(f"batch of {batch_points} points: give at least 1", "batch_points")
    if scheduler is not None:
        from accbench.sweep.cluster import check_address

        scheduler = check_address(scheduler)
    spec = load_spec(spec_path)
    design = build_design(spec)
    metadata = {META_SPEC: spec.source.encode(), META_KIND: spec.kind.encode(),
                META_POINTS: str(len(design.points)).encode(), META_SPEC_PATH: str(Path(spec_path)).encode()}
    store = ResultStore(output, schema(design.input_names, spec.outputs, spec.is_corpus), design.spec_hash, metadata)
    store.open(force)
    done = store.done(retry_failed)
    todo = [(i, point) for i, point in enumerate(design.points) if i not in done]
    progress = progress or _Silent()
    start = time.perf_counter()
    computed = failed_now = 0
    size = 0
    threads = workers if scheduler is None and client is None else 0  # known once a cluster is up
    try:
        if todo:
            with _executor(client, workers, scheduler) as run:
                threads = run.threads
                size = batch_size(design, len(todo), threads, batch_points)
                batches = [todo[k:k + size] for k in range(0, len(todo), size)]
                progress.start(len(todo), len(design.points) - len(todo))
                for rows in run(design, batches):
                    store.write_part(rows)
                    failed = sum(row["status"] != "ok" for row in rows)
                    computed += len(rows)
                    failed_now += failed
                    progress.advance(len(rows), failed)
    except KeyboardInterrupt as exc:
        recorded = store.consolidate()
        raise RunInterrupted(f"sweep interrupted: {recorded} of {len(design.points)} points are recorded in "
                             f"{store.output}; run the same command again to continue") from exc
    store.consolidate()
    ok, failed = _status_counts(store)
    elapsed = time.perf_counter() - start
    return SweepSummary(str(spec_path), str(store.output), spec.kind, design.spec_hash, len(design.points),
                        len(design.points) - len(todo), computed, failed_now, ok, failed, elapsed,
                        computed / elapsed if computed and elapsed > 0 else 0.0, threads, scheduler, size)


def _status_counts(store: ResultStore) -> tuple[int, int]:
    """(ok, failed) rows of the output."""
    import pyarrow.parquet as pq

    if not store.output.is_file():
        return 0, 0
    status = pq.read_table(store.output, columns=["status"]).column("status").to_pylist()
    ok = sum(s == "ok" for s in status)
    return ok, len(status) - ok


class _Run:
    """Evaluates batches, yielding each batch's rows (a batch whose task failed as a whole: failed rows).

    ``threads`` is the cluster's worker threads, 0 when evaluating in this process without Dask.
    """

    def __init__(self, client: Client | None, threads: int):
        self.client = client
        self.threads = threads

    def __call__(self, design: Design, batches: list):
        if self.client is None:
            for batch in batches:
                yield evaluate_batch(design.job, batch, single_thread=False)
            return
        from accbench.sweep.cluster import run_batches

        for batch, rows, error in run_batches(self.client, design.job, batches):
            yield rows if error is None else _failed_rows(batch, error)


def _failed_rows(batch: list, error: BaseException) -> list[dict]:
    """The rows of a batch whose task could not run (e.g. its worker died): every point failed, with the reason."""
    text = f"the task of this batch failed on the cluster: {error_line(error)}"
    return [{"point": index, **point, "status": "failed", "error": text, "elapsed_s": None, "worker": None}
            for index, point in batch]


@contextmanager
def _executor(client: Client | None, workers: int, scheduler: str | None) -> Iterator[_Run]:
    """The evaluation back end of a run: this process, the caller's client, or a cluster made (and closed) here."""
    if client is None and workers == 0 and scheduler is None:
        yield _Run(None, 0)
        return
    from accbench.sweep.cluster import cluster_threads, dask_client

    if client is not None:
        yield _Run(client, cluster_threads(client))
        return
    with dask_client(workers, scheduler) as made:
        yield _Run(made, cluster_threads(made))
