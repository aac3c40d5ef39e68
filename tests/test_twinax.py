"""The twinax physics model against published figures and analytic formulas."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.dsp.carbon import CarbonHypothesis, conductor_film_delta_il_db, film_thickness_m
from accbench.dsp.conductor import (
    awg_diameter_m,
    copper_conductivity,
    groiss_factor,
    hammerstad_factor,
    roughness_factor,
    round_wire_internal_impedance,
    skin_depth_m,
)
from accbench.dsp.twinax import TwinaxSpec, default_grid_hz, differential_loss_db, proximity_factor, twinax_network
from scipy.constants import mu_0
from skrf.calibration.deembedding import IEEEP370_FD_QM

from accbench.errors import InputError

SIGMA = copper_conductivity("Cu-ETP", "annealed")


def loss_per_m(spec: TwinaxSpec, f_hz: float) -> float:
    return differential_loss_db(twinax_network(spec, np.array([0.0, f_hz / 2, f_hz])), f_hz) / spec.length_m


def test_awg_and_copper_tables():
    assert awg_diameter_m(26) == pytest.approx(0.4049e-3, rel=1e-3)
    assert awg_diameter_m(30) == pytest.approx(0.2546e-3, rel=1e-3)
    assert SIGMA == pytest.approx(58.0e6)
    assert copper_conductivity("CW008A", "hard-drawn") < copper_conductivity("Cu-OFC", "annealed")
    with pytest.raises(InputError):
        copper_conductivity("brass")


def test_published_loss_per_metre():
    """Idealised (smooth) twinax: about 4.5 dB/m (26 AWG) and 6.9 dB/m (30 AWG) at 26.56 GHz."""
    assert loss_per_m(TwinaxSpec(awg=26, length_m=1.0), 26.5625e9) == pytest.approx(4.5, rel=0.08)
    assert loss_per_m(TwinaxSpec(awg=30, length_m=1.0), 26.5625e9) == pytest.approx(6.9, rel=0.08)


def test_internal_impedance_limits():
    d = awg_diameter_m(26)
    z = round_wire_internal_impedance(np.array([0.0, 1.0, 40e9]), d, SIGMA)
    assert z[0].real == pytest.approx(1 / (SIGMA * np.pi * d**2 / 4), rel=1e-12)
    assert z[1].real == pytest.approx(z[0].real, rel=1e-6)
    rs = np.sqrt(np.pi * 40e9 * mu_0 / SIGMA)
    assert z[2].real == pytest.approx(rs / (np.pi * d), rel=0.01)
    assert z[2].imag == pytest.approx(rs / (np.pi * d), rel=0.01)


def test_skin_effect_scales_with_sqrt_f_and_inverse_diameter():
    """With a lossless dielectric the loss is the conductor's: ~sqrt(f) and ~1/d."""
    lossless = dict(length_m=1.0, tan_delta=0.0)
    l10 = loss_per_m(TwinaxSpec(awg=26, **lossless), 10e9)
    l40 = loss_per_m(TwinaxSpec(awg=26, **lossless), 40e9)
    assert l40 / l10 == pytest.approx(2.0, rel=0.02)
    l30 = loss_per_m(TwinaxSpec(awg=30, **lossless), 10e9)
    assert l30 / l10 == pytest.approx(awg_diameter_m(26) / awg_diameter_m(30), rel=0.02)
    # and equals the analytic two-wire formula 8.686 * Rs k_prox / (pi d Z_diff)
    d, f = awg_diameter_m(26), 10e9
    k = proximity_factor(np.cosh(100 * np.sqrt(1.5) / 120))
    analytic = 8.686 * np.sqrt(np.pi * f * mu_0 / SIGMA) * k / (np.pi * d * 100)
    assert l10 == pytest.approx(analytic, rel=0.02)


def test_roughness_factors_against_published_formulas():
    f = np.array([20e9])
    delta = skin_depth_m(f, SIGMA)[0]
    assert hammerstad_factor(f, delta, SIGMA)[0] == pytest.approx(1 + 2 / np.pi * np.arctan(1.4))
    assert groiss_factor(f, delta / 2, SIGMA)[0] == pytest.approx(1 + np.exp(-1))
    for model in ("hammerstad", "groiss", "gradient"):
        k = roughness_factor(np.array([1e9, 10e9, 50e9]), 0.5e-6, SIGMA, model)
        assert np.all(np.diff(k) > 0) and k[0] >= 1.0
    assert hammerstad_factor(np.array([1e15]), 1e-6, SIGMA)[0] == pytest.approx(2.0, abs=1e-3)


