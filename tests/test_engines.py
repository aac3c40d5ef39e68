"""The two engines (numba time domain, statistical) against analytic PAM4 SER and each other."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from accbench.dsp.channel import TwinaxChannel
from accbench.dsp.link import simulate_link
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.patterns import get_pattern
from accbench.dsp.rng import normals
from accbench.dsp.statistical import stat_ber
from accbench.dsp.tdsim import oversampled_waveform, simulate_ber
from accbench.dsp.twinax import TwinaxSpec
from scipy.signal import oaconvolve
from scipy.special import erfc


def analytic_ser(sigma: float, d: float = 1 / 3) -> float:
    """Exact SER of equiprobable PAM4 in Gaussian noise: 1.5 Q(d/sigma) = 0.75 erfc(d/(sigma sqrt 2)).

    (Outer levels err on one side, inner levels on two: (1 + 2 + 2 + 1)/4 Q = 1.5 Q.)
    """
    return 0.75 * erfc(d / (sigma * np.sqrt(2)))


def test_ziggurat_normals():
    z = normals(2_000_000, 7)
    assert abs(z.mean()) < 3 / np.sqrt(z.size)
    assert z.std() == pytest.approx(1.0, abs=3e-3)
    assert (np.abs(z) > 3).mean() == pytest.approx(erfc(3 / np.sqrt(2)), rel=0.05)


@pytest.mark.parametrize("sigma", [0.1, 0.13])
def test_time_domain_matches_analytic_ser(sigma):
    counts = simulate_ber(np.array([1.0]), sigma=sigma, n_symbols=3_000_000, seed=11)
    expected = analytic_ser(sigma)
    tolerance = 4 * np.sqrt(expected / counts.symbols)  # 4 sigma of the binomial count
    assert counts.ser == pytest.approx(expected, abs=tolerance)
    assert counts.ber == pytest.approx(counts.ser / 2, rel=0.02)  # Gray: one bit per adjacent error


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.13])
def test_statistical_matches_analytic_ser(sigma):
    result = stat_ber(np.array([1.0]), 0, sigma)
    assert result.ser == pytest.approx(analytic_ser(sigma), rel=0.05)


def test_time_domain_is_deterministic_and_thread_independent():
    h = np.array([0.1, 1.0, 0.35, -0.1])
    ffe = np.array([-0.08, 1.0, -0.3])
    first = simulate_ber(h, ffe, sigma=0.06, n_symbols=300_000, seed=5)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = simulate_ber(h, ffe, sigma=0.06, n_symbols=300_000, seed=5)
    finally:
        numba.set_num_threads(threads)
    assert first == single
    assert simulate_ber(h, ffe, sigma=0.06, n_symbols=300_000, seed=6) != first


def test_prbs_pattern_and_random_agree():
    h = np.array([1.0, 0.3])
    prbs = simulate_ber(h, sigma=0.12, n_symbols=1_000_000, pattern=get_pattern("PRBS31Q"))
    rand = simulate_ber(h, sigma=0.12, n_symbols=1_000_000)
    stat = stat_ber(h, 0, 0.12)
    for counts in (prbs, rand):
        assert counts.ser == pytest.approx(stat.ser, rel=0.1)


def test_dfe_removes_the_first_postcursor_in_both_engines():
    h = np.array([1.0, 0.5, 0.1])
    plain = simulate_ber(h, sigma=0.07, n_symbols=1_000_000)
    dfe = simulate_ber(h, sigma=0.07, n_symbols=1_000_000, dfe_tap=0.5)
    assert dfe.ser < plain.ser / 10
    assert stat_ber(h, 0, 0.07).ser == pytest.approx(plain.ser, rel=0.1)
    # the statistical engine ignores DFE error propagation, which only adds errors
    ideal_dfe = stat_ber(h, 0, 0.07, dfe=True).ser
    assert ideal_dfe <= dfe.ser <= 2.5 * ideal_dfe


@pytest.mark.slow
def test_lossy_channel_engines_agree_within_factor_2():
    """Twinax at the length where BER is 1e-4..1e-3, with the optimised CTLE + FFE."""
    cfg = LinkConfig(a_dd_ui=0.0)  # DD jitter is a dual Dirac in stat but Gaussian in time mode
    channel = TwinaxChannel(TwinaxSpec(awg=26, length_m=5.15))
    stat = simulate_link(channel, cfg, mode="stat", with_eye_width=False)
    assert 1e-4 <= stat.ber <= 1e-3
    td = simulate_link(channel, cfg, mode="time", n_symbols=2_000_000, with_eye_width=False)
    assert td.errors > 300
    assert 0.5 <= td.ber / stat.ber <= 2.0


def test_oversampled_waveform_equals_oaconvolve():
    rng = np.random.default_rng(3)
    symbols = rng.integers(0, 4, 3000).astype(np.int8)
    pulse = rng.normal(size=32 * 40)
    ours = oversampled_waveform(symbols, pulse, 32)
    levels = np.array([-1, -1 / 3, 1 / 3, 1])[symbols]
    upsampled = np.zeros(symbols.size * 32)
    upsampled[::32] = levels
    reference = oaconvolve(upsampled, pulse)[: upsampled.size]
    np.testing.assert_allclose(ours, reference, atol=1e-4 * np.abs(reference).max())


def test_oversampled_engine_analytic_ideal_and_jitter():
    from accbench.dsp.tdsim import simulate_ber_oversampled
    from scipy.stats import norm

    spu = 32
    rect = np.zeros(spu * 8)
    rect[2 * spu: 3 * spu] = 1.0
    rect[2 * spu + 16] = 1.0 + 1e-9  # sample at the middle of the UI
    ideal = simulate_ber_oversampled(rect, spu, sigma=0.1, n_symbols=2_000_000)
    assert ideal.ser == pytest.approx(analytic_ser(0.1), rel=0.1)
    # a triangular pulse sampled 0.2 UI early or late: 0.8 a0 + 0.2 a1 + noise, thresholds 0, +-2/3
    tri = np.zeros(spu * 8)
    t = np.arange(-spu, spu + 1)
    tri[3 * spu + t] = 1 - np.abs(t) / spu
    sigma = 0.05
    counts = simulate_ber_oversampled(tri, spu, sigma=sigma, dd_ui=0.2, n_symbols=1_000_000)
    lv = [-1, -1 / 3, 1 / 3, 1]
    thresholds = [-2 / 3, 0.0, 2 / 3]
    expected = 0.0
    for s0 in range(4):
        lo = thresholds[s0 - 1] if s0 > 0 else -np.inf
        hi = thresholds[s0] if s0 < 3 else np.inf
        for s1 in range(4):
            v = 0.8 * lv[s0] + 0.2 * lv[s1]
            expected += (norm.cdf((lo - v) / sigma) + norm.sf((hi - v) / sigma)) / 16
    assert counts.ser == pytest.approx(expected, rel=0.05)


@pytest.mark.slow
def test_oversampled_time_domain_agrees_with_statistical():
    channel = TwinaxChannel(TwinaxSpec(awg=26, length_m=5.15))
    cfg = LinkConfig()
    stat = simulate_link(channel, cfg, mode="stat", with_eye_width=False)
    osr = simulate_link(channel, cfg, mode="time-os", n_symbols=1_500_000, with_eye_width=False)
    assert osr.errors > 200
    assert 0.5 <= osr.ber / stat.ber <= 2.0
