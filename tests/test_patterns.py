"""PAM4 patterns against the textbook LFSR recurrences, Gray coding, and jump-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.dsp.patterns import (
    PRBS_SEED_STATE,
    PRBS_TAPS,
    chunk_states,
    get_pattern,
    jump_matrix,
    lfsr_symbols,
    pattern_symbols,
)

from accbench.errors import InputError


def reference_bits(order: int, n_bits: int) -> list[int]:
    """y[i] = XOR of y[i - t] over the taps, started from all ones (plain Python)."""
    y = [1] * order  # y[-order..-1]
    for _ in range(n_bits):
        bit = 0
        for t in PRBS_TAPS[order]:
            bit ^= y[-t]
        y.append(bit)
    return y[order:]


@pytest.mark.parametrize("order", [7, 9, 13, 15, 31])
def test_lfsr_matches_recurrence_and_gray_map(order):
    bits = reference_bits(order, 400)
    symbols = pattern_symbols(get_pattern(f"PRBS{order}"), 200)
    gray_to_symbol = {0b00: 0, 0b01: 1, 0b11: 2, 0b10: 3}
    expected = [gray_to_symbol[(bits[2 * i] << 1) | bits[2 * i + 1]] for i in range(200)]
    assert symbols.tolist() == expected


@pytest.mark.parametrize("order", [7, 9, 13, 15, 23])
def test_prbs_is_maximal_length(order):
    period = 2**order - 1  # odd: the symbol stream repeats after `period` symbols
    s = pattern_symbols(get_pattern(f"PRBS{order}"), 2 * period)
    assert np.array_equal(s[:period], s[period:])
    assert not any(np.array_equal(s[:64], s[k:k + 64]) for k in range(1, min(period, 5000)))


def test_q_patterns_are_gray_coded_prbs():
    assert np.array_equal(pattern_symbols(get_pattern("PRBS13Q"), 999), pattern_symbols(get_pattern("PRBS13"), 999))


def test_jump_ahead_equals_sequential_stream():
    order, p = 31, get_pattern("PRBS31")
    chunk = 1000
    seq = np.empty(5 * chunk, dtype=np.int8)
    lfsr_symbols(np.int64(PRBS_SEED_STATE), np.int64(p.taps_mask), np.int64(order), seq)
    cols = np.array(jump_matrix(order, p.taps_mask, 2 * chunk), dtype=np.int64)
    states = chunk_states(cols, np.int64(PRBS_SEED_STATE), 5)
    for c in range(5):
        part = np.empty(chunk, dtype=np.int8)
        lfsr_symbols(states[c], np.int64(p.taps_mask), np.int64(order), part)
        assert np.array_equal(part, seq[c * chunk:(c + 1) * chunk])


def test_ssprq_needs_a_file(tmp_path):
    with pytest.raises(InputError, match="give it as a pattern file"):
        get_pattern("SSPRQ")
    path = tmp_path / "ssprq.txt"
    path.write_text("\n".join(str(v) for v in [-1, -1 / 3, 1 / 3, 1, 1, -1]))
    assert get_pattern("SSPRQ", path).table.tolist() == [0, 1, 2, 3, 3, 0]
    path.write_text("0.5\n0.2\n")
    with pytest.raises(InputError):
        get_pattern("SSPRQ", path)
    with pytest.raises(InputError, match="unknown pattern"):
        get_pattern("PRBS8")
