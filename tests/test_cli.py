"""The CLI as a user runs it: real processes, JSON contract, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from accbench.dsp import read_touchstone

from .conftest import TOUCHSTONE

CA = str(TOUCHSTONE / "CA_19p75dB_thru.s4p")
JSON_KEYS = {"file", "baud", "nyquist_hz", "port_map", "il_db", "il_fitted_db", "ild_rms_db", "ild_peak_db",
             "fom_ild_db", "rl_db", "scd21_db", "delay_s", "passive", "causality_percent", "usable_bw_hz",
             "mask_margin_db", "icn_mv"}


def assert_cli_error(proc: subprocess.CompletedProcess, needle: str) -> None:
    """Bad input: exit 2 and one 'accbench: error:' line naming the problem, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("accbench: error:") and needle in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accbench", *args], capture_output=True, text=True, timeout=120)


def test_analyze_json_contract():
    proc = run("analyze", CA, "--baud", "53.125G", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert JSON_KEYS <= data.keys()
    assert data["nyquist_hz"] == 26.5625e9 and data["baud"] == 53.125e9
    assert data["il_db"] == pytest.approx(19.74, abs=0.05)
    assert data["port_map"]["thru"] == "1-2,3-4"
    assert data["mask_margin_db"] is None and data["icn_mv"] is None


def test_analyze_table_mask_crosstalk_and_plot(tmp_path):
    png = tmp_path / "ca.png"
    proc = run("analyze", CA, "--mask", "ieee802.3ck-ca", "--next", str(TOUCHSTONE / "CA_19p75dB_next1.s4p"),
               "--fext", str(TOUCHSTONE / "CA_19p75dB_fext1.s4p"), "--plot", str(png), "--thru", "1-2,3-4")
    assert proc.returncode == 0, proc.stderr
    assert "IL at Nyquist" in proc.stdout and "19.74 dB" in proc.stdout
    assert "ICN" in proc.stdout and "margin" in proc.stdout
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


def test_synth_then_analyze(tmp_path):
    out = tmp_path / "cable.s4p"
    proc = run("synth", "--awg", "26", "--length-m", "3", "--carbon-mg-m2", "80", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    network = read_touchstone(out)
    assert network.frequency.npoints == 6001 and network.f[-1] == pytest.approx(60e9)
    assert np.diff(network.f).max() <= 10e6 + 1
    result = json.loads(run("analyze", str(out), "--baud", "106.25G", "--json").stdout)
    assert result["port_map"]["thru"] == "1-3,2-4"
    assert result["il_db"] == pytest.approx(info["il_db_at_53.125ghz"], abs=0.01)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["analyze", "missing.s4p"], "no such file"),
        (["analyze", CA, "--baud", "500G"], "1..200 GBd"),
        (["analyze", CA, "--baud", "fast"], "not a number"),
        (["analyze", CA, "--mask", "nope"], "unknown mask"),
        (["analyze", CA, "--thru", "1-2"], "--thru"),
        (["analyze", str(TOUCHSTONE / "P1TX1_P2RX1.s4p"), "--baud", "106.25G"], "band short of Nyquist"),
        (["analyze", str(TOUCHSTONE / "CABLE1_TX_pair.s4p")], "usable band"),
        (["analyze", CA, "--deembed", "missing-2x.s4p"], "no such file"),
        (["analyze"], "Missing argument"),
        (["synth", "-o", "x.s4p", "--awg", "26", "--length-m", "-2"], "length"),
        (["synth", "-o", "x.s4p", "--awg", "26", "--carbon-model", "magic"], "carbon mechanism"),
        (["synth", "-o", "x.s4p"], "--awg"),
    ],
)
def test_bad_input_exit_2_one_line(args, needle, tmp_path):
    assert_cli_error(run(*args), needle)


@pytest.mark.parametrize(
    ("content", "needle"),
    [("# GHz S RI R 50\n1 0.1 0.2 0.3\n", "truncated"),
     ("# GHz S RI R 50\n1 0.1 oops " + "0 " * 31 + "\n", "garbled"),
     ("# GHz S RI R 50\n" + "".join(f"{k} " + "nan " * 32 + "\n" for k in (1, 2)), "not finite")],
)
def test_bad_files_exit_2(tmp_path, content, needle):
    path = tmp_path / "bad.s4p"
    path.write_text(content)
    proc = run("analyze", str(path))
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


def test_version_and_help():
    assert run("--version").returncode == 0
    proc = run("analyze", "--help")
    assert proc.returncode == 0 and "--thru" in proc.stdout
