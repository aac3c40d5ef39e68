"""`accbench measure ber` and the simulated bench from the command line: the embedded default,
the socket server as a real process reached by pyvisa-py, and their bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from accbench.instruments import open_instrument
from accbench.instruments.bert import BerSettings

from .test_cli import assert_cli_error, run

BER_KEYS = {"bits", "errors", "symbols", "symbol_errors", "ber", "ser", "ber_upper_95"}


def test_measure_ber_on_the_embedded_simulated_bench():
    proc = run("measure", "ber", "--baud", "53.125G", "--pattern", "PRBS13Q", "--seconds", "10", "--json",
               "--sim-dut", "awg=26,length_m=5,carbon_mg_m2=160")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert BER_KEYS <= data.keys()
    assert data["bits"] == 1_062_500_000_000 and data["symbols"] == 531_250_000_000
    assert 1e-5 < data["ber"] < 1e-3 and data["ber_upper_95"] > data["ber"]
    assert data["ser"] == pytest.approx(data["symbol_errors"] / data["symbols"])


@pytest.fixture(scope="module")
def sim_server():
    """`accbench sim-server` as a real process on free ports; stopped with SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "accbench", "sim-server", "--base-port", "0", "--dut",
                             "serial=S1,awg=26,length_m=3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    resources = {}
    for _ in range(3):
        role, resource = proc.stdout.readline().split()
        resources[role] = resource
    yield resources
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert "stopped" in proc.stderr.read()


def test_measure_ber_through_the_socket_server(sim_server):
    proc = run("measure", "ber", "--resource", sim_server["bert"], "--backend", "@py", "--baud", "53.125G",
               "--seconds", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert BER_KEYS <= data.keys() and data["idn"]["model"] == "M8040A" and data["errors"] == 0
    assert data["ber_upper_95"] == pytest.approx(2.9957 / data["bits"], rel=1e-3)


def test_several_clients_at_a_time(sim_server):
    first = open_instrument(sim_server["bert"], "@py", timeout_s=5)
    second = open_instrument(sim_server["bert"], "@py", timeout_s=5)
    a = first.measure_ber(BerSettings(53.125e9, "PRBS31Q", 1.0))
    b = second.measure_ber(BerSettings(53.125e9, "PRBS31Q", 1.0))
    assert a.bits == b.bits == 106_250_000_000
    first.close()
    second.close()


@pytest.mark.parametrize(("args", "needle"), [
    (["measure", "ber", "--pattern", "PRBS12"], "PRBS12"),
    (["measure", "ber", "--pattern", "SSPRQ"], "--pattern-file"),
    (["measure", "ber", "--sim-dut", "awg=26,length_m=12", "--sync-timeout-s", "0.3"], "auto-alignment ended FAILED"),
    (["measure", "ber", "--baud", "106.25G"], "M8040A runs PAM4 at 2-64.8 GBd"),
    (["measure", "ber", "--pattern", "PRBS7"], "does not accept PRBS7"),
    (["measure", "ber", "--location", "ed_module=5"], "unknown location ed_module"),
    (["measure", "ber", "--location", "analyzer"], "--location 'analyzer': write key=value"),
    (["measure", "ber", "--sim-dut", "colour=red"], "--sim-dut: cable description 'colour=red'"),
    (["measure", "ber", "--resource", "TCPIP::127.0.0.1::1::SOCKET", "--backend", "@py", "--timeout-s", "0.5"],
     "cannot"),
    (["sim-server", "--faults", "vna.melt"], "unknown fault"),
    (["sim-server", "--base-port", "70000"], "--base-port"),
])
def test_bad_input_exit_2(args, needle):
    assert_cli_error(run(*args), needle)


def test_identify_prints_the_models_capabilities():
    data = json.loads(run("identify", "--resource", "TCPIP0::accbench-sim::bert::INSTR", "--json").stdout)
    cap = data["capabilities"]
    assert data["idn"]["model"] == "M8040A" and cap["pam4_gbd_range"] == [2.0, 64.8]
    assert "PRBS7" not in cap["analyzer_patterns"] and cap["locations"]["analyzer"] == "M2.DataIn"
    assert "p. 277" in cap["sources"]["rate"]
    text = run("identify", "--resource", "TCPIP0::accbench-sim::power::INSTR").stdout
    assert "channel 1 N6781A, channel 2 N6762A" in text and "CURR:LIM on N678xA SMUs only" in text
