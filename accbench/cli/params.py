"""click parameter types that check what a number or a path means before any work starts.

Every numeric option reads SI notation (``106.25G``, ``1e8``, ``10M``), refuses NaN, infinities and
values outside the option's physical range, and every output path is refused when its folder does
not exist, so bad arguments are answered by click in one line (exit 2) instead of deep in a run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from accbench.errors import InputError
from accbench.units import parse_si


class Quantity(click.ParamType):
    """A finite number in SI notation within ``[low, high]`` (bounds optional, ``open_low`` excludes ``low``)."""

    name = "number"

    def __init__(self, unit: str = "", low: float | None = None, high: float | None = None, *,
                 open_low: bool = False, integer: bool = False) -> None:
        self.unit, self.low, self.high, self.open_low, self.integer = unit, low, high, open_low, integer
        self.name = "integer" if integer else "number"

    def range_text(self) -> str:
        """The allowed range in words, for the error line: ``0..0.5``, ``> 0 and <= 0.5``, ``>= 1``."""
        unit = f" {self.unit}" if self.unit else ""
        low = f"{'>' if self.open_low else '>='} {self.low:g}" if self.low is not None else ""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}..{self.high:g}{unit}" if not self.open_low else f"{low} and <= {self.high:g}{unit}"
        if self.low is not None:
            return f"{low}{unit}"
        if self.high is not None:
            return f"<= {self.high:g}{unit}"
        return "a finite value"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | int:
        if isinstance(value, bool):
            self.fail(f"{value!r} is not a number", param, ctx)
        try:
            number = parse_si(value, self.unit, "value")
        except InputError as exc:
            self.fail(f"{value!r} is not a number (give e.g. 3, 2.5e-3 or 106.25G)" if "cannot read" in str(exc)
                      else str(exc).removeprefix("cannot read value "), param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        too_low = self.low is not None and (number <= self.low if self.open_low else number < self.low)
        if too_low or (self.high is not None and number > self.high):
            self.fail(f"{value!r} is out of range; use {self.range_text()}", param, ctx)
        if self.integer:
            if number != int(number):
                self.fail(f"{value!r} is not a whole number", param, ctx)
            return int(number)
        return number


def quantity(unit: str = "", low: float | None = None, high: float | None = None, *, open_low: bool = False,
             integer: bool = False) -> Quantity:
    """Shorthand for ``Quantity``: ``quantity("Hz", 0, open_low=True)`` is a frequency > 0."""
    return Quantity(unit, low, high, open_low=open_low, integer=integer)


def count(low: int = 0, high: int | None = None) -> Quantity:
    """A whole number in SI notation (``1e6``, ``10k``) within ``[low, high]``."""
    return Quantity("", low, high, integer=True)


def _parent_exists(kind: click.ParamType, path: Path, param: click.Parameter | None,
                   ctx: click.Context | None) -> None:
    """Refuse an output whose parent folder is missing (writing would fail only after the work is done)."""
    if not path.parent.is_dir():
        kind.fail(f"folder {str(path.parent)!r} does not exist; create it first or write elsewhere", param, ctx)


class OutputFile(click.Path):
    """A file to write: refused at once when its folder is missing or it names a folder."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=str)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        path = Path(super().convert(value, param, ctx))
        if not str(value).strip():
            self.fail("is empty; give a file name", param, ctx)
        if path.is_dir():
            self.fail(f"{value!r} is a folder; give a file name inside it", param, ctx)
        _parent_exists(self, path, param, ctx)
        return str(path)


class OutputFolder(click.Path):
    """A folder to write into (created if missing): refused when its parent is missing or it is a file."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=str)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        path = Path(super().convert(value, param, ctx))
        if not str(value).strip():
            self.fail("is empty; give a folder name", param, ctx)
        if path.exists() and not path.is_dir():
            self.fail(f"{value!r} is a file, not a folder", param, ctx)
        _parent_exists(self, path, param, ctx)
        return str(path)


class InputFile(click.Path):
    """A file to read: it must exist and be a file (click says so in one line)."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=str)
