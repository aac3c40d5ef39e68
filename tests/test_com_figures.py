"""Per-clause cable-assembly figures (``dsp.com.figures``) against the reference cable, scikit-rf and closed forms."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import skrf as rf
from accbench.dsp import AnalysisOptions, analyze_file, read_touchstone
from accbench.dsp.com.figures import NOTCH_DEPTH_DB, cable_figures, icn_settings, ild_settings
from accbench.dsp.com.params import load_clause
from accbench.dsp.masks import load_mask
from accbench.dsp.weighting import default_transition_s
from scipy.integrate import quad
from scipy.special import sici

from accbench.errors import InputError

from .conftest import TOUCHSTONE, sdd21_db

CK_F_V = 0.59356862745098038  # 802.3ck CR_CA MATLAB sheet, cell K27 (f_v in units of f_b)
FREQ = np.arange(0, 6001) * 10e6  # 0..60 GHz, 10 MHz


@pytest.fixture(scope="module")
def ca() -> dict[str, rf.Network]:
    return {k: read_touchstone(TOUCHSTONE / f"CA_19p75dB_{k}.s4p") for k in ("thru", "next1", "fext1")}


def _four_port(dd21: np.ndarray, cc21: np.ndarray) -> rf.Network:
    """Single-ended 4-port (pairs 1,2 | 3,4; thru 1->3, 2->4) whose mixed-mode DD21 and CC21 are given."""
    s = np.zeros((FREQ.size, 4, 4), dtype=complex)
    s[:, 1, 0] = s[:, 0, 1] = dd21
    s[:, 3, 2] = s[:, 2, 3] = cc21
    net = rf.Network(frequency=rf.Frequency.from_f(FREQ, unit="Hz"), s=s, z0=[100, 100, 25, 25])
    net.gmm2se(p=2, z0_se=50)
    return net


def _line(il_db: np.ndarray) -> rf.Network:
    """A matched pair with the given insertion loss and a 1 ns delay, in both modes."""
    t = 10 ** (-il_db / 20) * np.exp(-2j * np.pi * FREQ * 1e-9)
    return _four_port(t, t)


def _poly(g: np.ndarray) -> np.ndarray:
    return 0.4 + 1.6 * np.sqrt(g) + 0.21 * g + 0.002 * g**2


def _pwf(f: float, fb: float, t_t: float, fr_ratio: float) -> float:
    """Equation 93A-57 written out: sinc^2(f/fb) / (1 + (f/ft)^4) / (1 + (f/fr)^8)."""
    x = np.pi * f / fb
    sinc2 = 1.0 if x == 0 else (np.sin(x) / x) ** 2
    return sinc2 / (1 + (f * t_t / 0.2365) ** 4) / (1 + (f / (fr_ratio * fb)) ** 8)


def test_ca_il_at_nyquist_is_the_published_loss_and_scikit_rf(ca):
    """README of the data: SDD21 of CA_19p75dB_thru is -19.74 dB at 26.5625 GHz and -35.77 dB at 53.125 GHz."""
    skrf_db = sdd21_db(ca["thru"], [0, 2, 1, 3])
    for clause, published in (("802.3ck-cr", 19.74), ("802.3dj-cr", 35.77)):
        got = cable_figures(load_clause(clause), ca["thru"])
        assert got.il_db_at_nyquist == pytest.approx(published, abs=0.01)
        assert got.il_db_at_nyquist == pytest.approx(-np.interp(got.nyquist_hz, ca["thru"].f, skrf_db), abs=1e-9)
    ck = cable_figures(load_clause("802.3ck-cr"), ca["thru"])
    assert ck.limits == {"il_max_db_at_nyquist": 19.75}
    assert ck.checks == {"il_at_nyquist": True} and ck.passed


def test_deep_notch_warned_at_dj_not_at_ck(ca):
    """The ~79 dB notch of the CA thru near 48 GHz lies inside dj's fit band (to the data end), not ck's (40 GHz)."""
    dj = cable_figures(load_clause("802.3dj-cr"), ca["thru"])
    notes = [w for w in dj.warnings if "notch" in w]
    assert len(notes) == 1 and "48.00 GHz" in notes[0] and "IL 78.9 dB" in notes[0]
    depth = float(notes[0].split("|SDD21| ")[1].split(" dB")[0])
    assert depth > NOTCH_DEPTH_DB
    assert dj.ild_peak_db == pytest.approx(depth, abs=0.05)
    ck = cable_figures(load_clause("802.3ck-cr"), ca["thru"])
    assert ck.fit_band_hz == (0.05e9, 40e9)
    assert not any("notch" in w for w in ck.warnings)
    assert ck.ild_peak_db < NOTCH_DEPTH_DB


def test_dj_has_no_sourced_settings_so_they_are_derived_and_said(ca):
    p = load_clause("802.3dj-cr")
    s = ild_settings(p)
    assert s.transition_s == pytest.approx(4e-12) and s.rx_bw_ratio == pytest.approx(0.55)  # T_r, f_r of the table
    assert (s.f_min_hz, s.f_max_hz) == (0.05e9, 106.25e9) and "t_t_ns" in s.derived
    got = cable_figures(p, ca["thru"], [ca["next1"]], [ca["fext1"]])
    assert got.limits == {} and got.checks == {} and got.passed is None
    assert any("no sourced" in w and "T_t = T_r = 4 ps" in w for w in got.warnings)
    assert any("IL-fit band cut to 0.05-60 GHz" in w for w in got.warnings)
    assert icn_settings(p)[0].a_nt_v == pytest.approx(0.481)  # A_ne of the table


def test_ck_transition_time_is_the_sheets_and_the_default():
    t_t = 0.2365 / (CK_F_V * 53.125e9)
    assert t_t == pytest.approx(7.5e-12, rel=1e-12)
    settings = ild_settings(load_clause("802.3ck-cr"))
    assert settings.transition_s == pytest.approx(t_t) and not settings.derived
    assert icn_settings(load_clause("802.3ck-cr"))[0].t_nt_s == pytest.approx(t_t)
    assert default_transition_s(53.125e9) == pytest.approx(t_t, rel=1e-12)
    assert default_transition_s(106.25e9) == pytest.approx(t_t / 2, rel=1e-12)


def test_fom_ild_of_a_polynomial_loss_and_a_ripple():
    """IL in the fit's own basis: ILD = 0. A fast ripple of amplitude r: FOM_ILD = r sqrt(mean W / 2) (ck settings)."""
    p = load_clause("802.3ck-cr")
    g = FREQ / 1e9
    smooth = cable_figures(p, _line(_poly(g)))
    assert smooth.fom_ild_db < 1e-6
    assert smooth.fitted_il_db_at_nyquist == pytest.approx(float(_poly(np.array([26.5625]))[0]), abs=1e-6)
    assert smooth.il_db_at_nyquist == pytest.approx(float(_poly(np.array([26.5625]))[0]), abs=1e-4)
    ripple = cable_figures(p, _line(_poly(g) + 0.2 * np.sin(2 * np.pi * g / 0.5)))
    lo, hi = 0.05e9, 40e9
    mean_w = quad(lambda f: _pwf(f, 53.125e9, 7.5e-12, 0.75), lo, hi, limit=400)[0] / (hi - lo)
    expected = 0.2 * np.sqrt(mean_w / 2)
    assert ripple.fom_ild_db == pytest.approx(expected, rel=0.02)
    # the former 0.62 UI (11.7 ps) edge gives a clearly different figure: the test sees the transition time
    old_w = quad(lambda f: _pwf(f, 53.125e9, 0.62 / 53.125e9, 0.75), lo, hi, limit=400)[0] / (hi - lo)
    assert abs(0.2 * np.sqrt(old_w / 2) - expected) > 0.05 * expected


