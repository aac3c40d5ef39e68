"""Parse numbers with SI suffixes (``106.25G``, ``26.5625GHz``, ``10M``) into SI floats."""

from __future__ import annotations

import re

from accbench.errors import InputError

_PREFIX = {
    "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15,
}
_NUMBER = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKMGTmuµnpf]?)\s*([A-Za-z/]*)\s*$"
)


def parse_si(text: str | float | int, unit: str = "", what: str = "value") -> float:
    """Return ``text`` as a float in SI units; ``unit`` is the expected base unit.

    Accepts a bare number, a number with an SI prefix (``106.25G``) and optionally
    the unit itself (``106.25GBd``, ``26.5625 GHz``). Raises InputError otherwise.
    """
    if isinstance(text, int | float):
        return float(text)
    match = _NUMBER.match(str(text))
    if match is None:
        raise InputError(
            f"cannot read {what} {text!r}: give a number with an optional SI prefix, e.g. 106.25G"
        )
    number, prefix, suffix = match.groups()
    allowed = {"", unit.lower()} | ({"bd", "baud", "gbd"} if unit.lower() == "bd" else set())
    if suffix and suffix.lower() not in allowed:
        # "GBd" splits as prefix G + suffix Bd; "Hz" as suffix; anything else is an error.
        raise InputError(f"cannot read {what} {text!r}: unit {suffix!r} is not {unit or 'a plain number'}")
    return float(number) * _PREFIX[prefix]
