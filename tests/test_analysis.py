"""Figures of `analyze` against real reference files, scikit-rf, and analytic results."""

from __future__ import annotations

import numpy as np
import pytest
import skrf as rf
from accbench.dsp import AnalysisOptions, analyze, analyze_file, read_touchstone
from accbench.dsp.crosstalk import IcnParams, icn_v
from accbench.dsp.figures import fit_il, ild_figures
from accbench.dsp.masks import load_mask
from accbench.dsp.twinax import TwinaxSpec, twinax_network
from accbench.dsp.weighting import power_weight
from scipy.integrate import quad
from skrf.calibration.deembedding import IEEEP370_FD_QM

from accbench.errors import BandError, InputError, TouchstoneError

from .conftest import TOUCHSTONE, write_network

THRU_FILES = ["CA_19p75dB_thru.s4p", "Tp0_Tp5_28p5db_FQSFP_thru.s4p", "P1TX1_P2RX1.s4p",
              "DPO_4in_Meg7_THRU.s4p", "C2C_PCB_SYSVIA_12dB_thru.s4p"]
# README of the reference data: SDD21 (dB) at 26.5625 GHz
README_SDD21_DB = {"CA_19p75dB_thru.s4p": -19.74, "Tp0_Tp5_28p5db_FQSFP_thru.s4p": -28.43,
                   "P1TX1_P2RX1.s4p": -17.94, "DPO_4in_Meg7_THRU.s4p": -12.17,
                   "C2C_PCB_SYSVIA_12dB_thru.s4p": -12.17}


@pytest.mark.parametrize("name", THRU_FILES)
def test_every_reference_thru_is_analysed(name):
    result = analyze_file(TOUCHSTONE / name)
    assert result.il_db == pytest.approx(-README_SDD21_DB[name], abs=0.05)
    d = result.to_dict()
    for key in ("il_fitted_db", "ild_rms_db", "ild_peak_db", "fom_ild_db", "rl_db", "scd21_db", "delay_s",
                "causality_percent", "usable_bw_hz"):
        assert np.isfinite(d[key]), key
    assert 1e-9 < result.delay_s < 30e-9
    assert result.passive


def test_crosstalk_files_analysed_as_aggressors(ca_thru):
    result = analyze_file(ca_thru, AnalysisOptions(next_files=(str(TOUCHSTONE / "CA_19p75dB_next1.s4p"),),
                                                   fext_files=(str(TOUCHSTONE / "CA_19p75dB_fext1.s4p"),)))
    assert 0.1 < result.icn_mv < 10.0


def test_noise_floor_file_flagged_near_22_ghz():
    path = TOUCHSTONE / "CABLE1_TX_pair.s4p"
    result = analyze_file(path, AnalysisOptions(baud=25.78125e9))
    assert result.usable_bw_reason == "noise floor"
    assert 20e9 <= result.usable_bw_hz <= 24e9
    assert -70 < result.noise_floor_db < -60
    with pytest.raises(BandError, match=r"Nyquist 26.5625 GHz .* ends at 2\d\.\d+ GHz"):
        analyze_file(path)


def test_reflective_band_limit_and_band_short_of_nyquist():
    with pytest.raises(BandError, match=r"SDD11 -> 0 dB"):
        analyze_file(TOUCHSTONE / "Tp0_Tp5_28p5db_FQSFP_thru.s4p", AnalysisOptions(baud=106.25e9))
    with pytest.raises(BandError, match=r"data ends at 50 GHz .* Nyquist of 106.25 GBd is 53.125 GHz"):
        analyze_file(TOUCHSTONE / "P1TX1_P2RX1.s4p", AnalysisOptions(baud=106.25e9))


