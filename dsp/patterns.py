"""PAM4 test patterns: PRBS7/9/13/15/23/31 (and their Gray-coded PAM4 forms PRBSnQ), SSPRQ from file.

Bits come from Fibonacci LFSRs y[i] = XOR of y[i - t] over the taps of the IEEE 802.3 / ITU-T
O.150 polynomials; two bits make one PAM4 symbol (first bit MSB), Gray-coded to the levels
-1, -1/3, 1/3, 1 (00 -> -1, 01 -> -1/3, 11 -> 1/3, 10 -> 1). PRBSnQ is that mapping of PRBSn.
A GF(2) jump-ahead gives the LFSR state at any bit offset, so parallel chunks of a long
PRBS31 run start exactly where the sequential stream would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from accbench.errors import InputError

LEVELS = np.array([-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0])
"""PAM4 levels indexed by symbol 0..3 (peak amplitude 1)."""
GRAY_BITS = np.array([0b00, 0b01, 0b11, 0b10], dtype=np.int64)
"""Bit pair carried by symbol 0..3 (Gray code)."""
BITS_TO_SYMBOL = np.array([0, 1, 3, 2], dtype=np.int64)
"""Symbol 0..3 carrying the bit pair 0..3."""

PRBS_TAPS: dict[int, tuple[int, ...]] = {
    7: (7, 6), 9: (9, 5), 13: (13, 12, 2, 1), 15: (15, 14), 23: (23, 18), 31: (31, 28),
}
PATTERNS = ("random", *(f"PRBS{n}" for n in PRBS_TAPS), *(f"PRBS{n}Q" for n in (13, 31)), "SSPRQ")


@dataclass(frozen=True)
class Pattern:
    """A symbol source: ``random`` (i.i.d. uniform), an LFSR, or a fixed table (SSPRQ)."""

    name: str
    order: int = 0  # LFSR length; 0 for random/table
    taps_mask: int = 0  # bit t-1 set for each tap t
    table: np.ndarray | None = None  # symbols 0..3 of one period


def get_pattern(name: str, pattern_file: str | Path | None = None) -> Pattern:
    """Look up a pattern by name (case-insensitive); SSPRQ needs ``pattern_file``."""
    key = name.strip().upper()
    if pattern_file is not None and key != "SSPRQ":
        raise InputError(f"a pattern file is the symbol table of SSPRQ, not of {name!r}: choose the pattern SSPRQ "
                         "or leave the pattern file out", "pattern_file", "pattern")
    if key == "RANDOM":
        return Pattern("random")
    if key == "SSPRQ":
        if pattern_file is None:
            raise InputError(
                "SSPRQ is a fixed 65535-symbol table of IEEE 802.3 (120.5.11.2.3) that accbench does "
                "not bundle; give it as a pattern file (one level or symbol 0..3 per line)", "pattern_file"
            )
        return Pattern("SSPRQ", table=load_symbol_table(pattern_file))
    base = key[:-1] if key.endswith("Q") else key
    if base.startswith("PRBS") and base[4:].isdigit() and int(base[4:]) in PRBS_TAPS:
        order = int(base[4:])
        mask = 0
        for tap in PRBS_TAPS[order]:
            mask |= 1 << (tap - 1)
        return Pattern(key, order, mask)
    raise InputError(f"unknown pattern {name!r}; use one of {', '.join(PATTERNS)}")


MAX_PATTERN_FILE_BYTES = 64 * 2**20  # PRBS31 is not tabulated; a table of PRBS23 symbols is 16 MB


def load_symbol_table(path: str | Path) -> np.ndarray:
    """Read a pattern file: one PAM4 symbol per line, as 0..3 or as a level in [-1, 1].

    Errors name the file and the line, never its contents (the path may point at any file).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"pattern file {p}: no such file", "pattern_file")
    if p.stat().st_size > MAX_PATTERN_FILE_BYTES:
        raise InputError(f"pattern file {p} is larger than {MAX_PATTERN_FILE_BYTES // 2**20} MiB: a symbol table "
                         "of one pattern period is far smaller; check the path", "pattern_file")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"pattern file {p} is not a text file of symbols: check the path", "pattern_file") from exc
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        try:
            values.extend(float(token) for token in body.split())
        except ValueError:
            raise InputError(f"pattern file {p} line {lineno} is not a list of symbols (0..3 or levels -1..1): "
                             "check the path and the file", "pattern_file") from None
    symbols_in = np.asarray(values, dtype=float)
    if symbols_in.size < 2:
        raise InputError(f"pattern file {p}: needs at least two symbols", "pattern_file")
    if np.all(np.isin(symbols_in, [0, 1, 2, 3])):
        return symbols_in.astype(np.int8)
    symbols = np.rint((symbols_in + 1.0) * 1.5)
    if (not np.all(np.isfinite(symbols_in)) or np.any(np.abs((symbols_in + 1.0) * 1.5 - symbols) > 1e-3)
            or symbols.min() < 0 or symbols.max() > 3):
        raise InputError(f"pattern file {p}: values must be symbols 0..3 or levels -1, -1/3, 1/3, 1", "pattern_file")
    return symbols.astype(np.int8)


