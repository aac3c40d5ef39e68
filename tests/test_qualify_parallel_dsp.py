"""The computations made cheaper for parallel throughput (issue 16) against independent ones: the mixed-mode
transform against scikit-rf, the CTLE grid's pulses against one setting at a time, the statistical BER's
trimmed sum against the whole grid's, analysis at several rates against one rate at a time."""

from __future__ import annotations

import numpy as np
import pytest
import skrf as rf
from accbench.dsp import AnalysisOptions, analyze, analyze_rates, read_touchstone
from accbench.dsp import link as link_module
from accbench.dsp.channel import MeasuredChannel, TwinaxChannel
from accbench.dsp.filters import ctle, ctle_terms, ctle_weights
from accbench.dsp.link import LinkFamily, LinkModel
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.mixedmode import gmm2se_network, se2gmm_s
from accbench.dsp.pulse import pulse_from_response
from accbench.dsp.statistical import ber_given_noise, interference_pdf
from accbench.dsp.twinax import TwinaxSpec
from scipy.special import ndtr

from .conftest import TOUCHSTONE


def _random_network(z0) -> rf.Network:
    rng = np.random.default_rng(7)
    s = 0.3 * (rng.normal(size=(40, 4, 4)) + 1j * rng.normal(size=(40, 4, 4)))
    return rf.Network(frequency=rf.Frequency.from_f(np.linspace(1e9, 40e9, 40), unit="Hz"), s=s, z0=z0)


@pytest.mark.parametrize("z0", [50.0, np.array([50.0, 50.0, 45.0, 55.0])], ids=["matched", "unequal"])
def test_mixed_mode_conversion_is_scikit_rf_s(z0):
    network = _random_network(z0)
    expected = network.copy()
    expected.se2gmm(p=2)
    np.testing.assert_allclose(se2gmm_s(network), expected.s, rtol=0, atol=1e-14)


def test_single_ended_from_mixed_mode_is_scikit_rf_s():
    s_mm = _random_network(50.0).s
    expected = rf.Network(frequency=rf.Frequency.from_f(np.linspace(1e9, 40e9, 40), unit="Hz"), s=s_mm,
                          z0=np.array([100.0, 100.0, 25.0, 25.0]))
    expected.gmm2se(p=2, z0_se=50.0)
    got = gmm2se_network(s_mm, expected.f)
    np.testing.assert_allclose(got.s, expected.s, rtol=0, atol=1e-14)
    assert np.all(got.z0 == 50.0)


def test_ctle_is_the_weighted_sum_of_its_four_terms():
    f = np.linspace(0, 120e9, 501)
    gdc, gdc2 = np.array([0.0, -7.0, -20.0]), np.array([0.0, -3.0, -6.0])
    combined = ctle_weights(gdc, gdc2) @ ctle_terms(f, 106.25e9)
    for k in range(3):
        np.testing.assert_allclose(combined[k], ctle(f, 106.25e9, gdc[k], gdc2[k]), rtol=1e-13, atol=1e-15)


def test_grid_pulses_are_each_settings_own_pulse():
    cfg = LinkConfig()
    model = LinkModel(TwinaxChannel(TwinaxSpec(awg=26, carbon_mg_m2=60)), cfg, 3.5)
    settings = [(g, g2) for g in cfg.ctle_gdc_db for g2 in cfg.ctle_gdc2_db]
    one_at_a_time = np.array([pulse_from_response(model.pre * model.post * ctle(model.freq, cfg.baud, g, g2),
                                                  cfg.baud, cfg.samples_per_ui, cfg.window_ui, model.delay)
                              for g, g2 in settings])
    grid = model.grid_pulses()
    assert np.max(np.abs(grid - one_at_a_time)) <= 1e-12 * np.max(np.abs(one_at_a_time))


def test_peaks_beyond_the_first_window_are_still_found(monkeypatch):
    """With a one-UI window every peak lies beyond it: the bound sends each setting to its whole pulse."""
    cfg = LinkConfig(baud=53.125e9)
    model = LinkModel(TwinaxChannel(TwinaxSpec(awg=28, carbon_mg_m2=150)), cfg, 4.0)
    usual = model.equalize()
    monkeypatch.setattr(link_module, "PEAK_WINDOW_UI", 1)
    narrow = model.equalize()
    assert (narrow.gdc_db, narrow.gdc2_db, narrow.snr_db) == (usual.gdc_db, usual.gdc2_db, usual.snr_db)


def test_a_family_evaluates_each_length_as_a_fresh_model():
    """Length-independent parts computed once (measured channel with paddle cards, crosstalk, host channels)."""
    network = read_touchstone(TOUCHSTONE / "CA_19p75dB_thru.s4p")
    thru = MeasuredChannel.from_network(network, length_m=2.0)
    xt = MeasuredChannel.from_xt(read_touchstone(TOUCHSTONE / "CA_19p75dB_fext1.s4p"), thru)
    cfg = LinkConfig(baud=53.125e9, end_loss_db=1.5)
    hosts = (None, thru)
    family = LinkFamily(thru, cfg, (xt,), hosts)
    for length in (1.0, 2.0, 2.7):
        stat, eq = family.evaluate(length)
        fresh = LinkModel(thru, cfg, length, (xt,), host_channels=hosts).equalize()
        assert (eq.gdc_db, eq.gdc2_db) == (fresh.gdc_db, fresh.gdc2_db)
        np.testing.assert_allclose(eq.equalized, fresh.equalized, rtol=1e-12, atol=1e-15)
        assert eq.sigma == pytest.approx(fresh.sigma, rel=1e-12)
        assert family.evaluate(length)[0] is stat  # kept


def test_ber_given_noise_sums_only_where_the_distribution_is():
    cursors = np.array([0.02, -0.08, 1.0, 0.25, -0.06, 0.03, 0.01])
    v, pdf, main = interference_pdf(cursors, 2)
    assert np.count_nonzero(pdf) < pdf.size / 2  # the grid is wider than the distribution
    d = main / 3
    for sigma, dd in ((0.02, 0.0), (0.05, 0.01), (0.15, 0.03)):
        whole = 0.75 * min(float(np.dot(pdf, 0.5 * (ndtr((-d - v - dd) / sigma) + ndtr((-d - v + dd) / sigma)))), 1)
        assert ber_given_noise(v, pdf, main, sigma, dd) == pytest.approx(whole, rel=1e-12)
    assert ber_given_noise(v, np.zeros_like(pdf), main, 0.05, 0.0) == 0.0


def test_analysis_at_several_rates_is_analysis_at_each():
    network = read_touchstone(TOUCHSTONE / "CA_19p75dB_thru.s4p")
    both = analyze_rates(network, [26.5625e9, 53.125e9], AnalysisOptions(mask="ieee802.3ck-ca"),
                         masked_baud=26.5625e9)
    for result, baud, mask in zip(both, (26.5625e9, 53.125e9), ("ieee802.3ck-ca", None), strict=True):
        alone = analyze(network, AnalysisOptions(baud=baud, mask=mask))
        assert {k: v for k, v in result.to_dict().items() if k != "file"} == \
            {k: v for k, v in alone.to_dict().items() if k != "file"}
        np.testing.assert_array_equal(result.curves.il_db, alone.curves.il_db)
