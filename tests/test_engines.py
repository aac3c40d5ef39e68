"""The two engines (numba time domain, statistical) against analytic PAM4 SER and each other."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from accbench.dsp.channel import TwinaxChannel
from accbench.dsp.link import simulate_link
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.patterns import get_pattern
from accbench.dsp.rng import ZIG_X, next_u64, normals, normals32, seed_state
from accbench.dsp.statistical import stat_ber
from accbench.dsp.tdsim import TAP_GROUP, near_window, oversampled_waveform, simulate_ber
from accbench.dsp.twinax import TwinaxSpec
from scipy.signal import oaconvolve
from scipy.special import erfc
from scipy.stats import kstest, norm


def analytic_ser(sigma: float, d: float = 1 / 3) -> float:
    """Exact SER of equiprobable PAM4 in Gaussian noise: 1.5 Q(d/sigma) = 0.75 erfc(d/(sigma sqrt 2)).

    (Outer levels err on one side, inner levels on two: (1 + 2 + 2 + 1)/4 Q = 1.5 Q.)
    """
    return 0.75 * erfc(d / (sigma * np.sqrt(2)))


def test_generator_is_vignas_xorshift128_plus():
    """64-bit outputs equal the published xorshift128+ (Vigna 2017: shifts 23, 17, 26; output s1 + s0 of the
    new state), written here in plain Python integers from the same seeded state."""
    mask = (1 << 64) - 1
    state = seed_state(11, 3)
    s0, s1 = int(state[0]), int(state[1])
    for _ in range(1000):
        x, y = s0, s1
        s0 = y
        x = (x ^ (x << 23)) & mask
        s1 = x ^ y ^ (x >> 17) ^ (y >> 26)
        assert int(next_u64(state)) == (s1 + y) & mask


def test_ziggurat_normals():
    z = normals(2_000_000, 7)
    assert abs(z.mean()) < 3 / np.sqrt(z.size)
    assert z.std() == pytest.approx(1.0, abs=3e-3)
    assert (np.abs(z) > 3).mean() == pytest.approx(erfc(3 / np.sqrt(2)), rel=0.05)


def test_float32_ziggurat_is_standard_normal():
    """The engine's float32 ziggurat: moments, the CDF (KS), and the tail beyond the base layer r."""
    z = normals32(2_000_000, 7).astype(np.float64)
    assert abs(z.mean()) < 4 / np.sqrt(z.size)
    assert z.std() == pytest.approx(1.0, abs=3e-3)
    assert kstest(z[:500_000], norm.cdf).pvalue > 1e-3
    r = ZIG_X[1]  # draws beyond r come only from the exact tail sampler
    for x in (2.0, 3.0, r):
        expected = 2 * norm.sf(x) * z.size
        assert np.count_nonzero(np.abs(z) > x) == pytest.approx(expected, abs=5 * np.sqrt(expected))
    assert np.abs(z).max() > r


def isi_counts_expected(h: np.ndarray, sigma: float) -> tuple[float, float]:
    """Exact (SER, BER) of PAM4 through taps ``h`` (main cursor h[0]) in Gaussian noise, by enumeration.

    Every combination of the other taps' symbols is equally likely; each decision region's
    probability is a difference of normal CDFs, and a decision k levels from the sent one costs
    1, 2, 1 Gray bits for k = 1, 2, 3.
    """
    levels = np.array([-1, -1 / 3, 1 / 3, 1])
    thr = 2 * h[0] / 3
    edges = np.array([-np.inf, -thr, 0.0, thr, np.inf])
    others = np.array(np.meshgrid(*[levels] * (h.size - 1), indexing="ij")).reshape(h.size - 1, -1)
    isi = h[1:] @ others
    ser = ber_bits = 0.0
    for s in range(4):
        v = h[0] * levels[s] + isi
        for d in range(4):
            p = np.mean(norm.cdf((edges[d + 1] - v) / sigma) - norm.cdf((edges[d] - v) / sigma)) / 4
            k = abs(d - s)
            ser += p * (k != 0)
            ber_bits += p * (0, 1, 2, 1)[k]
    return ser, ber_bits / 2


