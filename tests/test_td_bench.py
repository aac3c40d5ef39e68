"""The time-domain benchmark's baselines compute what the engines compute (benchmarks/td_bench.py)."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.dsp.tdsim import oversampled_waveform, simulate_ber

from benchmarks.td_bench import blas_waveform, numpy_link, toeplitz_fir

from .test_engines import isi_counts_expected


def test_toeplitz_filter_is_the_valid_convolution():
    rng = np.random.default_rng(1)
    taps = rng.normal(size=71)
    levels = rng.choice([-1.0, 1.0], 32 * 40 + 70).astype(np.float32)
    np.testing.assert_allclose(toeplitz_fir(taps)(levels), np.convolve(levels, taps, mode="valid"), atol=1e-4)


@pytest.mark.parametrize("fir", ["toeplitz", "convolve", "oaconvolve"])
def test_numpy_link_matches_the_enumeration_and_the_engine(fir):
    """Same statistics as the engine: SER and BER within 5 binomial sigma of the exact value, for both."""
    h, ffe, sigma = np.array([0.1, 1.0, 0.35, -0.05]), np.array([-0.1, 1.0]), 0.12
    taps = np.convolve(h, ffe)
    cursor = int(np.argmax(taps))
    ser, ber = isi_counts_expected(np.concatenate([[taps[cursor]], np.delete(taps, cursor)]), sigma)
    n = 1 << 19
    sym_err, bit_err = numpy_link(taps, cursor, sigma, n, fir)
    engine = simulate_ber(h, ffe, sigma=sigma, n_symbols=n)
    for got_ser, got_ber in ((sym_err / n, bit_err / (2 * n)), (engine.ser, engine.ber)):
        assert got_ser == pytest.approx(ser, abs=5 * np.sqrt(ser / n))
        assert got_ber == pytest.approx(ber, abs=5 * np.sqrt(2 * ber / n))


@pytest.mark.parametrize("threads", [1, 2])
def test_blas_waveform_equals_the_engine(threads):
    rng = np.random.default_rng(4)
    symbols = rng.integers(0, 4, 3000).astype(np.int8)
    pulse = rng.normal(size=20 * 32 - 7)
    blas = blas_waveform(symbols, pulse, 32, threads=threads, block=512)
    np.testing.assert_allclose(blas, oversampled_waveform(symbols, pulse, 32), atol=2e-5 * np.abs(pulse).sum())