def test_quality_metrics_equal_scikit_rf_ieee370(ca_thru):
    network = read_touchstone(ca_thru).subnetwork([0, 2, 1, 3])
    network.se2gmm(p=2)
    expected = IEEEP370_FD_QM().check_se_quality(network.subnetwork([0, 1]))
    result = analyze_file(ca_thru)
    assert result.causality_percent == pytest.approx(expected["causality"]["value"], abs=1e-9)
    assert result.passivity_percent == pytest.approx(expected["passivity"]["value"], abs=1e-9)
    assert result.reciprocity_percent == pytest.approx(expected["reciprocity"]["value"], abs=1e-9)
    assert result.causality_percent == pytest.approx(99.2, abs=0.1)  # README of the data


def test_il_fit_recovers_a_polynomial_and_ild_of_a_ripple():
    f = np.linspace(10e6, 53.125e9, 5000)
    g = f / 1e9
    coeffs = (0.4, 1.6, 0.21, 0.002)
    il = coeffs[0] + coeffs[1] * np.sqrt(g) + coeffs[2] * g + coeffs[3] * g**2
    fit = fit_il(f, il, 0.05e9, 53.125e9)
    np.testing.assert_allclose(fit.coeffs_db, coeffs, atol=1e-9)
    ripple = 0.3 * np.sin(2 * np.pi * g / 0.37)  # many periods: the fit cannot absorb it
    ild = ild_figures(f, il + ripple, fit_il(f, il + ripple, 0.05e9, 53.125e9), 53.125e9, 10e-12)
    assert ild.ild_rms_db == pytest.approx(0.3 / np.sqrt(2), rel=0.03)
    assert ild.ild_peak_db == pytest.approx(0.3, rel=0.05)


def test_fom_ild_is_the_weighted_rms():
    f = np.linspace(10e6, 53.125e9, 5314)
    ripple = 0.2 * np.sin(2 * np.pi * f / 0.5e9)
    il = 2 * np.sqrt(f / 1e9) + ripple
    fit = fit_il(f, il, 0.05e9, 53.125e9)
    figures = ild_figures(f, il, fit, 53.125e9, 9.5e-12)
    band = f >= 0.05e9
    mean_w, _ = quad(lambda x: power_weight(np.array([x]), 53.125e9, 9.5e-12)[0], 0.05e9, 53.125e9, limit=200)
    mean_w /= 53.125e9 - 0.05e9
    # ripple^2 averages to A^2/2 independently of the slowly varying weight
    assert figures.fom_ild_db == pytest.approx(np.sqrt(mean_w * 0.2**2 / 2), rel=0.05)
    assert band.sum() > 0


def test_delay_of_an_analytic_line_and_coarse_step_warning(tmp_path):
    spec = TwinaxSpec(awg=26, length_m=4.0, eps_r=1.5, tan_delta=0.0)
    network = twinax_network(spec)
    expected = 4.0 * np.sqrt(1.5) / 299792458.0
    result = analyze(network)
    assert result.delay_s == pytest.approx(expected, rel=0.01)
    assert result.freq_step_ok and not result.warnings
    coarse = network.interpolate(rf.Frequency(0, 60, 2001, "GHz"))  # 30 MHz steps, 16 ns line
    warned = analyze(coarse)
    assert not warned.freq_step_ok
    assert any("too coarse" in w for w in warned.warnings)
    assert warned.delay_s == pytest.approx(expected, rel=0.01)


def test_mask_margin_builtin_and_csv(tmp_path, ca_thru):
    builtin = analyze_file(ca_thru, AnalysisOptions(mask="ieee802.3ck-ca"))
    assert builtin.mask_margin_db == pytest.approx(19.75 - builtin.il_db, abs=1e-9)
    assert builtin.mask_margin_db == pytest.approx(0.01, abs=0.05)
    csv = tmp_path / "mask.csv"
    csv.write_text("freq_ghz,max_il_db\n1,5\n26.5625,21\n40,40\n")
    custom = analyze_file(ca_thru, AnalysisOptions(mask=str(csv)))
    il_1ghz = analyze_file(ca_thru, AnalysisOptions(baud=2e9)).il_db
    assert custom.mask_margin_db <= 5 - il_1ghz + 1e-9
    assert custom.mask_margin_db < 1.5
    assert analyze_file(ca_thru).mask_margin_db is None
    with pytest.raises(InputError, match="unknown mask"):
        load_mask("no-such-mask")


