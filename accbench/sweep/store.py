"""The result table on disk: one Parquet file, written batch by batch through part files, resumable.

Each finished batch is written at once as a part file in ``OUTPUT.parts/`` (to a temporary name,
then renamed), so a crash loses at most the batches in flight; at the end (and at the start of a
resumed run) the parts are merged into ``OUTPUT`` (again via a temporary file and a rename), and
only then removed. Every file carries the spec's text and the design's hash in its schema
metadata: results of another spec are refused, never mixed.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from accbench import __version__
from accbench.errors import InputError

META_SPEC = b"accbench.sweep.spec"
META_HASH = b"accbench.sweep.spec_hash"
META_KIND = b"accbench.sweep.kind"
META_POINTS = b"accbench.sweep.points"
META_SPEC_PATH = b"accbench.sweep.spec_path"
META_VERSION = b"accbench.version"


class ResultStore:
    """The Parquet output of one design (``spec_hash``) with its part files."""

    def __init__(self, output: str | Path, schema: pa.Schema, spec_hash: str, metadata: dict[bytes, bytes]):
        self.output = Path(output)
        self.parts = self.output.with_name(self.output.name + ".parts")
        self.spec_hash = spec_hash
        self.schema = schema.with_metadata({**metadata, META_HASH: spec_hash.encode(),
                                            META_VERSION: __version__.encode()})

    def open(self, force: bool = False) -> None:
        """Check what the output already holds: this design's results are kept (and merged), another's refused.

        ``force`` removes the results of another design (or a file that is not a sweep result) first.
        """
        if self.output.is_dir():
            raise InputError(f"output {self.output} is a folder: give a .parquet file name")
        foreign = [path for path in self._existing() if _hash_of(path) != self.spec_hash]
        if foreign and not force:
            raise InputError(f"output {self.output} holds the results of another sweep spec (or is not a sweep "
                             "result): give --force to replace them, or a new output")
        for path in foreign:
            path.unlink()
        if force and self.parts.is_dir() and not any(self.parts.iterdir()):
            self.parts.rmdir()
        self.consolidate()

    def _existing(self) -> list[Path]:
        """The output and its part files, as far as they exist."""
        found = [self.output] if self.output.is_file() else []
        return found + self._part_files()

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []

    def done(self, retry_failed: bool = False) -> set[int]:
        """Points already recorded (only those that succeeded with ``retry_failed``)."""
        if not self.output.is_file():
            return set()
        table = pq.read_table(self.output, columns=["point", "status"])
        points = table.column("point").to_numpy()
        if retry_failed:
            points = points[np.asarray(table.column("status").to_pylist()) == "ok"]
        return {int(p) for p in points}

    def write_part(self, rows: list[dict]) -> Path:
        """One batch's rows as a part file (complete on disk before it gets its name)."""
        self.parts.mkdir(exist_ok=True)
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"  # names sort in writing order
        tmp = self.parts / f".{name}.tmp"
        pq.write_table(pa.Table.from_pylist(rows, schema=self.schema), tmp)
        final = self.parts / name
        os.replace(tmp, final)
        return final

    def consolidate(self) -> int:
        """Merge the part files into the output (a point recorded twice keeps its latest row); the row count."""
        parts = self._part_files()
        if not parts:
            return pq.read_metadata(self.output).num_rows if self.output.is_file() else 0
        tables = [pq.read_table(path, schema=self.schema) for path in ([self.output] if self.output.is_file()
                                                                      else []) + parts]
        table = _latest_per_point(pa.concat_tables(tables)).replace_schema_metadata(self.schema.metadata)
        tmp = self.output.with_name(f".{self.output.name}.{uuid.uuid4().hex}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, self.output)
        for path in parts:
            path.unlink()
        for leftover in self.parts.glob(".part-*.tmp"):  # a part whose writer died before the rename
            leftover.unlink()
        if not any(self.parts.iterdir()):
            self.parts.rmdir()
        return table.num_rows


def _latest_per_point(table: pa.Table) -> pa.Table:
    """The table sorted by point, keeping the last row of each point (a re-evaluated point replaces its old row)."""
    points = table.column("point").to_numpy()
    order = np.lexsort((np.arange(points.size), points))
    sorted_points = points[order]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = sorted_points[:-1] != sorted_points[1:]
    return table.take(pa.array(order[last]))


def _hash_of(path: Path) -> str | None:
    """The design hash a result file was written for (None for a file that is not a sweep result)."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return None
    value = metadata.get(META_HASH)
    return None if value is None else value.decode()


def read_results(path: str | Path) -> tuple[pa.Table, str]:
    """A sweep result file's table and the spec text it was computed from."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__}); give a sweep's output") from exc
    metadata = table.schema.metadata or {}
    if META_HASH not in metadata:
        raise InputError(f"{path}: a Parquet file without a sweep spec; give the output of accbench sweep")
    return table, metadata.get(META_SPEC, b"").decode()
