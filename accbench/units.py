"""Parse numbers with SI suffixes (``106.25G``, ``26.5625GHz``, ``10M``) into SI floats."""

from __future__ import annotations

import re

from accbench.errors import InputError

_PREFIX = {
    "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15,
}
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*?)\s*$")


def parse_si(text: str | float | int, unit: str = "", what: str = "value") -> float:
    """Return ``text`` as a float in SI units; ``unit`` is the expected base unit.

    Accepts a bare number, a number with an SI prefix (``106.25G``) and optionally
    the unit itself (``106.25GBd``, ``26.5625 GHz``). The unit alone wins over a prefix,
    so ``3m`` with unit ``m`` is 3 metres, not 3 milli. Raises InputError otherwise.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    match = _NUMBER.match(str(text))
    if match is None:
        raise InputError(
            f"cannot read {what} {text!r}: give a number with an optional SI prefix, e.g. 106.25G"
        )
    number, rest = match.groups()
    units = {"", unit.lower()} | ({"bd", "baud"} if unit.lower() == "bd" else set())
    if rest.lower() in units:
        return float(number)
    if rest[:1] in _PREFIX and rest[1:].lower() in units:
        return float(number) * _PREFIX[rest[:1]]
    raise InputError(f"cannot read {what} {text!r}: {rest!r} is not an SI prefix"
                     + (f" or the unit {unit}" if unit else "") + " (e.g. 106.25G)")