def test_roughness_adds_several_db_at_53_ghz():
    smooth = differential_loss_db(twinax_network(TwinaxSpec(awg=26, length_m=3.0)), 53.125e9)
    rough = differential_loss_db(twinax_network(TwinaxSpec(awg=26, length_m=3.0, roughness_rq_m=0.2e-6)),
                                 53.125e9)
    assert rough - smooth > 3.0


def test_carbon_film_as_conductor_is_negligible():
    t = film_thickness_m(50.0)
    assert 25e-9 <= t <= 30e-9
    delta_db = conductor_film_delta_il_db(np.array([25e9, 53.125e9]), 50.0, 3.0, awg_diameter_m(26), SIGMA)
    assert np.all(np.abs(delta_db) < 0.001)


def test_carbon_hypothesis_flat_below_threshold_rising_above():
    def il(carbon, hyp=None):
        hyp = hyp or CarbonHypothesis()
        spec = TwinaxSpec(awg=26, length_m=3.0, roughness_rq_m=0.1e-6, carbon_mg_m2=carbon, carbon=hyp)
        return differential_loss_db(twinax_network(spec, np.array([0, 26.5625e9, 53.125e9])), 53.125e9)

    assert il(0) == il(30) == il(50)
    assert il(80) - il(50) > 0.5
    assert il(120) > il(80)
    assert il(120, CarbonHypothesis(mechanism="none")) == il(0)
    shell = il(120, CarbonHypothesis(mechanism="shell")) - il(0)
    # a 67 nm shell in series with the insulation: q ~ 1.6e-4, so 0.05 * q adds ~4 % to
    # tan delta (0.0002): about 0.14 dB of 3.5 dB dielectric loss at 53 GHz over 3 m
    assert 0.05 < shell < 0.3
    assert il(120) - il(0) > 10 * shell
    with pytest.raises(InputError):
        CarbonHypothesis(mechanism="magic")


def test_synth_network_is_causal_passive_reciprocal_on_the_default_grid():
    spec = TwinaxSpec(awg=26, length_m=3.0, carbon_mg_m2=80)
    network = twinax_network(spec)
    assert network.frequency.npoints == 6001 and network.f[-1] == 60e9 and network.f[1] == 10e6
    assert default_grid_hz(spec).size == 6001
    mm = network.copy()
    mm.se2gmm(p=2)
    qm = IEEEP370_FD_QM().check_se_quality(mm.subnetwork([0, 1]))
    assert qm["causality"]["value"] > 95 and qm["passivity"]["value"] == 100
    assert qm["reciprocity"]["value"] == 100


def test_skew_creates_the_analytic_mode_conversion():
    """A delay tau on N gives |SCD21| = |SDD21 without skew| |sin(w tau / 2)|."""
    f = np.array([1e9, 10e9, 20e9])
    spec = TwinaxSpec(awg=26, length_m=2.0, skew_s_per_m=5e-12)
    mm = twinax_network(spec, f)
    mm.se2gmm(p=2)
    plain = twinax_network(TwinaxSpec(awg=26, length_m=2.0), f)
    plain.se2gmm(p=2)
    assert np.all(np.abs(plain.s[:, 3, 0]) < 1e-12)
    # SCD21 = (S31 - S32 + e (S41 - S42)) / 2 = SDD21_plain (1 - e) / 2, e = exp(-j w tau)
    tau = 10e-12
    expected = np.abs(plain.s[:, 1, 0]) * np.abs(np.sin(np.pi * f * tau))
    np.testing.assert_allclose(np.abs(mm.s[:, 3, 0]), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [dict(length_m=-1), dict(length_m=0), dict(awg=None), dict(diameter_m=1.0), dict(roughness_model="x"),
     dict(diff_impedance_ohm=5), dict(carbon_mg_m2=-3), dict(f_step_hz=0), dict(dielectric="air-ish")],
)
def test_bad_specs_are_input_errors(kwargs):
    with pytest.raises(InputError):
        twinax_network(TwinaxSpec(**kwargs), np.array([0.0, 1e9]))
