"""Dask for a sweep: a ``LocalCluster`` of single-threaded worker processes, or a client of a running scheduler.

Batches of points are submitted as tasks of ``evaluate.evaluate_batch`` (importable on every worker,
where accbench must be installed), a bounded number in flight, and handed back as they finish.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from accbench import __version__
from accbench.errors import InputError
from accbench.sweep.design import Job
from accbench.sweep.evaluate import evaluate_batch

if TYPE_CHECKING:
    from distributed import Client

WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""Environment of the local cluster's workers: one thread each, the processes are the parallelism."""
CONNECT_TIMEOUT_S = 10.0
WORKER_WAIT_S = 30.0
_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")

Batch = Sequence[tuple[int, dict[str, Any]]]


def check_address(address: str) -> str:
    """A scheduler address ``tcp://HOST:PORT`` (or ``tls://``), refused in one line when it is not one."""
    match = _ADDRESS.match(address.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise InputError(f"scheduler address {address!r}: give it as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786",
                         "scheduler")
    return address.strip()


@contextmanager
def dask_client(workers: int, scheduler: str | None = None) -> Iterator[Client]:
    """A client of a new local cluster of ``workers`` processes, or of the scheduler at ``scheduler``; closed after."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR, env=WORKER_ENV)
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    address = check_address(scheduler)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT_S:g} s: start it "
                         "with `dask scheduler` or check the address", "scheduler") from exc
    try:
        _check_workers(client, address)
        yield client
    finally:
        client.close()


def _check_workers(client: Client, address: str) -> None:
    """At least one worker, each with this version of accbench importable (the tasks run accbench code)."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError as exc:
        raise InputError(f"no worker joined the scheduler at {address} within {WORKER_WAIT_S:g} s: start one with "
                         f"`dask worker {address}`", "scheduler") from exc
    # a lambda travels by value, so it runs even where accbench is missing and says so
    found = client.run(lambda: getattr(__import__("importlib").import_module("accbench"), "__version__", "?")
                       if __import__("importlib.util").util.find_spec("accbench") else None)
    wrong = {worker: version for worker, version in found.items() if version != __version__}
    if wrong:
        worker, version = next(iter(wrong.items()))
        have = "has no accbench" if version is None else f"has accbench {version}"
        raise InputError(f"Dask worker {worker} {have}, not {__version__}: install this accbench on every worker "
                         f"({len(wrong)} of {len(found)} differ)", "scheduler")


def cluster_threads(client: Client) -> int:
    """Threads of all the cluster's workers (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def run_batches(client: Client, job: Job, batches: Sequence[Batch]) -> Iterator[tuple[Batch, list[dict] | None,
                                                                                      BaseException | None]]:
    """(batch, rows, None) for each batch as it finishes, or (batch, None, error) when its task failed as a whole.

    A task fails as a whole when its worker dies (``KilledWorker`` after Dask's retries) or cannot
    run accbench; the points' own exceptions are rows. At most two tasks per worker thread are in
    flight, so a crash loses little; leaving the loop early cancels the rest.
    """
    from distributed import as_completed

    pending = iter(batches)
    window = 2 * cluster_threads(client) + 2
    running: dict[Any, Batch] = {}

    def submit() -> Any:
        batch = next(pending, None)
        if batch is None:
            return None
        future = client.submit(evaluate_batch, job, list(batch), pure=False)
        running[future] = batch
        return future

    queue = as_completed([f for f in (submit() for _ in range(window)) if f is not None], loop=client.loop)
    try:
        for future in queue:
            batch = running.pop(future)
            try:
                rows, error = future.result(), None
            except (Exception, asyncio.CancelledError) as exc:  # the task as a whole (its points' errors are rows)
                rows, error = None, exc
            future.release()
            yield batch, rows, error
            following = submit()
            if following is not None:
                queue.add(following)
    finally:
        if running:
            client.cancel(list(running))
