"""`accbench identify` and `accbench measure` through pyvisa-py to a SCPI peer on 127.0.0.1."""

from __future__ import annotations

import json

import numpy as np
import pytest
from accbench.dsp import read_touchstone

from .scpi_peer import ScpiPeer
from .test_cli import assert_cli_error, run
from .test_instruments_transport import FakeN6705, FakePna


def test_identify_and_measure_power():
    with ScpiPeer(FakeN6705()) as peer:
        ident = json.loads(run("identify", "--resource", peer.resource, "--backend", "@py", "--json").stdout)
        assert ident["idn"]["model"] == "N6705C" and ident["dialect"] == "keysight-n6705"
        proc = run("measure", "power", "--resource", peer.resource, "--backend", "@py", "--channels", "1,2",
                   "--volts", "3.3", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [c["channel"] for c in data["channels"]] == [1, 2]
    assert data["total_w"] == pytest.approx(2 * 3.3 * 0.5)


def test_measure_sparams_writes_touchstone(tmp_path):
    fake = FakePna(101)
    out = tmp_path / "cable.s4p"
    with ScpiPeer(fake) as peer:
        proc = run("measure", "sparams", "--resource", peer.resource, "--backend", "@py", "--start", "10M",
                   "--stop", "20G", "--points", "101", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["points"] == 101 and data["start_hz"] == 10e6 and data["idn"]["model"] == "N5247B"
    network = read_touchstone(out)
    np.testing.assert_allclose(network.s, fake.s, rtol=1e-9)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["identify", "--resource", "TCPIP::127.0.0.1::1::SOCKET", "--backend", "@py", "--timeout-s", "0.5"],
         "cannot"),
        (["measure", "power", "--resource", "X", "--backend", "@py", "--channels", "a"], "--channels"),
        (["measure", "sparams", "--resource", "X", "--start", "2G", "--stop", "1G", "-o", "x.s4p"], "start < stop"),
    ],
)
def test_bench_commands_bad_input_exit_2(args, needle):
    assert_cli_error(run(*args), needle)


def test_wrong_kind_of_instrument_is_named():
    with ScpiPeer(FakeN6705()) as peer:
        proc = run("measure", "sparams", "--resource", peer.resource, "--backend", "@py", "-o", "x.s4p")
    assert proc.returncode == 2 and "is a power, not a vna" in proc.stderr
