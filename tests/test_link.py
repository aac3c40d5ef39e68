"""Link building blocks (filters, pulse, FFE, channels) and the reach and power gates."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.dsp import read_touchstone
from accbench.dsp.channel import IdealChannel, MeasuredChannel, TwinaxChannel
from accbench.dsp.ffe import ffe_taps
from accbench.dsp.filters import bessel_thomson, butterworth4, ctle, pcb_trace
from accbench.dsp.link import LinkModel, simulate_link
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.power import PowerModel, cable_power, power_gate
from accbench.dsp.pulse import PRE_WINDOW_UI, pulse_from_response, pulse_grid, sample_cursors
from accbench.dsp.reach import find_reach
from accbench.dsp.twinax import TwinaxSpec, differential_loss_db, twinax_network

from accbench.errors import InputError

from .conftest import TOUCHSTONE


def db(x):
    return 20 * np.log10(np.abs(x))


def test_filters_3db_points_and_ctle_form():
    fb = 106.25e9
    assert db(bessel_thomson(np.array([0.75 * fb]), 0.75 * fb))[0] == pytest.approx(-3.01, abs=0.01)
    assert db(butterworth4(np.array([0.55 * fb]), 0.55 * fb))[0] == pytest.approx(-3.01, abs=0.01)
    # DC gain = gDC + gDC2; far above fp2 the response is fp1 fp2 / (fz f) (one zero, two poles)
    assert db(ctle(np.array([0.0]), fb, -12, -4))[0] == pytest.approx(-16.0)
    h = ctle(np.array([1e15]), fb, -12, 0)
    assert db(h)[0] == pytest.approx(20 * np.log10((fb / 2.5) * fb / ((fb / 2.5) * 1e15)), abs=0.01)
    assert db(pcb_trace(np.array([53.125e9]), 9.0, 53.125e9))[0] == pytest.approx(-9.0, abs=1e-3)


def test_pulse_of_ideal_and_delayed_channels():
    baud, spu, win = 53.125e9, 32, 128
    f = pulse_grid(baud, spu, win)
    pulse = pulse_from_response(np.ones(f.size), baud, spu, win)
    # a unit rectangle of one UI starting PRE_WINDOW_UI into the window (Gibbs ripple aside)
    centres = pulse[spu // 2::spu]
    assert centres[PRE_WINDOW_UI] == pytest.approx(1.0, abs=0.02)
    assert np.abs(np.delete(centres, PRE_WINDOW_UI)).max() < 0.02
    assert sample_cursors(pulse, spu).main == PRE_WINDOW_UI
    delay = 7.3 / baud
    delayed = pulse_from_response(np.exp(-2j * np.pi * f * delay), baud, spu, win, delay_s=delay)
    np.testing.assert_allclose(delayed, pulse, atol=1e-9)  # the bulk delay is removed exactly


def test_ffe_zero_forcing_and_limits():
    h = np.array([0.15, 1.0, 0.4, 0.1])
    taps = ffe_taps(h, 1, 1, 3, method="zf")
    g = np.convolve(h, taps)
    d = 1 + 1
    window = [k for k in range(d - 1, d + 4) if k != d]
    assert np.abs(g[window]).max() < 1e-9 and taps[1] == 1.0
    mmse = ffe_taps(h, 1, 1, 3, noise_var=1e-10)
    np.testing.assert_allclose(np.convolve(h, mmse)[window] / np.convolve(h, mmse)[d], 0, atol=0.02)
    limited = ffe_taps(h, 1, 1, 3, noise_var=1e-3, tap_limit=0.2)
    assert np.abs(np.delete(limited, 1)).max() <= 0.2 + 1e-9


def test_measured_channel_scales_with_length():
    network = read_touchstone(TOUCHSTONE / "CA_19p75dB_thru.s4p")
    channel = MeasuredChannel.from_network(network, length_m=2.0)
    f = np.array([1e9, 10e9, 26.5625e9])
    same = channel.sdd21(f, 2.0)
    mm = network.subnetwork([0, 2, 1, 3])
    mm.se2gmm(p=2)
    np.testing.assert_allclose(db(same), np.interp(f, mm.f, db(mm.s[:, 1, 0])), atol=0.01)
    np.testing.assert_allclose(db(channel.sdd21(f, 4.0)), 2 * db(same), atol=0.01)
    with pytest.raises(InputError, match="measured length"):
        MeasuredChannel.from_network(network).sdd21(f, 3.0)


def test_length_scaled_model_file_agrees_with_the_model():
    spec = TwinaxSpec(awg=26, length_m=3.0)
    channel = MeasuredChannel.from_network(twinax_network(spec), length_m=3.0)
    direct = differential_loss_db(twinax_network(spec.with_length(6.0)), 53.125e9)
    scaled = -db(channel.sdd21(np.array([53.125e9]), 6.0))[0]
    assert scaled == pytest.approx(direct, abs=0.2)
    assert -db(TwinaxChannel(spec).sdd21(np.array([53.125e9]), 6.0))[0] == pytest.approx(direct, abs=1e-6)


@pytest.mark.slow
def test_reach_gate_and_carbon_cost():
    cfg = LinkConfig()
    clean = find_reach(TwinaxChannel(TwinaxSpec(awg=26, roughness_rq_m=0.1e-6)), cfg)
    dirty = find_reach(TwinaxChannel(TwinaxSpec(awg=26, roughness_rq_m=0.1e-6, carbon_mg_m2=100)), cfg)
    assert clean.passed and clean.reach_m > 4.0
    assert dirty.reach_m < clean.reach_m - 0.5
    assert 3.0 <= clean.power_w <= 5.0 and clean.power_pass
    # the reach is where the BER crosses the target
    model = TwinaxChannel(TwinaxSpec(awg=26, roughness_rq_m=0.1e-6))
    inside = simulate_link(model, cfg, clean.reach_m - 0.05, with_eye_width=False)
    outside = simulate_link(model, cfg, clean.reach_m + 0.05, with_eye_width=False)
    assert inside.ber <= cfg.target_ber < outside.ber
    # the bracket: its ends pass and fail as claimed, within the resolution; the estimate is its midpoint
    assert 0 < clean.reach_upper_m - clean.reach_m <= 0.01 + 1e-9
    assert simulate_link(model, cfg, clean.reach_m, with_eye_width=False).ber <= cfg.target_ber
    assert simulate_link(model, cfg, clean.reach_upper_m, with_eye_width=False).ber > cfg.target_ber
    assert clean.reach_estimate_m == pytest.approx(0.5 * (clean.reach_m + clean.reach_upper_m))
    thin = find_reach(TwinaxChannel(TwinaxSpec(awg=34)), cfg, required_m=3.0)
    assert not thin.passed and thin.margin_db < 3.0


@pytest.mark.slow
def test_reach_just_below_the_search_limit():
    """Stepping up x1.5 overshoots max_m: the bracket's top is max_m itself, and the reach found is
    where the BER crosses the target (the same as with a wider search limit)."""
    cfg = LinkConfig(baud=26.5625e9)
    channel = TwinaxChannel(TwinaxSpec(awg=22))
    near = find_reach(channel, cfg, max_m=20.0)
    assert 15.0 < near.reach_m < 20.0
    assert find_reach(channel, cfg, max_m=30.0).reach_m == pytest.approx(near.reach_m, abs=0.01)
    assert simulate_link(channel, cfg, near.reach_m, with_eye_width=False).ber <= cfg.target_ber
    assert simulate_link(channel, cfg, near.reach_m + 0.02, with_eye_width=False).ber > cfg.target_ber


@pytest.mark.parametrize(("baud", "length_m", "dfe", "noise_rms"),
                         [(106.25e9, 3.0, False, None), (53.125e9, 5.0, True, None), (106.25e9, 4.0, False, 0.05)])
def test_vectorised_ctle_search_scores_every_setting_like_the_scalar_path(baud, length_m, dfe, noise_rms):
    cfg = LinkConfig(baud=baud, dfe_tap=dfe)
    model = LinkModel(TwinaxChannel(TwinaxSpec(awg=26)), cfg, length_m)
    grid = [(g, g2) for g in cfg.ctle_gdc_db for g2 in cfg.ctle_gdc2_db]
    h = np.array([ctle(model.freq, baud, g, g2, cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio, cfg.ctle_fp2_ratio,
                       cfg.ctle_flf_ratio) for g, g2 in grid])
    pulses = pulse_from_response(model.pre * model.post * h, baud, cfg.samples_per_ui, cfg.window_ui, model.delay)
    fast = model._grid_snr(h, pulses, noise_rms, dfe)
    scalar = [model._setting(grid[i], h[i], pulses[i], noise_rms, dfe) for i in range(len(grid))]
    slow = np.array([-np.inf if s is None else 10 ** (s.snr_db / 10) for s in scalar])
    assert np.array_equal(np.isfinite(fast), np.isfinite(slow))
    np.testing.assert_allclose(fast[np.isfinite(slow)], slow[np.isfinite(slow)], rtol=1e-8)
    best = model.equalize(noise_rms=noise_rms)
    assert (best.gdc_db, best.gdc2_db) == grid[int(np.argmax(slow))]


def test_power_model_and_measured_gate():
    model = PowerModel()
    watts = cable_power(model, 106.25e9, 20.0)
    expected = 2 * (0.30 + 4 * (0.10 + 0.0025 * 106.25 + 0.004 * 20))
    assert watts == pytest.approx(expected)
    verdict = power_gate(model, 106.25e9, 20.0)
    assert verdict.pj_per_bit == pytest.approx(watts / (2 * 4 * 2 * 106.25e9) * 1e12)
    assert not power_gate(model, 106.25e9, measured_w=5.6).passed
    assert power_gate(model, 106.25e9, measured_w=3.2).source == "measured"


def test_link_config_validation():
    for bad in (dict(baud=300e9), dict(target_ber=0), dict(tx_ffe=(0.2, 0, 1, 0)), dict(ffe_method="x"),
                dict(ffe_pre=-1), dict(host_tx_loss_db=-3)):
        with pytest.raises(InputError):
            LinkConfig(**bad)


def test_ideal_link_has_no_isi():
    model = LinkModel(IdealChannel(), LinkConfig(), ideal=True)
    eq = model.equalize(noise_rms=0.1)
    assert eq.equalized.tolist() == [1.0] and eq.sigma == 0.1


def test_end_losses_stay_fixed_when_scaling():
    """A 2 m cable with 3 dB paddle cards per end, scaled to 4 m: cable loss doubles, ends do not."""
    import skrf as rf

    nyq = 26.5625e9
    spec = TwinaxSpec(awg=26, length_m=2.0)
    freq = rf.Frequency(0, 60, 6001, "GHz")
    ends = lambda f: pcb_trace(f, 3.0, nyq) ** 2  # noqa: E731
    s = np.zeros((freq.npoints, 2, 2), dtype=complex)
    s[:, 1, 0] = s[:, 0, 1] = ends(freq.f) * TwinaxChannel(spec).sdd21(freq.f)
    measured = MeasuredChannel.from_network(rf.Network(frequency=freq, s=s), length_m=2.0)
    scaled = measured.sdd21(np.array([nyq]), 4.0, end_db_at=ends)
    expected = -db(TwinaxChannel(spec).sdd21(np.array([nyq]), 4.0))[0] + 6.0
    assert -db(scaled)[0] == pytest.approx(expected, abs=0.05)


def test_reach_estimate_is_the_bracket_midpoint_and_falls_back_to_the_passing_end():
    """Older records have no failing end: the estimate is then the gate's passing end, never a guess."""
    from accbench.dsp.reachestimate import estimate_reach_m

    assert estimate_reach_m(3.0, 3.05) == pytest.approx(3.025)
    assert estimate_reach_m(3.0, None) == 3.0
    assert estimate_reach_m(3.0, float("nan")) == 3.0
    assert estimate_reach_m(20.0, 20.0) == 20.0  # the search limit itself passed


