"""Typed checks of the values in a run's TOML and CSV files, collecting every problem before anything runs.

TOML gives typed values, so a number must be a number (not ``true``, not ``"3"``), finite and in
range; a table must be a table and an array of tables an array. CSV gives text, which is parsed,
and its cells are never echoed back (a wrong file may hold secrets): problems name the line and column.
"""

from __future__ import annotations

import math
import re
from typing import Any

_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,31}$")


def shown(name: str) -> str:
    """``name`` quoted when it looks like a column or key name, else a placeholder (never a file's contents)."""
    return repr(name) if _SAFE_NAME.match(name) else "(a column that is not a lot-table name)"


class Problems:
    """Every problem found in one input, each a short phrase naming where it is and the fix."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def summary(self, limit: int = 8) -> str:
        """The problems joined on one line; past ``limit`` only their count (fix the first ones first)."""
        shown_items = self.items[:limit]
        more = len(self.items) - len(shown_items)
        return "; ".join(shown_items) + (f"; and {more} more problem(s)" if more > 0 else "")

    def number(self, where: str, value: Any, low: float | None = None, high: float | None = None, *,
               required: bool = True, open_low: bool = False, from_text: bool = False) -> float | None:
        """``value`` as a finite float in range, or None after noting why not (missing, text, NaN, range)."""
        if value is None:
            if required:
                self.add(f"{where} is missing")
            return None
        if isinstance(value, bool):
            self.add(f"{where} = {str(value).lower()} is not a number")
            return None
        if isinstance(value, str):
            if not from_text:
                self.add(f"{where} = {value!r} is text; write the number without quotes")
                return None
            try:
                value = float(value)
            except ValueError:
                self.add(f"{where} is not a number")
                return None
        if not isinstance(value, int | float):
            self.add(f"{where} must be a number, not a {_kind(value)}")
            return None
        number = float(value)
        if not math.isfinite(number):
            self.add(f"{where} = {number} is not a finite number")
            return None
        too_low = low is not None and (number <= low if open_low else number < low)
        if too_low or (high is not None and number > high):
            self.add(f"{where} = {number:g} is out of range {_range(low, high, open_low)}")
            return None
        return number

    def integer(self, where: str, value: Any, low: int, high: int) -> int | None:
        """``value`` as an int in ``[low, high]`` (a TOML integer, not a float or bool), or None."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{where} = {_show(value)} must be a whole number {low}..{high}")
            return None
        if not low <= value <= high:
            self.add(f"{where} = {value} is out of range {low}..{high}")
            return None
        return value

    def text(self, where: str, value: Any, *, required: bool = False) -> str | None:
        """``value`` as stripped text, or None (noting a missing required value or a non-text one)."""
        if value is None:
            if required:
                self.add(f"{where} is missing")
            return None
        if not isinstance(value, str):
            self.add(f"{where} = {_show(value)} must be text in quotes")
            return None
        return value

    def boolean(self, where: str, value: Any, default: bool) -> bool:
        """``value`` as true/false (default when absent)."""
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(f"{where} = {_show(value)} must be true or false")
            return default
        return value

    def table(self, where: str, value: Any, example: str) -> dict:
        """``value`` as a table ({} when absent); an array or a value is refused with the TOML to write."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(f"{where} must be a table: write {example}")
            return {}
        return value

    def tables(self, where: str, value: Any, example: str) -> list[dict]:
        """``value`` as an array of tables ([] when absent); a single table or values are refused."""
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add(f"{where} must be an array of tables: write {example} once per entry")
            return []
        return value

    def known(self, where: str, table: dict, keys: set[str]) -> None:
        """Note every key of ``table`` that is not in ``keys`` (a typo would otherwise be ignored)."""
        for key in sorted(set(table) - keys, key=str):
            self.add(f"{where}: unknown key {shown(str(key))} (use {', '.join(sorted(keys))})")


def _kind(value: Any) -> str:
    return {dict: "table", list: "list", str: "text"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A value as TOML would write it, short: lists and tables by kind only."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return f"(a {_kind(value)})"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _range(low: float | None, high: float | None, open_low: bool) -> str:
    if low is not None and high is not None:
        return f"{'above ' if open_low else ''}{low:g}..{high:g}"
    if low is not None:
        return f"{'>' if open_low else '>='} {low:g}"
    return f"<= {high:g}"