@njit(cache=True, inline="always")
def lfsr_step(state: np.int64, taps_mask: np.int64, order: np.int64) -> tuple[np.int64, np.int64]:
    """One LFSR step: returns (new state, output bit). Bit j of state is y[i-1-j]."""
    fb = state & taps_mask
    bit = np.int64(0)
    while fb:
        bit ^= fb & 1
        fb >>= 1
    return ((state << 1) | bit) & ((np.int64(1) << order) - 1), bit


@njit(cache=True)
def lfsr_symbols(state: np.int64, taps_mask: np.int64, order: np.int64, out: np.ndarray) -> np.int64:
    """Fill ``out`` with PAM4 symbols (2 bits each, Gray-mapped); return the final state."""
    for i in range(out.size):
        state, b1 = lfsr_step(state, taps_mask, order)
        state, b0 = lfsr_step(state, taps_mask, order)
        v = (b1 << 1) | b0
        out[i] = 0 if v == 0 else (1 if v == 1 else (3 if v == 2 else 2))
    return state


def _step_matrix(order: int, taps_mask: int) -> list[int]:
    """Images of the unit states under one LFSR step (GF(2) linear map, column form)."""
    cols = []
    full = (1 << order) - 1
    for j in range(order):
        s = 1 << j
        bit = bin(s & taps_mask).count("1") & 1
        cols.append(((s << 1) | bit) & full)
    return cols


def _apply(cols: list[int], state: int) -> int:
    out, j = 0, 0
    while state:
        if state & 1:
            out ^= cols[j]
        state >>= 1
        j += 1
    return out


def _compose(a: list[int], b: list[int]) -> list[int]:
    """Map a after b."""
    return [_apply(a, c) for c in b]


def jump_matrix(order: int, taps_mask: int, steps: int) -> list[int]:
    """The LFSR map advanced by ``steps`` bits (square-and-multiply over GF(2))."""
    result = [1 << j for j in range(order)]
    base = _step_matrix(order, taps_mask)
    while steps:
        if steps & 1:
            result = _compose(base, result)
        base = _compose(base, base)
        steps >>= 1
    return result


@njit(cache=True)
def chunk_states(cols: np.ndarray, start: np.int64, count: int) -> np.ndarray:
    """States s_c = M^c start for c = 0..count-1, with M given by its columns."""
    out = np.empty(count, dtype=np.int64)
    s = start
    for c in range(count):
        out[c] = s
        t = np.int64(0)
        j = 0
        x = s
        while x:
            if x & 1:
                t ^= cols[j]
            x >>= 1
            j += 1
        s = t
    return out


PRBS_SEED_STATE = 0x7FFFFFFF
"""Initial LFSR state (all ones, masked to the order): any non-zero state is on the sequence."""


def pattern_symbols(pattern: Pattern, n: int, seed: int = 1) -> np.ndarray:
    """The first ``n`` symbols (0..3) of ``pattern`` (random: from ``seed``)."""
    if pattern.table is not None:
        return np.resize(pattern.table, n).astype(np.int8)
    if pattern.order == 0:
        from accbench.dsp.rng import seed_state

        rng = np.random.default_rng(np.array(seed_state(seed, 0)))
        return rng.integers(0, 4, n).astype(np.int8)
    out = np.empty(n, dtype=np.int8)
    lfsr_symbols(np.int64(PRBS_SEED_STATE & ((1 << pattern.order) - 1)), np.int64(pattern.taps_mask),
                 np.int64(pattern.order), out)
    return out