def test_icn_of_a_flat_aggressor_is_the_closed_form_integral():
    """T_t -> 0 and f_r -> infinity leave W = sinc^2(f/fb): sigma^2 = 2 A^2 k^2 / fb * fb * int_{x1}^{1} sinc^2 x dx."""
    base = load_clause("802.3ck-cr")
    raw = dict(base.raw)
    raw["icn"] = {"a_nt": 0.6, "a_ft": 0.4, "t_nt_ns": 1e-9, "t_ft_ns": 1e-9, "f_1_ghz": 0.05, "f_2_ghz": 53.125,
                  "f_r": 1e6}
    p = replace(base, raw=raw)
    k = 0.01
    thru, aggressor = _line(_poly(FREQ / 1e9)), _four_port(np.full(FREQ.size, k + 0j), np.zeros(FREQ.size))
    got = cable_figures(p, thru, [aggressor], [aggressor])

    def int_sinc2(x: float) -> float:  # int_0^x sinc^2(t) dt = (Si(2 pi x) - sin^2(pi x) / (pi x)) / pi
        u = np.pi * x
        return (sici(2 * u)[0] - np.sin(u) ** 2 / u) / np.pi

    share = int_sinc2(1.0) - int_sinc2(0.05 / 53.125)
    expected_mv = 1e3 * k * np.sqrt(2 * (0.6**2 + 0.4**2) * share)
    assert got.icn_mv == pytest.approx(expected_mv, rel=2e-3)
    nothing = cable_figures(p, thru)
    assert nothing.icn_mv is None and "icn" not in nothing.checks