def _scalar_best_ctle(channel, cfg: LinkConfig, length_m: float) -> tuple[float, float]:
    """The CTLE of best slicer SNR, one setting at a time (its own pulse, FFE and noise: ``_setting``)."""
    model = LinkModel(channel, cfg, length_m)
    best = None
    for g in cfg.ctle_gdc_db:
        for g2 in cfg.ctle_gdc2_db:
            h = ctle(model.freq, cfg.baud, g, g2, cfg.ctle_fz_ratio, cfg.ctle_fp1_ratio, cfg.ctle_fp2_ratio,
                     cfg.ctle_flf_ratio)
            pulse = pulse_from_response(model.pre * model.post * h, cfg.baud, cfg.samples_per_ui, cfg.window_ui,
                                        model.delay)
            found = model._setting((g, g2), h, pulse, None, cfg.dfe_tap)
            if found is not None and (best is None or found.snr_db > best.snr_db):
                best = found
    return best.gdc_db, best.gdc2_db


REACH_CASES = [  # (channel, baud, cable length already evaluated by the caller)
    (TwinaxChannel(TwinaxSpec(awg=26, carbon_mg_m2=120)), 106.25e9, 4.0),
    (TwinaxChannel(TwinaxSpec(awg=28, carbon_mg_m2=30)), 53.125e9, 2.5),
    (TwinaxChannel(TwinaxSpec(awg=30, carbon_mg_m2=200)), 106.25e9, 2.6),  # fails the required 3 m: searched down
]


