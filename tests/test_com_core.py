"""COM internals against independent truths: closed-form noise on an ideal channel, the direct
(dense, full-pulse) figures of merit, the exhaustive equaliser search, and ERL of known reflections."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import skrf as rf
from accbench.dsp.com import evaluate as ev
from accbench.dsp.com import floating, mmse, search
from accbench.dsp.com import pulses as pu
from accbench.dsp.com.channel import Path, SystemGrid, channel_port_map, differential, terminated_path
from accbench.dsp.com.compute import com_case
from accbench.dsp.com.devices import end_cases
from accbench.dsp.com.erl import erl
from accbench.dsp.com.params import load_clause
from accbench.dsp.touchstone import read_touchstone
from scipy.integrate import quad
from scipy.stats import norm

from tests.com_direct import fom_93a_direct, fom_178a_direct
from tests.conftest import TOUCHSTONE

CA = ("CA_19p75dB_thru.s4p", "CA_19p75dB_next1.s4p", "CA_19p75dB_fext1.s4p")


def _ideal(clause: str):
    """The clause with every impairment but receiver noise removed and a zero-ISI raised-cosine channel."""
    p = load_clause(clause)
    p = dataclasses.replace(p, t_r_s=1e-16, f_r=1e4, f_p2_hz=1e21, f_p1_hz=p.f_z_hz, a_dd_ui=0.0, sigma_rj_ui=0.0,
                            snr_tx_db=300.0, n_qb=0, mlsd=False, g_dc_db=np.array([0.0]), g_dc2_db=np.array([0.0]),
                            b_min=np.zeros_like(p.b_min))
    grid = SystemGrid(p.baud, p.samples_per_ui, p.f_step_hz)
    x = grid.freq_hz / p.baud
    # pulse = rect * channel = raised cosine (roll-off 1): one at its peak, zero at every other UI
    rc = np.where(x < 1, np.cos(np.pi * x / 2) ** 2 / np.sinc(np.minimum(x, 1 - 1e-9)), 0.0)
    delay = 64 * p.samples_per_ui * grid.dt_s
    path = Path("thru", "ideal", rc * np.exp(-2j * np.pi * grid.freq_hz * delay))
    return p, grid, path


@pytest.mark.parametrize("clause", ["802.3dj-cr", "802.3ck-cr"])
def test_ideal_channel_com_is_the_closed_form(clause):
    p, grid, path = _ideal(clause)
    setup = ev.prepare(p, grid, end_cases(p)[0], [path])
    case = com_case(setup, search.Grid.of(p, tx_ffe=False))
    sigma_n = np.sqrt(p.eta_0_v2_per_hz * grid.freq_hz[-1])  # eta_0 over 0 .. M fb / 2, Hr = CTLE = 1
    a_s = p.r_lm * p.a_v / (p.levels - 1)
    expected = 20 * np.log10(a_s / (sigma_n * norm.isf(p.der_0)))
    assert case.margin["sigma_n"] == pytest.approx(sigma_n, rel=1e-4)
    assert case.margin["a_s"] == pytest.approx(a_s, rel=1e-5)
    assert case.com_db == pytest.approx(expected, abs=0.01)


@pytest.fixture(scope="module")
def dj_setup():
    return _setup("802.3dj-cr")


@pytest.fixture(scope="module")
def ck_setup():
    return _setup("802.3ck-cr")


def _setup(clause: str):
    p = load_clause(clause)
    grid = SystemGrid(p.baud, p.samples_per_ui, p.f_step_hz)
    nets = [read_touchstone(TOUCHSTONE / name) for name in CA]
    pm = channel_port_map(nets[0])
    end = end_cases(p)[0]
    paths = [terminated_path(p, grid, differential(n, pm), n.f, end, kind, n.name)
             for n, kind in zip(nets, ("thru", "next", "fext"), strict=True)]
    return ev.prepare(p, grid, end, paths)


CANDIDATES_178A = [(-20, -4, {}), (-12, -2, {-1: -0.1}), (-16, -6, {-2: 0.04, -1: -0.2, 1: -0.1}), (-4, 0, {1: -0.2})]


@pytest.mark.parametrize("g_dc, g_dc2, taps", CANDIDATES_178A)
def test_fast_178a_fom_equals_the_direct_computation(dj_setup, g_dc, g_dc2, taps):
    fast = ev.fom_178a(dj_setup, g_dc, g_dc2, pu.tx_taps(taps))
    fom, offset = fom_178a_direct(dj_setup, g_dc, g_dc2, pu.tx_taps(taps))
    assert fast.fom_db == pytest.approx(fom, abs=1e-9)
    assert fast.offset == offset


@pytest.mark.parametrize("g_dc, g_dc2, taps", [(-13, -3, {-2: 0.04, -1: -0.2}), (-8, -1, {}),
                                               (-20, -6, {-3: -0.02, 1: -0.1})])
def test_fast_93a_fom_equals_the_direct_computation(ck_setup, g_dc, g_dc2, taps):
    fast = __import__("accbench.dsp.com.fom93a", fromlist=["fom_93a"]).fom_93a(ck_setup, g_dc, g_dc2, pu.tx_taps(taps))
    assert fast.fom_db == pytest.approx(fom_93a_direct(ck_setup, g_dc, g_dc2, pu.tx_taps(taps)), abs=1e-9)


def test_schur_placement_equals_dense_solves_on_random_problems():
    rng = np.random.default_rng(7)
    lim = mmse.FfeLimits.from_table({"pre_taps": 3, "fixed_taps": 8, "span": 30, "float_groups": 2,
                                     "float_taps": 3, "fixed_limit": 0.7, "float_limit": 0.05})
    for trial in range(20):
        h = rng.normal(0, 0.02, 60)
        h[20] = 1.0
        h[21] = 0.5 + 0.5 * rng.random()  # a strong first post-cursor: the DFE limit binds sometimes
        h[40 + trial % 10] = 0.1  # a reflection for the floating taps
        r_hh = np.array([h[: h.size - k] @ h[k:] for k in range(lim.span)])
        rn = np.zeros(lim.span)
        rn[0] = 10 ** rng.uniform(-3, -1)
        b_max = np.array([0.85])
        dense = mmse.solve(h, 20 - lim.pre, r_hh, rn, lim, np.zeros(1), b_max, 1.0, 1.0, 4)
        d = 20
        rows = (d + np.arange(2))[:, None] - np.arange(lim.span)[None, :]
        h_rows = np.where(rows >= 0, h[np.clip(rows, 0, None)], 0.0)
        mse, cols = floating.greedy_mse(h_rows, r_hh + rn, lim.pre, lim.fixed, lim.groups, lim.group_taps,
                                        np.zeros(1), b_max, lim.w_min, lim.w_max)
        assert list(cols) == dense.cols
        assert mse == pytest.approx(dense.mse, rel=1e-9)


def _reduced(p, g_dc, g_dc2, taps):
    return dataclasses.replace(p, g_dc_db=np.array(g_dc, float), g_dc2_db=np.array(g_dc2, float),
                               tx_taps={k: np.array(v, float) for k, v in taps.items()})


@pytest.mark.slow
def test_smart_search_finds_the_exhaustive_optimum_178a(dj_setup):
    p = _reduced(dj_setup.p, [-20, -17, -14, -11, -8], [-6, -4, -2, 0], {-2: [0, 0.04], -1: [-0.2, -0.1, 0],
                                                                        1: [-0.1, -0.05, 0]})
    setup = dataclasses.replace(dj_setup, p=p)
    sgrid = search.Grid.of(p)
    smart, full = com_case(setup, sgrid, "smart"), com_case(setup, sgrid, "exhaustive")
    assert full.evaluations == sgrid.size() == 360
    assert smart.eq == full.eq
    assert smart.fom_db == pytest.approx(full.fom_db, abs=1e-12)
    assert smart.evaluations < full.evaluations


def test_smart_search_finds_the_exhaustive_optimum_93a(ck_setup):
    p = _reduced(ck_setup.p, list(range(-20, 1, 2)), [-6, -4, -2, 0],
                 {-3: [0, 0.02], -2: [0, 0.04, 0.08], -1: [-0.3, -0.2, -0.1, 0], 1: [-0.1, -0.05, 0]})
    setup = dataclasses.replace(ck_setup, p=p)
    sgrid = search.Grid.of(p)
    smart, full = com_case(setup, sgrid, "smart"), com_case(setup, sgrid, "exhaustive")
    assert smart.eq == full.eq and smart.fom_db == full.fom_db
    assert smart.evaluations < full.evaluations / 3


# --- ERL (93A.5) of reflections known in closed form ---------------------------------------------------

F_HZ = np.arange(1, 6001) * 10e6


def _reflecting(gamma: float, delay_s: float = 4e-9) -> rf.Network:
    """Two uncoupled lines (thru 1->2, 3->4) whose ends reflect gamma after ``delay_s``."""
    s = np.zeros((F_HZ.size, 4, 4), complex)
    refl = gamma * np.exp(-2j * np.pi * F_HZ * delay_s)
    thru = np.sqrt(1 - gamma**2) * np.exp(-2j * np.pi * F_HZ * 2e-9)
    for a, b in ((0, 1), (2, 3)):
        s[:, a, a] = s[:, b, b] = refl
        s[:, a, b] = s[:, b, a] = thru
    return rf.Network(frequency=rf.Frequency.from_f(F_HZ, unit="hz"), s=s, name="reflect")


def _shaped_pulse(p, t: float) -> float:
    """The 1-UI pulse through the ERL shaping (Gaussian edge, Butterworth, Tukey taper) at time t, from the
    continuous Fourier integral (independent of the FFT path under test)."""
    fb, tr, f1 = p.baud, p.erl["t_r_ns"] * 1e-9, p.f_r * p.baud

    def integrand(f: float) -> float:
        if f == 0:
            return 1 / fb
        y = f / f1
        hr = 1 / (1 - 3.414214 * y**2 + y**4 + 1j * 2.613126 * (y - y**3))
        taper = 1.0 if f < f1 else 0.5 * np.cos(2 * np.pi * (f - fb) / (2 * (fb - f1)) - np.pi) + 0.5
        h = np.exp(-2 * (np.pi * f * tr / 1.6832) ** 2) * hr * taper
        return (h * np.exp(2j * np.pi * f * t) * (1 - np.exp(-2j * np.pi * f / fb)) / (2j * np.pi * f)).real

    return 2 * quad(integrand, 0, fb, limit=400)[0]


def _quantile(v: np.ndarray, der: float) -> float:
    """-(DER quantile) of sum v_n A_n, A_n equiprobable PAM4 levels, by enumeration."""
    vals, probs = np.zeros(1), np.ones(1)
    for x in v:
        vals = (vals[:, None] + x * np.array([-1, -1 / 3, 1 / 3, 1])[None, :]).ravel()
        probs = np.repeat(probs / 4, 4)
        order = np.argsort(vals)
        vals, probs = vals[order], probs[order]
    return float(-vals[int(np.argmax(np.cumsum(probs) >= der))])


def test_erl_of_a_matched_line_is_infinite():
    net = _reflecting(0.0)
    assert erl(net, channel_port_map(net), load_clause("802.3ck-cr"))["erl_db"] == np.inf


@pytest.mark.parametrize("gamma", [0.05, 0.2])
def test_erl_of_a_known_reflection(gamma):
    p = load_clause("802.3ck-cr")
    m = p.samples_per_ui
    t = np.arange(-3 * m, 4 * m) / (p.baud * m)
    pulse = np.array([_shaped_pulse(p, x) for x in t])
    phases = [pulse[k::m] for k in range(m)]
    best = gamma * phases[int(np.argmax([np.linalg.norm(v) for v in phases]))]
    expected = -20 * np.log10(_quantile(best[np.abs(best) > 1e-4], p.der_0))
    net = _reflecting(gamma)
    got = erl(net, channel_port_map(net), p)
    assert got["erl11_db"] == pytest.approx(expected, abs=0.02)
    assert got["erl22_db"] == pytest.approx(expected, abs=0.02)


def test_differential_two_port_is_scikit_rfs_dd_block():
    from accbench.dsp.portmap import to_se2gmm_order

    for name in ("CA_19p75dB_thru.s4p", "P1TX1_P2RX1.s4p"):
        net = read_touchstone(TOUCHSTONE / name)
        pm = channel_port_map(net)
        mixed = to_se2gmm_order(net, pm)
        mixed.se2gmm(p=2)
        np.testing.assert_allclose(differential(net, pm), mixed.s[:, :2, :2], rtol=0, atol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 101, 4096, 31149])
def test_same_convolver_is_scipys_fftconvolve_bit_for_bit(n):
    from accbench.dsp.com import mlsd
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(n)
    fixed = rng.random(n)
    conv = mlsd._SameConvolver(fixed)
    for _ in range(3):
        other = rng.random(n)
        assert conv(other).tobytes() == fftconvolve(fixed, other, mode="same").tobytes()


def test_quantization_memo_changes_no_fom(dj_setup):
    """The memo of quantization steps (per CTLE, TX taps and phase) returns what a fresh setup computes."""
    taps = pu.tx_taps({-1: -0.1, 1: -0.05})
    first = ev.fom_178a(dj_setup, -12.0, -2.0, taps)
    assert dj_setup.quant_memo
    again = ev.fom_178a(dj_setup, -12.0, -2.0, taps)
    fresh = ev.fom_178a(dataclasses.replace(dj_setup, quant_memo={}), -12.0, -2.0, taps)
    for other in (again, fresh):
        assert (other.fom_db, other.ts, other.quant_step) == (first.fom_db, first.ts, first.quant_step)
        assert other.rx_ffe.tobytes() == first.rx_ffe.tobytes()


def test_gaussian_quantile_matches_the_convolved_cdf():
    """``noise.gaussian_quantile`` finds the crossing of the convolved PMF's CDF without convolving."""
    from accbench.dsp.com import noise as nz

    rng = np.random.default_rng(5)
    for n in (101, 2001):
        pmf = np.zeros(n)
        pmf[n // 3: 2 * n // 3] = rng.random(2 * n // 3 - n // 3)
        kernel = np.exp(-((np.arange(n) - n // 2) ** 2) / (2 * (n / 40) ** 2))
        cdf = np.cumsum(np.clip(nz.convolve_same(pmf, kernel), 0, None))
        for share in (1e-6, 1e-3, 0.3):
            assert nz.gaussian_quantile(pmf, np.cumsum(kernel), share) == int(np.argmax(cdf / cdf[-1] >= share))


def test_mlsd_event_cdfs_from_spectra_match_the_convolutions():
    """The MLSD's event CDFs read from spectra equal those of the explicit convolutions (beyond one grid block)."""
    from accbench.dsp.com import mlsd
    from scipy.signal import fftconvolve

    p = mlsd.gaussian(301, 1.0, 400.0)
    first = mlsd._norm(fftconvolve(p, mlsd.scaled(p, 0.4)))
    step_pmf = mlsd.scaled(p, 0.6)
    events, explicit = mlsd._EventSpectra(first, step_pmf), first
    for _ in range(mlsd.EVENT_BLOCK + 5):
        for y in (-150.0, -20.0, 0.0, 35.0):
            assert events.cdf_at(1.0, y) == pytest.approx(mlsd._cdf_at(explicit, 1.0, y), rel=1e-10, abs=1e-15)
        events.advance()
        explicit = mlsd._norm(fftconvolve(explicit, step_pmf))


def test_fom_ceiling_bounds_the_greedy_mse_and_is_exact_without_placement_or_limits():
    """``mse_floor`` (all FFE positions free, no limits, DFE within its limits) never exceeds the greedy MSE,
    and equals the MMSE when every position is a fixed tap and no FFE limit binds (the DFE limit may)."""
    rng = np.random.default_rng(11)
    lim = mmse.FfeLimits.from_table({"pre_taps": 3, "fixed_taps": 8, "span": 30, "float_groups": 2,
                                     "float_taps": 3, "fixed_limit": 0.7, "float_limit": 0.05})
    wide = np.full(lim.span, 1e9)
    clipped = 0
    for trial in range(30):
        h = rng.normal(0, 0.02, 60)
        h[20] = 1.0
        h[21] = 0.3 + 0.9 * rng.random()  # the DFE limit (0.85) binds in some trials
        h[40 + trial % 10] = 0.1
        r_row = np.array([h[: h.size - k] @ h[k:] for k in range(lim.span)])
        r_row[0] += 10 ** rng.uniform(-3, -1)
        rows = (20 + lim.pre + np.arange(2))[:, None] - np.arange(lim.span)[None, :]  # the cursor tap on h[20]
        h_rows = np.where(rows >= 0, h[np.clip(rows, 0, None)], 0.0)
        b_min, b_max = np.zeros(1), np.array([0.85])
        floor = floating.mse_floor(h_rows, r_row, b_min, b_max)
        greedy, _ = floating.greedy_mse(h_rows, r_row, lim.pre, lim.fixed, lim.groups, lim.group_taps, b_min, b_max,
                                        lim.w_min, lim.w_max)
        assert floor <= greedy * (1 + 1e-12)
        # every position fixed and unlimited: the greedy solve is the MMSE itself (the dense, clipped solve)
        full = floating.clipped_mse(h_rows, np.array([[r_row[abs(i - j)] for j in range(lim.span)]
                                                      for i in range(lim.span)]), np.arange(lim.span), lim.pre,
                                    b_min, b_max, -wide, wide)
        assert floor == pytest.approx(full, rel=1e-9)
        clipped += h[21] > 0.85
    assert 0 < clipped < 30


def test_search_threads_change_no_result(dj_setup, monkeypatch):
    """Pure scores computed on the search threads give the same cache, in the same order, as one by one."""
    p = _reduced(dj_setup.p, [-20, -14, -8], [-6, -2], {-1: [-0.2, -0.1, 0], 1: [-0.1, 0]})
    setup = dataclasses.replace(dj_setup, p=p)
    sgrid = search.Grid.of(p)
    monkeypatch.setattr(search, "threads", lambda: 2)
    threaded = com_case(setup, sgrid, "smart")
    monkeypatch.setattr(search, "threads", lambda: 1)
    serial = com_case(dataclasses.replace(setup, quant_memo={}), sgrid, "smart")
    assert threaded.eq == serial.eq and threaded.fom_db == serial.fom_db and threaded.com_db == serial.com_db
    assert threaded.evaluations == serial.evaluations


@pytest.mark.parametrize("halves", [[], [0, 0], [3], [1, 4, 0, 2, 7], [5] * 12])
def test_quantization_noise_pmf_is_the_chained_convolution_of_its_boxes(halves):
    """``margin._boxes``: one FFT product equals convolving each tap's uniform error box in turn (numpy)."""
    from accbench.dsp.com.margin import _boxes

    npts = 201
    expected = np.zeros(npts)
    expected[npts // 2] = 1.0
    for h in halves:
        expected = np.convolve(expected, np.full(2 * h + 1, 1.0 / (2 * h + 1)), mode="same")
    np.testing.assert_allclose(_boxes(list(halves), npts), expected, rtol=0, atol=1e-15)
    assert _boxes(list(halves), npts).sum() == pytest.approx(1.0, abs=1e-14)