@pytest.mark.parametrize(("h", "ffe", "sigma"), [
    (np.array([1.0, 0.25, -0.1]), None, 0.3),  # wide noise: 2- and 3-level decision errors too
    (np.array([0.1, 1.0, 0.35]), np.array([-0.1, 1.0]), 0.12),  # channel and FFE fused, precursor
])
def test_time_domain_matches_enumerated_isi_ser_and_ber(h, ffe, sigma):
    """Symbol and bit error rates through ISI against the exact enumeration, within 5 binomial sigma.

    An odd chunk (not a multiple of the 1024-symbol block nor of the 32 symbols of one random
    draw) exercises the partial blocks.
    """
    combined = h if ffe is None else np.convolve(h, ffe)
    cursor = int(np.argmax(combined))
    counts = simulate_ber(h, ffe, sigma=sigma, n_symbols=1_000_000, seed=3, chunk=5001)
    # enumerate with the main cursor first: y = main a0 + sum of the others
    ser, ber = isi_counts_expected(np.concatenate([[combined[cursor]], np.delete(combined, cursor)]), sigma)
    assert counts.ser == pytest.approx(ser, abs=5 * np.sqrt(ser / counts.symbols))
    assert counts.ber == pytest.approx(ber, abs=5 * np.sqrt(2 * ber / counts.symbols))


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


def test_near_window_bounds_the_far_taps():
    channel = np.exp(-np.arange(64) / 4.0)
    taps = np.convolve(channel / (channel.sum() / 1.5), [0.02, -0.1, 1.0, -0.2, 0.05, 0.01, 0.0, 0.0])
    cursor = int(np.argmax(taps))
    lo, hi, bound = near_window(taps, cursor)
    assert lo <= cursor < hi and (hi - lo) % TAP_GROUP == 0 and hi - lo < taps.size
    far = np.abs(np.concatenate([taps[:lo], taps[hi:]])).sum()
    assert far < bound <= far + 1e-4 and bound < (2 * taps[cursor] / 3) / 32
    assert near_window(np.array([0.1, 1.0, 0.3]), 1) == (0, 3, 0.0)  # nothing to save: every tap


@pytest.mark.parametrize(("h", "ffe", "sigma", "dfe"), [
    (np.exp(-np.arange(64) / 4.0) / 3.0, np.array([0.02, -0.1, 1.0, -0.2, 0.05]), 0.02, 0.0),  # eye closed
    (np.concatenate([[0.05, 0.2, 1.0], 0.15 * 0.7 ** np.arange(60)]), None, 0.06, 0.0),  # precursors, eye open
    (np.concatenate([[0.05, 0.2, 1.0], 0.4 * 0.7 ** np.arange(60)]), None, 0.08, 0.3),  # DFE: every tap always
])
def test_tail_bound_gives_the_counts_of_the_full_filter(h, ffe, sigma, dfe):
    """Skipping the far taps where they cannot flip a decision changes no count (the same streams; a
    decision may differ only for a sample within float32 rounding of a threshold)."""
    lo, hi, _ = near_window(np.convolve(h, [1.0] if ffe is None else ffe), int(np.argmax(np.convolve(
        h, [1.0] if ffe is None else ffe))))
    assert hi - lo < h.size  # the window is a real cut for these channels
    fast = simulate_ber(h, ffe, sigma=sigma, n_symbols=400_000, seed=9, dfe_tap=dfe)
    full = simulate_ber(h, ffe, sigma=sigma, n_symbols=400_000, seed=9, dfe_tap=dfe, tail_bound=False)
    assert fast.symbols == full.symbols and fast.symbol_errors > 100
    assert abs(fast.symbol_errors - full.symbol_errors) <= 2 and abs(fast.bit_errors - full.bit_errors) <= 3


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


@pytest.mark.parametrize(("n_symbols", "pulse_samples", "spu"), [(40, 130 * 32 + 5, 32), (2000, 9 * 16 + 3, 16),
                                                              (700, 5, 8)])
def test_oversampled_waveform_edge_cases_equal_direct_convolution(n_symbols, pulse_samples, spu):
    """Pulses that end mid-UI, spans that are not whole table groups, runs shorter than the pulse."""
    rng = np.random.default_rng(n_symbols)
    symbols = rng.integers(0, 4, n_symbols).astype(np.int8)
    pulse = rng.normal(size=pulse_samples)
    upsampled = np.zeros(n_symbols * spu)
    upsampled[::spu] = np.array([-1, -1 / 3, 1 / 3, 1])[symbols]
    reference = np.convolve(upsampled, pulse)[: upsampled.size]
    ours = oversampled_waveform(symbols, pulse, spu)
    np.testing.assert_allclose(ours, reference, atol=2e-5 * np.abs(pulse).sum())


def test_oversampled_engine_analytic_ideal_and_jitter():
    from accbench.dsp.tdsim import simulate_ber_oversampled

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
