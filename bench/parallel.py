"""A run's cables in parallel, with the record a serial run would write.

``cable_results`` measures and judges the plan's cables and hands them back in plan order, one of
three ways:

* serial (``workers=1``): each cable acquired (``measure.acquire``: the instruments) and computed
  (``measure.compute``: figures, link model, reach, COM, verdicts) in this process;
* pipelined (a station with one set of instruments, e.g. a bench file's): this process drives the
  instruments cable after cable while worker processes compute the cables already acquired, so a
  cable's computation runs during the next cable's instrument time;
* replicated (a simulated station another process can build again, ``station.replica()``): every
  worker process opens its own copy of the station and measures whole cables, the twin's synthesis
  included.

A cable measures the same wherever and whenever it is measured: the twin keys its random streams
and fault schedule by the cable and lane, never by what was measured before (``accbench.sim.twin``),
and computing touches no instrument. So the cables, their events and the record are those of a
serial run; only timings differ. Progress events of work done in a worker are sent when its cable
comes back, just before the cable is recorded. Worker processes come from a process server
(forkserver; spawn where there is none), one numerical thread each (``accbench.bench.workerenv``),
and ignore Ctrl-C: the run stops them. At Ctrl-C a pipelined run still records the cables whose
instrument work is done (their computations finish first); a second Ctrl-C stops at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accbench.bench.events import CableSkipped

from accbench.errors import AccbenchError, InputError, InstrumentError

if TYPE_CHECKING:
    from accbench.bench.measure import Acquisition
    from accbench.bench.plan import Cable, Plan
    from accbench.bench.results import CableResult
    from accbench.bench.stations import Instruments

    from accbench.station import Station

PRELOAD = ("accbench.bench.workerenv", "accbench.bench.measure", "accbench.bench.stations", "accbench.dsp.analysis",
           "accbench.dsp.link", "accbench.dsp.reach", "accbench.dsp.channel", "accbench.instruments.vna",
           "accbench.instruments.bert", "accbench.instruments.power", "accbench.sim.station",
           "accbench.bench.workerwarm")
"""Modules the process server imports once before it forks workers: thread pinning first, kernels loaded last
(the simulated station's too: a worker builds its copy of the twin from it)."""
MAX_WORKERS = 256


class WorkerError(AccbenchError):
    """A worker process of a parallel run died; the cables recorded so far are kept (resume continues)."""


@dataclass
class CableDone:
    """One cable measured and judged (or stopped by an instrument fault), ready to record."""

    order: int
    cable: Cable
    freq_hz: Any
    s: Any
    result: CableResult
    arrays: dict
    faults: list = field(default_factory=list)  # FaultRecovered events of retries that mended a fault
    station_events: list[str] = field(default_factory=list)  # what the station logged during the cable
    replay: list = field(default_factory=list)  # progress events that happened in a worker, in order
    instrument_error: str | None = None  # the fault that stopped the cable (recorded as failed)


@dataclass(frozen=True)
class _Raised:
    """An accbench error of a worker, kept whole (its ``fields`` do not survive pickling as an exception)."""

    kind: type
    message: str
    fields: tuple[str, ...]

    def throw(self):
        raise self.kind(self.message, *self.fields)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # no affinity on this system
        return max(os.cpu_count() or 1, 1)


def check_workers(workers: int) -> int:
    """``workers`` as a process count (0: one per usable core), or an InputError naming the fix."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= MAX_WORKERS:
        raise InputError(f"workers {workers!r}: give a whole number of processes from 1 to {MAX_WORKERS} "
                         "(1: serial; 0: one per core)", "workers")
    return workers or min(usable_cores(), MAX_WORKERS)


def _failed(plan: Plan, order: int, cable: Cable, exc: InstrumentError, faults: list, events: list[str],
            replay: list) -> CableDone:
    """A cable an instrument fault stopped: recorded as failed, with the faults mended before it."""
    import numpy as np
    from accbench.bench.measure import failed_cable

    return CableDone(order, cable, np.zeros(0), np.zeros((0, 4, 4), complex), failed_cable(plan, cable, str(exc)),
                     {}, faults, events, replay, str(exc))


def _serial(plan: Plan, station: Station, instruments: Instruments, done: set[str], progress: Callable,
            cables: Iterable[tuple[int, Cable]] | None = None) -> Iterator[CableDone | CableSkipped]:
    """Each cable (of ``cables``, default the plan's) acquired and computed here, its progress sent as it happens."""
    from accbench.bench.measure import acquire, compute

    for order, cable in enumerate(plan.cables) if cables is None else cables:
        if cable.serial in done:
            yield CableSkipped(cable.serial)
            continue
        faults: list = []
        try:
            acquired = acquire(plan, cable, station, instruments, progress, faults)
            freq, s, result, arrays = compute(plan, cable, acquired, station.two_x_thru, progress)
        except InstrumentError as exc:
            yield _failed(plan, order, cable, exc, faults, station.drain_events(), [])
            continue
        yield CableDone(order, cable, freq, s, result, arrays, faults, station.drain_events())


# --- in a worker process
_WORKER: dict = {}


def _start_worker(replica: Callable[[], Station] | None) -> None:
    """Worker initialiser: one numerical thread, Ctrl-C left to the run, the station's copy opened (when the
    run gives one: a failure there is left for the first cable to report)."""
    from accbench.bench import workerenv

    workerenv.pin_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["replica"] = replica
    if replica is not None:
        try:
            _worker_station()
        except Exception:
            _WORKER.pop("station", None)


def _ready() -> bool:
    """A job that returns once a worker has started (its initialiser has run)."""
    return True


class _Starting:
    """The workers started from a thread of their own (the first ``submit`` waits for the process server to
    import accbench, seconds), so this process keeps working meanwhile; ``up()`` once every worker has run."""

    def __init__(self, pool: ProcessPoolExecutor, workers: int):
        self.futures: list[Future] = []

        def start() -> None:
            try:
                self.futures.extend(pool.submit(_ready) for _ in range(workers))
            except (RuntimeError, BrokenProcessPool):  # the run stopped (or its pool broke) meanwhile
                pass

        self.thread = threading.Thread(target=start, name="accbench-workers-start", daemon=True)
        self.thread.start()

    def up(self) -> bool:
        return not self.thread.is_alive() and all(f.done() for f in self.futures)


def _worker_station() -> tuple[Station, Instruments]:
    """This worker's own station (built from the recipe) with its instruments open, made on first use."""
    if "station" not in _WORKER:
        from accbench.bench.stations import Instruments

        station = _WORKER["replica"]()
        instruments = Instruments(station)
        instruments.open_all()
        station.drain_events()
        _WORKER["station"] = (station, instruments)
    return _WORKER["station"]


def _compute_job(plan: Plan, order: int, cable: Cable, acquired: Acquisition, two_x_thru,
                 station_events: list[str]) -> CableDone | _Raised:
    """Pipelined: the computing part of a cable the main process acquired."""
    from accbench.bench.measure import compute

    replay: list = []
    try:
        freq, s, result, arrays = compute(plan, cable, acquired, two_x_thru, replay.append)
    except InstrumentError as exc:  # as a serial run would treat it (computing drives no instrument)
        return _failed(plan, order, cable, exc, list(acquired.faults), station_events, replay)
    except AccbenchError as exc:
        return _Raised(type(exc), str(exc), exc.fields)
    return CableDone(order, cable, freq, s, result, arrays, list(acquired.faults), station_events, replay)


def _cable_job(plan: Plan, order: int, cable: Cable) -> CableDone | _Raised:
    """Replicated: a whole cable on this worker's own station."""
    from accbench.bench.measure import acquire, compute

    station, instruments = _worker_station()
    replay: list = []
    faults: list = []
    try:
        try:
            acquired = acquire(plan, cable, station, instruments, replay.append, faults)
            freq, s, result, arrays = compute(plan, cable, acquired, station.two_x_thru, replay.append)
        except InstrumentError as exc:
            return _failed(plan, order, cable, exc, faults, station.drain_events(), replay)
    except AccbenchError as exc:
        return _Raised(type(exc), str(exc), exc.fields)
    return CableDone(order, cable, freq, s, result, arrays, faults, station.drain_events(), replay)


# --- in the main process
def _context():
    """A process server's context: forkserver (workers forked from one server that imported accbench once),
    else spawn. Never plain fork: this process may hold threads (numba's, the instruments')."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))  # takes effect when the server starts
        return context
    return multiprocessing.get_context("spawn")


def _take(head: CableDone | CableSkipped | Future) -> CableDone | CableSkipped:
    """A queued cable as finished (waiting for its worker when it is still computing)."""
    if not isinstance(head, Future):
        return head
    try:
        done = head.result()
    except BrokenProcessPool as exc:
        raise WorkerError("a worker process of the parallel run died (out of memory, killed, or a script that "
                          "starts a parallel run without an `if __name__ == \"__main__\":` guard); fix that or "
                          "run with one worker, then resume the run", "workers") from exc
    if isinstance(done, _Raised):
        done.throw()
    return done


class _InstrumentLoop:
    """The instruments driven in a thread of this process, cable after cable, at most ``ahead`` cables ahead
    of the record; what it does arrives on ``inbox`` in order: progress events, acquired cables, cables an
    instrument fault stopped, skipped cables, then ("end", error or None)."""

    def __init__(self, plan: Plan, station: Station, instruments: Instruments, done: set[str], ahead: int):
        self.plan, self.station, self.instruments, self.done = plan, station, instruments, done
        self.inbox: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.room = threading.Semaphore(ahead)
        self.thread = threading.Thread(target=self._run, name="accbench-instruments", daemon=True)

    def _run(self) -> None:
        from accbench.bench.measure import AcquisitionStopped, acquire

        put = self.inbox.put
        error = None
        try:
            for order, cable in enumerate(self.plan.cables):
                if cable.serial in self.done:
                    put(("cable", CableSkipped(cable.serial)))
                    continue
                while not self.room.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return
                if self.stop.is_set():
                    return
                faults: list = []
                try:
                    acquired = acquire(self.plan, cable, self.station, self.instruments,
                                       lambda event: put(("event", event)), faults, self.stop)
                except InstrumentError as exc:
                    put(("cable", _failed(self.plan, order, cable, exc, faults, self.station.drain_events(), [])))
                else:
                    put(("acquired", order, cable, acquired, self.station.drain_events()))
        except AcquisitionStopped:
            pass
        except BaseException as exc:  # handed to the run's thread, which raises it
            error = exc
        finally:
            put(("end", error))

    def finish(self) -> None:
        """Stop after the current instrument step and wait for the thread."""
        self.stop.set()
        self.thread.join()


def _pipelined(plan: Plan, station: Station, instruments: Instruments, done: set[str], progress: Callable,
               pool: ProcessPoolExecutor, workers: int) -> Iterator[CableDone | CableSkipped]:
    """The instruments driven by a thread of this process, cable after cable; each acquired cable computed by a
    worker; the record written here meanwhile (so neither computing nor writing holds up the instruments)."""
    loop = _InstrumentLoop(plan, station, instruments, done, 2 * workers + 2)
    pending: deque[CableDone | CableSkipped | Future] = deque()

    def settled() -> bool:
        return bool(pending) and (not isinstance(pending[0], Future) or pending[0].done())

    def take() -> CableDone | CableSkipped:
        got = _take(pending.popleft())
        if isinstance(got, CableDone):
            loop.room.release()
        return got

    def receive(item: tuple) -> None:
        kind = item[0]
        if kind == "event":
            progress(item[1])
        elif kind == "cable":
            pending.append(item[1])
        elif kind == "acquired":
            _, order, cable, acquired, events = item
            future = pool.submit(_compute_job, plan, order, cable, acquired, station.two_x_thru, events)
            future.add_done_callback(lambda _: loop.inbox.put(("computed",)))
            pending.append(future)
        elif kind == "end" and item[1] is not None:
            raise item[1]

    loop.thread.start()
    _Starting(pool, workers)  # the workers start while the instruments work on the first cable
    ended = False
    try:
        try:
            while not ended:
                while settled():
                    yield take()
                item = loop.inbox.get()
                ended = item[0] == "end"
                receive(item)
        except KeyboardInterrupt:  # the cables acquired already are computed and recorded before the run stops
            loop.finish()
            while not ended:
                item = loop.inbox.get()
                ended = item[0] == "end"
                if item[0] != "event":
                    receive(item)
            while pending:
                yield take()
            raise
        while pending:
            yield take()
    finally:
        loop.finish()


def _replicated(plan: Plan, station: Station, instruments: Instruments, done: set[str], progress: Callable,
                pool: ProcessPoolExecutor, workers: int) -> Iterator[CableDone | CableSkipped]:
    """Whole cables on the workers' own stations, a few submitted ahead, taken back in plan order; while the
    workers start, this process measures the first cables itself (on its station, which measures alike)."""
    cables = list(enumerate(plan.cables))
    starting = _Starting(pool, workers)
    first = 0
    while first < len(cables) and not starting.up():
        order, cable = cables[first]
        yield from _serial(plan, station, instruments, done, progress, [(order, cable)])
        first += 1
    pending: deque[CableSkipped | Future] = deque()
    for order, cable in cables[first:]:
        if cable.serial in done:
            pending.append(CableSkipped(cable.serial))
            continue
        pending.append(pool.submit(_cable_job, plan, order, cable))
        while sum(isinstance(p, Future) for p in pending) > 2 * workers:
            yield _take(pending.popleft())
    while pending:
        yield _take(pending.popleft())


def cable_results(plan: Plan, station: Station, instruments: Instruments, done: set[str] = frozenset(),
                  workers: int = 1, progress: Callable = lambda event: None) -> Iterator[CableDone | CableSkipped]:
    """The plan's cables measured and judged on ``station`` in plan order; ``CableSkipped`` for those in ``done``.

    ``workers`` > 1: that many worker processes, pipelined behind this process's instruments, or
    each on its own copy of a simulated station when ``station.replica()`` gives one. Close the
    generator (``contextlib.closing``) when stopping early: that stops the workers.
    """
    workers = check_workers(workers)
    if workers == 1:
        yield from _serial(plan, station, instruments, done, progress)
        return
    replica = getattr(station, "replica", None)
    recipe = replica() if callable(replica) else None
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker, initargs=(recipe,))
    try:
        with _one_numerical_thread():
            if recipe is not None:
                yield from _replicated(plan, station, instruments, done, progress, pool, workers)
            else:
                yield from _pipelined(plan, station, instruments, done, progress, pool, workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _one_numerical_thread() -> Iterator[None]:
    """This process's numba and BLAS/OpenMP pools held at one thread while its workers have the cores (threads
    spinning here beside them cost a 2-core machine about a fifth of a 100-cable run); restored afterwards."""
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(before)
