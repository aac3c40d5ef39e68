"""How many threads COM may use: numba's thread count, so a worker process pinned to one core stays on one."""

from __future__ import annotations

MAX_THREADS = 8


def threads() -> int:
    """Threads for the search's pure scores and the set-up's multi-row FFTs (``NUMBA_NUM_THREADS`` caps it)."""
    import numba

    return max(1, min(numba.get_num_threads(), MAX_THREADS))