@pytest.mark.parametrize(("channel", "baud", "cable_m"), REACH_CASES)
def test_reach_bracket_ends_pass_and_fail_under_a_fresh_full_ctle_search(channel, baud, cable_m):
    """The search (interpolated steps, a caller's evaluation reused) ends on a bracket within its resolution
    whose ends pass and fail when simulated afresh, each with the CTLE a one-setting-at-a-time search picks."""
    from accbench.dsp.link import LinkFamily

    cfg = LinkConfig(baud=baud)
    family = LinkFamily(channel, cfg)
    family.evaluate(cable_m)
    found = find_reach(channel, cfg, 3.0, 5.0, resolution_m=0.05, family=family)
    assert 0 < found.reach_upper_m - found.reach_m <= 0.05 + 1e-9
    for length, passes in ((found.reach_m, True), (found.reach_upper_m, False)):
        fresh = simulate_link(channel, cfg, length, with_eye_width=False)
        assert (fresh.ber <= cfg.target_ber) is passes
        assert (fresh.ctle["gdc_db"], fresh.ctle["gdc2_db"]) == _scalar_best_ctle(channel, cfg, length)
    assert found.passed is (found.reach_m >= 3.0)
    alone = find_reach(channel, cfg, 3.0, 5.0, resolution_m=0.05)  # without the caller's point: the same crossing
    assert max(found.reach_m, alone.reach_m) < min(found.reach_upper_m, alone.reach_upper_m)


def test_eye_margin_is_zero_where_the_eye_closes_and_signed_like_the_eye():
    from accbench.dsp.reach import eye_margin_db

    assert eye_margin_db(0.0, 0.9) == 0.0
    assert eye_margin_db(0.1, 0.9) == pytest.approx(-20 * np.log10(1 - 0.1 / 0.6))
    assert eye_margin_db(-0.05, 0.9) < 0 < eye_margin_db(0.05, 0.9)
    assert np.isnan(eye_margin_db(float("nan"), 0.9)) and np.isnan(eye_margin_db(0.1, 0.0))
