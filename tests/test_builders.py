"""The library builders behind ``synth``/``link``/``reach``: ``spec_from_wire`` and ``build_link``.

Each is checked against something built without it (a hand-made ``TwinaxSpec``/``LinkConfig``, the
analytic two-wire loss, the fixture's known IL, the Gaussian SER formula), and each bad value must
raise an ``InputError`` that names the parameter, which the CLI turns into its flag.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from accbench.dsp.channel import IdealChannel, MeasuredChannel, TwinaxChannel
from accbench.dsp.link import simulate_link
from accbench.dsp.linkconfig import LinkConfig
from accbench.dsp.linksetup import LinkSetup, build_link, parse_floats, parse_pair
from accbench.dsp.twinax import TwinaxSpec, differential_loss_db, proximity_factor, spec_from_wire, twinax_network
from scipy.constants import mu_0
from scipy.special import erfc

from accbench.cli import main
from accbench.cli.options import LINK_FLAGS, TWINAX_FLAGS, option_names
from accbench.errors import FieldError, InputError

from .conftest import TOUCHSTONE

CA = TOUCHSTONE / "CA_19p75dB_thru.s4p"
NYQUIST_26G = 26.5625e9


def il_db(spec: TwinaxSpec, f_hz: float) -> float:
    """SDD21 loss of the synthesized 4-port at one frequency."""
    return differential_loss_db(twinax_network(spec, np.array([0.0, f_hz / 2, f_hz])), f_hz)


# --- spec_from_wire ---------------------------------------------------------------------------------

def test_spec_from_wire_equals_the_spec_built_by_hand():
    built = spec_from_wire(awg=26, length_m=3, roughness_rq_m=0.3e-6, carbon_mg_m2=80, skew_s_per_m=2e-12)
    by_hand = TwinaxSpec(awg=26.0, length_m=3.0, roughness_rq_m=0.3e-6, carbon_mg_m2=80.0, skew_s_per_m=2e-12)
    assert built == by_hand
    assert il_db(built, NYQUIST_26G) == il_db(by_hand, NYQUIST_26G)
    assert spec_from_wire(awg=26) == TwinaxSpec()  # the builder's defaults are the model's


def test_spec_from_wire_diameter_matches_the_gauge_formula_and_the_analytic_loss():
    d26 = 0.127e-3 * 92.0 ** ((36 - 26) / 39)  # ASTM B258 gauge formula, written out here
    by_gauge = spec_from_wire(awg=26, length_m=1, tan_delta=0.0)
    by_diameter = spec_from_wire(diameter_m=d26, length_m=1, tan_delta=0.0)
    assert il_db(by_diameter, 10e9) == pytest.approx(il_db(by_gauge, 10e9), rel=1e-9)
    sigma = 58.0e6  # Cu-ETP annealed, 100 % IACS
    k = proximity_factor(np.cosh(100 * np.sqrt(1.5) / 120))
    analytic = 8.686 * np.sqrt(np.pi * 10e9 * mu_0 / sigma) * k / (np.pi * d26 * 100)  # dB/m, two-wire line
    assert il_db(by_diameter, 10e9) == pytest.approx(analytic, rel=0.02)


def test_spec_from_wire_carbon_model_and_materials_reach_the_spec():
    spec = spec_from_wire(awg=28, copper_grade="Cu-OFC", temper="hard-drawn", dielectric="fep", eps_r=2.0,
                          carbon_model="shell", carbon_threshold_mg_m2=10, carbon_mg_m2=100)
    assert spec.carbon.mechanism == "shell" and spec.carbon.threshold_mg_m2 == 10
    assert (spec.copper_grade, spec.temper, spec.dielectric, spec.eps_r) == ("Cu-OFC", "hard-drawn", "fep", 2.0)


@pytest.mark.parametrize(
    ("changes", "fields", "needle"),
    [
        ({"awg": None}, ("awg", "diameter_m"), "give the wire"),
        ({"diameter_m": 0.4e-3}, ("awg", "diameter_m"), "not both"),
        ({"length_m": -1.0}, ("length_m",), "length -1"),
        ({"length_m": float("nan")}, ("length_m",), "not a finite number"),
        ({"length_m": "3"}, ("length_m",), "not a finite number"),
        ({"awg": 60}, ("awg",), "gauge table"),
        ({"awg": None, "diameter_m": 1e-6}, ("diameter_m",), "0.02..5 mm"),
        ({"copper_grade": "brass"}, ("copper_grade",), "unknown copper grade"),
        ({"copper_grade": None}, ("copper_grade",), "not a name"),
        ({"temper": "soft"}, ("temper",), "unknown temper"),
        ({"conductivity_iacs_percent": 5.0}, ("conductivity_iacs_percent",), "IACS"),
        ({"roughness_rq_m": -1e-6}, ("roughness_rq_m",), "negative"),
        ({"roughness_model": "magic"}, ("roughness_model",), "unknown roughness model"),
        ({"dielectric": "air"}, ("dielectric",), "unknown dielectric"),
        ({"eps_r": 50.0}, ("eps_r",), "eps_r 50"),
        ({"tan_delta": 0.7}, ("tan_delta",), "tan delta"),
        ({"diff_impedance_ohm": 10.0}, ("diff_impedance_ohm",), "pair impedance"),
        ({"common_impedance_ohm": 1.0}, ("common_impedance_ohm",), "common-mode impedance"),
        ({"skew_s_per_m": 5e-9}, ("skew_s_per_m",), "skew"),
        ({"carbon_mg_m2": -1.0}, ("carbon_mg_m2",), "surface carbon"),
        ({"carbon_model": "magic"}, ("carbon_model",), "carbon mechanism"),
        ({"carbon_threshold_mg_m2": -1.0}, ("carbon_threshold_mg_m2",), "carbon threshold"),
        ({"f_step_hz": 0.0}, ("f_step_hz", "f_max_hz"), "frequency grid"),
        ({"f_step_hz": 1e3}, ("f_step_hz",), "200000 points"),
    ],
)
def test_spec_from_wire_names_the_bad_field(changes, fields, needle):
    with pytest.raises(InputError, match=needle) as info:
        spec_from_wire(**{"awg": 26, **changes})
    assert isinstance(info.value, FieldError) and info.value.fields == fields
    assert "--" not in str(info.value)  # the library speaks of its parameters, not of CLI flags


# --- build_link -------------------------------------------------------------------------------------

def test_build_link_over_a_wire_equals_the_link_built_by_hand():
    setup = build_link(wire={"awg": 26, "carbon_mg_m2": 80}, length_m=2, baud=53.125e9, ffe="3,4")
    assert isinstance(setup.channel, TwinaxChannel) and setup.length_m == 2
    assert setup.channel.spec == TwinaxSpec(awg=26, length_m=2.0, carbon_mg_m2=80.0)
    assert setup.config == LinkConfig(baud=53.125e9, ffe_pre=3, ffe_post=4,
                                      extra={"host_tx_file": None, "host_rx_file": None})
    ours = setup.simulate(with_eye_width=False)
    theirs = simulate_link(TwinaxChannel(TwinaxSpec(awg=26, length_m=2.0, carbon_mg_m2=80.0)),
                           LinkConfig(baud=53.125e9, ffe_pre=3, ffe_post=4), 2.0, with_eye_width=False)
    assert ours.ber == theirs.ber and ours.margin_db == theirs.margin_db


def test_build_link_wire_defaults_to_3_m_and_takes_a_spec():
    assert build_link(wire={"awg": 26}).channel.spec.length_m == 3.0
    assert build_link(wire={"awg": 26, "length_m": 4}).channel.spec.length_m == 4.0
    spec = TwinaxSpec(awg=28, length_m=1.5)
    assert build_link(wire=spec).channel.spec == spec
    assert build_link(wire=spec, length_m=4).channel.spec == spec.with_length(4)


def test_build_link_ideal_gives_the_gaussian_ser():
    setup = build_link(ideal=True)
    assert isinstance(setup.channel, IdealChannel) and setup.ideal and setup.crosstalk == ()
    result = setup.simulate(noise_rms=0.1, with_eye_width=False)
    assert result.ser == pytest.approx(0.75 * erfc((1 / 3) / (0.1 * 2**0.5)), rel=0.05)


def test_build_link_from_a_file_keeps_its_measured_il_and_crosstalk():
    setup = build_link(CA, baud=53.125e9, next_files=[TOUCHSTONE / "CA_19p75dB_next1.s4p"],
                       fext_files=[TOUCHSTONE / "CA_19p75dB_fext1.s4p"], measured_length_m=2.0)
    assert isinstance(setup.channel, MeasuredChannel) and len(setup.crosstalk) == 2
    il = -20 * np.log10(abs(setup.channel.sdd21(np.array([NYQUIST_26G]))[0]))
    assert il == pytest.approx(19.74, abs=0.05)  # the fixture's IL at 26.5625 GHz (its name says 19.75 dB)
    scaled = build_link(CA, baud=53.125e9, measured_length_m=2.0, length_m=1.0).channel
    assert -20 * np.log10(abs(scaled.sdd21(np.array([NYQUIST_26G]), 1.0)[0])) == pytest.approx(il / 2, rel=0.01)


def test_text_and_sequences_give_the_same_config():
    text = build_link(ideal=True, ffe="3,4", tx_ffe="0,-0.1,0.8,-0.1", host_loss_db=5, end_loss_db=1)
    code = build_link(ideal=True, ffe=(3, 4), tx_ffe=(0, -0.1, 0.8, -0.1), host_loss_db=5, end_loss_db=1)
    assert text.config == code.config
    assert text.config.host_tx_loss_db == text.config.host_rx_loss_db == 5.0
    assert parse_pair(" 2, 5", "ffe") == (2, 5) and parse_floats([1, 2], "x", 2) == (1.0, 2.0)


@pytest.mark.parametrize(
    ("kwargs", "fields", "needle"),
    [
        ({}, ("file", "wire", "ideal"), "exactly one channel"),
        ({"ideal": True, "wire": {"awg": 26}}, ("file", "wire", "ideal"), "exactly one channel"),
        ({"ideal": True, "ffe": "x"}, ("ffe",), "two integers"),
        ({"ideal": True, "ffe": (1, 2, 3)}, ("ffe",), "two integers"),
        ({"ideal": True, "tx_ffe": "1,2"}, ("tx_ffe",), "4 comma-separated numbers"),
        ({"ideal": True, "tx_ffe": (0, -0.5, 1, 0)}, ("tx_ffe",), "802.3dj limits"),
        ({"ideal": True, "baud": 300e9}, ("baud",), "1..200 GBd"),
        ({"ideal": True, "target_ber": 2.0}, ("target_ber",), "target BER"),
        ({"ideal": True, "ffe_tap_limit": 0.0}, ("ffe_tap_limit",), "FFE tap limit"),
        ({"ideal": True, "ffe_method": "lms"}, ("ffe_method",), "mmse or zf"),
        ({"ideal": True, "host_loss_db": 99.0}, ("host_tx_loss_db",), "0..60 dB"),
        ({"ideal": True, "end_loss_db": -1.0}, ("end_loss_db",), "0..60 dB"),
        ({"ideal": True, "lanes": 0}, ("lanes",), "lane"),
        ({"ideal": True, "max_power_w": 0.0}, ("max_power_w",), "power limit"),
        ({"wire": {"awg": 26}, "length_m": -1.0}, ("length_m",), "length -1"),
        ({"wire": {"awg": 80}}, ("awg",), "gauge table"),
        ({"wire": {"colour": "red"}}, ("wire",), "unknown parameter"),
        ({"file": CA, "measured_length_m": -2.0}, ("measured_length_m",), "must be > 0"),
        ({"file": CA, "length_m": 1.0}, ("measured_length_m",), "measured_length_m"),
    ],
)
def test_build_link_names_the_bad_field(kwargs, fields, needle):
    with pytest.raises(InputError, match=needle) as info:
        build_link(**kwargs)
    assert isinstance(info.value, FieldError) and info.value.fields == fields
    assert "--" not in str(info.value)


def test_reach_of_a_setup_uses_its_length():
    setup = build_link(wire={"awg": 26}, length_m=2.0, baud=53.125e9)
    assert isinstance(setup, LinkSetup)
    result = setup.reach(resolution_m=0.1)
    assert result.required_m == 2.0 and result.reach_m > 2.0


# --- the CLI adds its flags -------------------------------------------------------------------------

def test_every_builder_parameter_has_a_flag():
    assert set(inspect.signature(spec_from_wire).parameters) == set(TWINAX_FLAGS)
    link_params = set(inspect.signature(build_link).parameters) - {"next_files", "fext_files", "host_tx_file",
                                                                   "host_rx_file", "host_loss_db"}
    config_fields = {"ffe_pre", "ffe_post", "host_tx_loss_db", "host_rx_loss_db"}
    assert link_params | config_fields <= set(LINK_FLAGS)


def test_option_names_puts_the_flag_in_front_and_leaves_other_errors_alone():
    with pytest.raises(InputError, match=r"^--diameter-mm: diameter 0\.001 mm is out of range") as info:
        with option_names(TWINAX_FLAGS):
            spec_from_wire(diameter_m=1e-6)
    assert not isinstance(info.value, FieldError)
    with pytest.raises(FieldError, match=r"^lanes"), option_names(TWINAX_FLAGS):  # no flag known: unchanged
        build_link(ideal=True, lanes=0)
    with pytest.raises(InputError, match=r"^plain$"), option_names(LINK_FLAGS):
        raise InputError("plain")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["synth", "-o", "x.s4p", "--diameter-mm", "0.001"], "--diameter-mm: diameter 0.001 mm"),
        (["synth", "-o", "x.s4p", "--awg", "26", "--rq-um", "-1"], "Invalid value for '--rq-um': '-1' is out of"),
        (["link", "--ideal", "--lanes", "0"], "Invalid value for '--lanes': '0' is out of range"),
        (["link", "--ideal", "--host-loss-db", "70"], "Invalid value for '--host-loss-db': '70' is out of range"),
        (["reach", "--awg", "26", "--required-m", "-1"], "Invalid value for '--required-m': '-1' is out of"),
        (["link", "--awg", "26", "--diameter-mm", "0.5"], "--awg/--diameter-mm: give the wire"),
    ],
)
def test_cli_names_its_flag(args, line, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"accbench: error: {line}") and len(err.splitlines()) == 1, err


def test_synth_json_spec_is_the_builders(tmp_path, capsys):
    out = tmp_path / "w.s4p"
    assert main(["synth", "--diameter-mm", "0.5", "--rq-um", "0.3", "--skew-ps-per-m", "3", "--iacs", "98",
                 "--length-m", "2", "--fmax", "30G", "--fstep", "20M", "-o", str(out), "--json"]) == 0
    spec = json.loads(capsys.readouterr().out)["spec"]
    expected = spec_from_wire(diameter_m=0.5e-3, roughness_rq_m=0.3e-6, skew_s_per_m=3e-12,
                              conductivity_iacs_percent=98.0, length_m=2.0, f_max_hz=30e9, f_step_hz=20e6)
    for key, value in expected.to_dict().items():
        assert spec[key] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), key
