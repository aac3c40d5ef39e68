"""Memoisation of COM's channel-independent set-up (device, package and host models, system filters).

The ends and filters depend only on the clause's parameters and a frequency grid, yet building them
costs as much as a channel's own work; ``functools.lru_cache`` keeps them when the arguments are
wrapped in ``Keyed`` values whose key is the exact content (parameters by value, arrays by bytes), so
a parameter table changed by ``dataclasses.replace`` or another grid is never served a stale model.
Cached arrays are returned read-only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

CACHE_SIZE = 16  # per function: clauses x end cases x frequency grids in use at once


def canonical(value: Any) -> Any:
    """A hashable, exact image of ``value`` (arrays by dtype, shape and bytes; containers recursively)."""
    if isinstance(value, np.ndarray):
        return ("nd", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canonical(v) for v in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple(canonical(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, float | int | str | bool | complex | np.generic) or value is None:
        return value
    raise TypeError(f"cannot key a cache by a {type(value).__name__}")


class Keyed:
    """A value carried through ``lru_cache`` under a hashable key of its content."""

    __slots__ = ("_hash", "key", "value")

    def __init__(self, value: Any, key: Any) -> None:
        self.value = value
        self.key = key
        self._hash = hash(key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keyed) and self._hash == other._hash and self.key == other.key


def keyed(value: Any, fields: tuple[str, ...] | None = None) -> Keyed:
    """``value`` keyed by its content, or by the named attributes ``fields`` of it (a parameter table)."""
    if fields is None:
        return Keyed(value, canonical(value))
    return Keyed(value, tuple(canonical(getattr(value, name)) for name in fields))


def frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays, made read-only so that a cached result cannot be changed by a caller."""
    for a in arrays:
        a.setflags(write=False)
    return arrays