def test_icn_with_the_ck_settings_integrates_to_f2_with_its_edge():
    """The table's f_2 = 40 GHz, T_nt = T_ft = 7.5 ps, f_r = 0.75, A = 0.6 V: against quadrature of 93A-57."""
    p = load_clause("802.3ck-cr")
    k = 0.003
    aggressor = _four_port(np.full(FREQ.size, k + 0j), np.zeros(FREQ.size))
    got = cable_figures(p, _line(_poly(FREQ / 1e9)), [aggressor], [])
    integral = quad(lambda f: _pwf(f, 53.125e9, 7.5e-12, 0.75), 0.05e9, 40e9, limit=400)[0]
    expected_mv = 1e3 * np.sqrt(2 / 53.125e9 * 0.6**2 * k**2 * integral)
    assert got.icn_mv == pytest.approx(expected_mv, rel=2e-3)


def test_ca_icn_and_json(ca):
    got = cable_figures(load_clause("802.3ck-cr"), ca["thru"], [ca["next1"]], [ca["fext1"]])
    assert 0.1 < got.icn_mv < 10.0
    data = json.loads(json.dumps(got.to_dict()))
    assert data["clause"] == "802.3ck-cr" and data["fit_band_hz"] == [0.05e9, 40e9]
    assert "K27" in data["sources"]["ild"] and data["passed"] is True


def test_limits_a_clause_may_give_are_checked_both_ways():
    """The fitted-IL formula limit, FOM_ILD and ICN limits (none is sourced yet): pass with margin, fail without."""
    base = load_clause("802.3ck-cr")
    thru = _line(_poly(FREQ / 1e9))
    aggressor = _four_port(np.full(FREQ.size, 0.003 + 0j), np.zeros(FREQ.size))
    for offset, icn_limit, expect in ((0.1, 100.0, True), (-0.1, 0.01, False)):
        limits = {"il_max_db_at_nyquist": 30.0, "fom_ild_max_db": 0.1 if expect else -1.0, "icn_max_mv": icn_limit,
                  "fitted_il_max": {"coeffs_db": [0.4 + offset, 1.6, 0.21, 0.002], "f_min_ghz": 0.05,
                                    "f_max_ghz": 26.5625}}
        p = replace(base, raw={**base.raw, "limits": limits})
        got = cable_figures(p, thru, [aggressor], [])
        assert got.checks == {"il_at_nyquist": True, "fitted_il": expect, "fom_ild": expect, "icn": expect}


def test_clause_il_masks_come_from_the_tables(ca_thru):
    ck = load_mask("802.3ck-cr")
    assert ck.freq_hz.tolist() == [26.5625e9] and ck.max_il_db.tolist() == [19.75]
    assert load_mask("ieee802.3ck-ca").max_il_db.tolist() == [19.75]
    result = analyze_file(ca_thru, AnalysisOptions(mask="802.3ck-cr"))
    assert result.mask_margin_db == pytest.approx(19.75 - 19.74, abs=0.01)
    with pytest.raises(InputError, match="no sourced cable-assembly IL limit"):
        load_mask("802.3dj-cr")
