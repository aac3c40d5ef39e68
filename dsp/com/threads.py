"""How many threads COM may use: numba's thread count, so a worker process pinned to one core stays on one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

MAX_THREADS = 8
_POOLS: dict[int, ThreadPoolExecutor] = {}


def threads() -> int:
    """Threads for the search's pure scores and the set-up's multi-row FFTs (``NUMBA_NUM_THREADS`` caps it)."""
    import numba

    return max(1, min(numba.get_num_threads(), MAX_THREADS))


def pool(count: int) -> ThreadPoolExecutor:
    """One pool per thread count, kept for the process (COM work is short; starting threads is not free)."""
    if count not in _POOLS:
        _POOLS[count] = ThreadPoolExecutor(count, thread_name_prefix="com")
    return _POOLS[count]
