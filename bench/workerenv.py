"""Imported first in a worker process of a parallel run: one thread per numerical library.

A run with N worker processes on N cores must not have each process start a pool of threads
per core (numba, OpenMP, OpenBLAS, MKL): they would fight over the same cores. The variables
are read when those libraries load, so this module sets them before anything imports numpy or
numba (``accbench.bench.parallel`` preloads it into its process server, and its worker
initialiser pins numba afterwards in case numba came first). Do not import it in a main process:
the variables would apply to it, and to every process it starts, too.
"""

from __future__ import annotations

import os
import sys

THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads() -> None:
    """One thread per library in this process (the variables where still possible, numba at run time)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    numba = sys.modules.get("numba")
    if numba is not None:  # loaded already (e.g. by the main module a spawned process re-imports)
        try:
            numba.set_num_threads(1)
        except (ValueError, RuntimeError):  # its thread count is pinned lower already, or it has no threading layer
            pass


pin_threads()
