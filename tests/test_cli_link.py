"""`accbench link` and `accbench reach` as a user runs them."""

from __future__ import annotations

import json

import pytest
from scipy.special import erfc

from .conftest import TOUCHSTONE
from .test_cli import assert_cli_error, run

LINK_KEYS = {"baud", "mode", "symbols", "ser", "ber", "errors", "eye_height", "eye_width_ui", "margin_db", "ctle",
             "ffe_taps", "power_w"}
REACH_KEYS = {"reach_m", "required_m", "pass", "margin_db", "power_w", "power_pass"}


def test_link_json_contract_for_a_wire():
    proc = run("link", "--awg", "26", "--length-m", "3", "--baud", "106.25G", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert LINK_KEYS <= data.keys()
    assert data["mode"] == "stat" and data["ber"] < 2.4e-4 and data["ctle"]["searched"]
    assert data["config"]["snr_tx_db"] == 33.5 and data["config"]["eta0_v2_per_ghz"] == 7.5e-9
    assert len(data["ffe_taps"]) == 8


def test_link_ideal_time_mode_matches_analytic(tmp_path):
    eye = tmp_path / "eye.png"
    proc = run("link", "--ideal", "--noise-rms", "0.1", "--mode", "time", "--symbols", "2000000", "--json",
               "--eye", str(eye))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    expected = 0.75 * erfc((1 / 3) / (0.1 * 2**0.5))
    assert data["ser"] == pytest.approx(expected, rel=0.1)
    assert data["errors"] > 500 and data["symbols"] >= 2_000_000
    assert eye.read_bytes()[:4] == b"\x89PNG"


def test_link_measured_file_with_crosstalk_table():
    proc = run("link", str(TOUCHSTONE / "CA_19p75dB_thru.s4p"), "--baud", "53.125G",
               "--next", str(TOUCHSTONE / "CA_19p75dB_next1.s4p"), "--fext", str(TOUCHSTONE / "CA_19p75dB_fext1.s4p"))
    assert proc.returncode == 0, proc.stderr
    assert "Link margin" in proc.stdout and "pJ/bit" in proc.stdout


@pytest.mark.slow
def test_reach_json_contract():
    proc = run("reach", "--awg", "26", "--carbon-mg-m2", "80", "--baud", "106.25G", "--required-m", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert REACH_KEYS <= data.keys()
    assert data["pass"] and data["reach_m"] >= 3.0 and data["power_pass"]


@pytest.mark.slow
def test_reach_of_a_measured_file_needs_its_length():
    path = str(TOUCHSTONE / "CA_19p75dB_thru.s4p")
    proc = run("reach", path, "--baud", "53.125G")
    assert proc.returncode == 2 and "--measured-length-m" in proc.stderr
    ok = run("reach", path, "--baud", "53.125G", "--measured-length-m", "2", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["reach_m"] > 2.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["link", "--ideal", "--pattern", "PRBS8"], "unknown pattern"),
        (["link", "--ideal", "--pattern", "SSPRQ"], "pattern-file"),
        (["link", "--awg", "26", "--baud", "300G"], "1..200 GBd"),
        (["link", "--ideal", "--mode", "time", "--symbols", "0"], "use >= 1"),
        (["link", "missing.s4p"], "no such file"),
        (["link", "--ideal", "--awg", "26"], "exactly one channel"),
        (["link"], "exactly one channel"),
        (["link", "--awg", "26", "--ffe", "x"], "--ffe"),
        (["reach", "--awg", "26", "--required-m", "-1"], "--required-m"),
        (["link", "--awg", "26", "--target-ber", "2"], "--target-ber"),
    ],
)
def test_link_bad_input_exit_2_one_line(args, needle):
    assert_cli_error(run(*args), needle)


def test_link_oversampled_mode_with_prbs():
    proc = run("link", "--awg", "26", "--length-m", "5.15", "--mode", "time-os", "--symbols", "300000",
               "--pattern", "PRBS13Q", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["mode"] == "time-os" and data["symbols"] >= 300_000 and data["errors"] > 0


def test_link_host_channels_from_files_and_tx_ffe():
    host = str(TOUCHSTONE / "DPO_4in_Meg7_THRU.s4p")
    base = json.loads(run("link", "--awg", "26", "--length-m", "2", "--baud", "53.125G", "--json").stdout)
    proc = run("link", "--awg", "26", "--length-m", "2", "--baud", "53.125G", "--host-tx-file", host,
               "--host-rx-file", host, "--tx-ffe", "0,-0.1,0.8,-0.1", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["config"]["extra"]["host_tx_file"] == host and data["config"]["tx_ffe"] == [0, -0.1, 0.8, -0.1]
    assert data["margin_db"] < base["margin_db"] - 1.0  # two 12 dB backplane hosts cost margin
    bad = run("link", "--awg", "26", "--tx-ffe", "0,-0.5,1,0")
    assert bad.returncode == 2 and "802.3dj limits" in bad.stderr