def test_icn_matches_quadrature_for_flat_crosstalk():
    baud, k, amp, t_t = 53.125e9, 0.01, 0.6, 9.5e-12
    f = np.arange(0, 60e9 + 1, 10e6)
    xt = np.full(f.size, k)
    params = IcnParams(a_nt_v=amp, a_ft_v=amp, t_nt_s=t_t, t_ft_s=t_t)
    got = icn_v(f, [xt], [xt], baud, params, t_t)
    integral, _ = quad(lambda x: power_weight(np.array([x]), baud, t_t)[0], 0.05e9, baud, limit=200)
    expected = np.sqrt(2 * (2 / baud) * amp**2 * k**2 * integral)
    assert got == pytest.approx(expected, rel=0.01)


def test_non_passive_data_is_an_error_unless_allowed(tmp_path, ca_thru):
    network = read_touchstone(ca_thru)
    network.s = network.s * 1.2
    with pytest.raises(TouchstoneError, match="non-passive"):
        analyze(network)
    result = analyze(network, AnalysisOptions(allow_nonpassive=True))
    assert not result.passive and result.max_singular_value > 1.1


def test_two_port_differential_data(ca_thru):
    network = read_touchstone(ca_thru).subnetwork([0, 2, 1, 3])
    network.se2gmm(p=2)
    dd = network.subnetwork([0, 1])
    result = analyze(dd)
    assert result.il_db == pytest.approx(19.74, abs=0.05)
    assert result.scd21_db is None and result.port_map["thru"] is None


def test_eight_port_needs_ports_and_selects_a_lane(tmp_path, ca_thru):
    lane = read_touchstone(ca_thru)
    s = np.zeros((lane.frequency.npoints, 8, 8), dtype=complex)
    s[:, :4, :4] = 0.5 * lane.s  # a lossier first lane
    s[:, 4:, 4:] = lane.s
    path = write_network(rf.Network(frequency=lane.frequency, s=s), tmp_path / "two_lanes.s8p")
    with pytest.raises(TouchstoneError, match="choose the four ports of one pair") as info:
        analyze_file(path)
    assert info.value.fields == ("ports",)  # the CLI puts --ports in front
    result = analyze_file(path, AnalysisOptions(ports=(5, 6, 7, 8)))
    assert result.il_db == pytest.approx(19.74, abs=0.05)


def test_wrong_port_count(tmp_path):
    three = rf.Network(frequency=rf.Frequency(1, 60, 100, "GHz"), s=np.full((100, 3, 3), 0.1 + 0j))
    with pytest.raises(TouchstoneError, match="3 ports"):
        analyze(three)


def test_2xthru_deembedding_recovers_the_dut(tmp_path):
    freq = np.arange(0, 40e9 + 1, 10e6)
    fixture = twinax_network(TwinaxSpec(awg=30, length_m=0.08, diff_impedance_ohm=90.0), freq)
    dut = twinax_network(TwinaxSpec(awg=26, length_m=2.0), freq)
    flipped = fixture.flipped()
    two_x = fixture ** flipped
    embedded = fixture ** dut ** flipped
    two_x_path = write_network(two_x, tmp_path / "2x.s4p")
    fdf_path = write_network(embedded, tmp_path / "fdf.s4p")
    raw = analyze_file(fdf_path, AnalysisOptions(baud=53.125e9))
    clean = analyze_file(fdf_path, AnalysisOptions(baud=53.125e9, deembed=str(two_x_path)))
    truth = analyze(dut, AnalysisOptions(baud=53.125e9))
    assert clean.deembedded
    assert abs(raw.il_db - truth.il_db) > 0.5  # the fixtures matter
    assert clean.il_db == pytest.approx(truth.il_db, abs=0.15)
