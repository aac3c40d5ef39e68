"""Drivers through a real transport: pyvisa-py to a SCPI peer on 127.0.0.1 (binary blocks,
terminations, reconnects)."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.instruments import open_instrument
from accbench.instruments.power import KeysightN6705C
from accbench.instruments.vna import PARAMS, SweepSettings

from accbench.errors import ConnectionLost, InstrumentError

from .scpi_peer import ScpiPeer
from .scpi_scripted import block


class FakeN6705:
    """Just enough of an N6705C: rails with set voltage and a 0.5 A load."""

    def __init__(self):
        self.volts = {}
        self.on = {}
        self.errors = []

    def __call__(self, command: str):
        if command == "*IDN?":
            return "Keysight Technologies,N6705C,MY56001234,D.04.03"
        if command == "SYST:ERR?":
            return self.errors.pop(0) if self.errors else '+0,"No error"'
        if command.startswith("SYST:CHAN:MOD?"):
            return "N6762A"
        head, _, arg = command.partition(" ")
        ch = int(arg.split("@")[1].rstrip(")")) if "@" in arg else 0
        if head == "SOUR:VOLT":
            value = float(arg.split(",")[0])
            if value > 20:
                self.errors.append('-222,"Data out of range"')
            self.volts[ch] = value
        if head == "MEAS:VOLT?":
            return f"{self.volts.get(ch, 0.0):+.5E}"
        if head == "MEAS:CURR?":
            return "+5.00000E-01"
        if head == "STAT:QUES:COND?":
            return "0"
        if head == "OUTP":  # OUTPut[:STATe] ON|OFF,(@chanlist)
            self.on[ch] = arg.split(",")[0].upper() in ("ON", "1")
        if head == "OUTP?":
            return "1" if self.on.get(ch) else "0"
        return None


def test_power_analyzer_over_pyvisa_py_socket():
    fake = FakeN6705()
    with ScpiPeer(fake) as peer:
        supply = open_instrument(peer.resource, backend="@py", timeout_s=2.0)
        assert isinstance(supply, KeysightN6705C)
        supply.power_up([1, 2], 3.3)
        reading = supply.measure([1, 2])
        assert reading.total_w == pytest.approx(2 * 3.3 * 0.5)
        supply.errors()  # empty queue
        with pytest.raises(InstrumentError, match="-222"):
            supply.configure("SOUR:VOLT 30,(@1)")
        supply.close()
    assert "SOUR:VOLT 3.3,(@1)" in peer.received


def test_dropped_connection_is_recovered_and_settings_reapplied():
    fake = FakeN6705()
    with ScpiPeer(fake, drop_after=12) as peer:
        supply = open_instrument(peer.resource, backend="@py", timeout_s=1.0)  # *IDN? + SYST:CHAN:MOD? (@1)..(@4)
        supply.reconnect = type(supply.reconnect)(attempts=2, pause_s=0.05)
        supply.set_voltage(1, 5.0)  # + SOUR:VOLT + SYST:ERR? = 7 commands
        supply.set_current_limit(1, 1.0)  # an N6762A: SOUR:CURR is its limit
        supply.output(1, True)  # 11 commands so far; the 12th (MEAS) is dropped
        assert supply.measure_voltage(1) == pytest.approx(5.0)
        supply.close()
    after_drop = peer.received[12:]
    assert after_drop[:3] == ["SOUR:VOLT 5,(@1)", "SOUR:CURR 1,(@1)", "OUTP ON,(@1)"]


def test_unreachable_resource_is_connection_lost():
    with ScpiPeer(FakeN6705()) as peer:
        port = peer.port
    with pytest.raises(ConnectionLost, match=r"cannot (open|reach)"):
        open_instrument(f"TCPIP::127.0.0.1::{port}::SOCKET", backend="@py", timeout_s=0.5)


class FakePna:
    """A Keysight PNA answering a 4-port sweep with binary REAL,64 little-endian blocks."""

    def __init__(self, points: int):
        self.points = points
        self.freq = np.linspace(10e6, 20e9, points)
        rng = np.random.default_rng(1)
        self.s = rng.normal(size=(points, 4, 4)) + 1j * rng.normal(size=(points, 4, 4))
        self.defs = {}

    def __call__(self, command: str):
        if command == "*IDN?":
            return "Keysight Technologies,N5247B,MY123,A.15.10.06"
        if command == "SYST:ERR?":
            return '+0,"No error"'
        if command == "SENS1:SWE:TIME?":
            return "+5.0E-02"
        if command == "*OPC?":
            return "1"
        if command == "CALC1:MEAS1:X?":
            return block(self.freq)
        if command.startswith("CALC1:MEAS") and " DEF " not in command and command.endswith(":DEF") is False \
                and "DEF" in command:
            n = int(command[len("CALC1:MEAS"):].split(":")[0])
            self.defs[n] = command.split('"')[1]
            return None
        if command.endswith(":DATA:SDATA?"):
            n = int(command[len("CALC1:MEAS"):].split(":")[0])
            i, j = int(self.defs[n][1]), int(self.defs[n][2])
            inter = np.empty(2 * self.points)
            inter[0::2] = self.s[:, i - 1, j - 1].real
            inter[1::2] = self.s[:, i - 1, j - 1].imag
            return block(inter)
        return None


def test_vna_sweep_over_pyvisa_py_socket(tmp_path):
    fake = FakePna(201)
    with ScpiPeer(fake) as peer:
        vna = open_instrument(peer.resource, backend="@py", timeout_s=2.0, log=True)
        result = vna.measure_sparams(SweepSettings(10e6, 20e9, 201, 1000))
        path = result.to_touchstone(tmp_path / "cable.s4p")
        vna.close()
    np.testing.assert_array_equal(result.network.f, fake.freq)
    np.testing.assert_array_equal(result.network.s, fake.s)
    assert len(fake.defs) == 16 and {v for v in fake.defs.values()} == {f"S{i}{j}" for i, j in PARAMS}
    assert any(e.text.startswith("<block") for e in vna.log)
    import skrf as rf

    assert rf.Network(str(path)).frequency.npoints == 201
