"""The points of a sweep: every combination of a grid, seeded draws of a random design, or files x clauses.

A point is a plain dict (spec name -> value) numbered by its position; the design's hash covers
everything that decides the points and what is computed of them, so results written by one spec
are never taken for another's (resume, ``store``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from accbench.sweep.params import PARAMETERS
from accbench.sweep.spec import Levels, SweepSpec, corpus_files, grid_values

FORMAT_VERSION = 1
"""Version of the result table's layout; part of the hash, so a new layout is never mixed with an old one."""


@dataclass(frozen=True)
class Job:
    """What a worker needs to evaluate points besides the points: picklable, importable on every worker."""

    kind: str  # "design" or "corpus"
    outputs: tuple[str, ...]
    folder: str | None = None
    com: dict | None = None  # ComOptions as a dict (tx_ffe, search, host_class, thru)


@dataclass(frozen=True)
class Design:
    """A spec's points in order, the job that evaluates them and the hash that identifies the design."""

    spec: SweepSpec
    points: tuple[dict[str, Any], ...]
    job: Job
    spec_hash: str

    @property
    def input_names(self) -> tuple[str, ...]:
        """The input columns, in the order the spec gives them."""
        if self.spec.is_corpus:
            return ("file", "clause")
        return tuple(lv.name for lv in self.spec.parameters)


def build_design(spec: SweepSpec) -> Design:
    """The points of ``spec`` and their hash (a corpus lists its folder now: size and time of every file count)."""
    fingerprint: dict[str, Any] = {"format": FORMAT_VERSION, "kind": spec.kind, "outputs": list(spec.outputs)}
    if spec.is_corpus:
        files = corpus_files(spec)
        names = [f.relative_to(spec.folder).as_posix() for f in files]
        points = [{"file": name, "clause": clause} for name in names for clause in spec.clauses]
        fingerprint["files"] = [[name, f.stat().st_size, f.stat().st_mtime_ns] for name, f in zip(names, files,
                                                                                                  strict=True)]
        fingerprint["com"] = asdict(spec.com)
        job = Job("corpus", spec.outputs, str(spec.folder), asdict(spec.com))
    else:
        points = grid_points(spec.parameters) if spec.kind == "grid" else random_points(spec.parameters, spec.n,
                                                                                        spec.seed)
        job = Job("design", spec.outputs)
    fingerprint["points"] = points
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"))
    return Design(spec, tuple(points), job, hashlib.sha256(text.encode()).hexdigest()[:16])


def _typed(name: str, value: Any) -> Any:
    """A level as its parameter's Python type (a TOML integer given for a number becomes a float)."""
    kind = PARAMETERS[name].kind
    if kind == "number":
        return float(value)
    if kind == "integer":
        return int(value)
    return bool(value) if kind == "bool" else str(value)


def grid_points(parameters: tuple[Levels, ...]) -> list[dict[str, Any]]:
    """Every combination of the levels; the first parameter varies slowest (``itertools.product`` order)."""
    names = [lv.name for lv in parameters]
    levels = [[_typed(lv.name, v) for v in grid_values(lv)] for lv in parameters]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*levels)]


def _draws(levels: Levels, n: int, seed: int) -> list[Any]:
    """``n`` draws of one parameter from its own stream (seeded by the spec's seed and the parameter's name).

    One stream per parameter: adding, removing or reordering other parameters does not change these draws.
    """
    if levels.values is not None and len(levels.values) == 1:
        return [levels.values[0]] * n
    rng = np.random.default_rng([seed, zlib.crc32(levels.name.encode())])
    if levels.values is not None:
        return [levels.values[i] for i in rng.integers(0, len(levels.values), n)]
    if PARAMETERS[levels.name].kind == "integer":
        return [int(v) for v in rng.integers(levels.low, levels.high + 1, n)]
    if levels.log:
        return [float(v) for v in np.exp(rng.uniform(np.log(levels.low), np.log(levels.high), n))]
    return [float(v) for v in rng.uniform(levels.low, levels.high, n)]


def random_points(parameters: tuple[Levels, ...], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` independent points: a list drawn uniformly from its levels, a range uniformly (or log-uniformly)."""
    columns = {lv.name: [_typed(lv.name, v) for v in _draws(lv, n, seed)] for lv in parameters}
    return [{name: values[i] for name, values in columns.items()} for i in range(n)]
