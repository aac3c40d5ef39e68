"""Named simulated benches: how the in-process pyvisa backend finds the bench it answers from.

A station registers its ``SimBench`` under a unique name and opens its instruments with the
backend ``<name>@accsim`` (as pyvisa-sim's ``path@sim`` names its file); the backend looks the
name up when a resource is opened. No module-level "current" bench: two stations in one process
answer from their own benches.
"""

from __future__ import annotations

import itertools
import threading

from accbench.sim.twin import SimBench

from accbench.errors import InputError

_benches: dict[str, SimBench] = {}
_lock = threading.Lock()
_numbers = itertools.count(1)


def register(bench: SimBench, name: str | None = None) -> str:
    """Make ``bench`` reachable as ``<name>@accsim``; the name (a fresh one unless given)."""
    with _lock:
        name = name or f"accsim-bench-{next(_numbers)}"
        if not name.replace("-", "").replace("_", "").isalnum():
            raise InputError(f"simulated bench name {name!r}: use letters, digits, '-' and '_'")
        if name in _benches and _benches[name] is not bench:
            raise InputError(f"a simulated bench named {name!r} is already open")
        _benches[name] = bench
    return name


def lookup(name: str) -> SimBench:
    """The bench registered as ``name``."""
    with _lock:
        bench = _benches.get(name)
    if bench is None:
        raise InputError(f"no simulated bench named {name!r} is open (open ones: {', '.join(_benches) or 'none'})")
    return bench


def unregister(name: str) -> None:
    """Forget ``name`` (its instruments' open sessions keep answering until closed)."""
    with _lock:
        _benches.pop(name, None)


def backend_for(name: str) -> str:
    """The pyvisa backend spec that opens instruments of the bench registered as ``name``."""
    return f"{name}@accsim"
