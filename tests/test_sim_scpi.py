"""The simulated instruments' SCPI engine against the SCPI/IEEE 488.2 rules, with blocks decoded by pyvisa."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.sim.scpi import ScpiEngine, channel_list, compile_header, number, split_params
from accbench.sim.twin import SimBench
from pyvisa import util


@pytest.fixture
def engine() -> ScpiEngine:
    state = {}
    e = ScpiEngine(static=lambda unit: "ACME,X1,0,1" if unit.strip().upper() == "*IDN?" else None)
    e.add("SENSe#:FREQuency:STARt", lambda p, s: state.__setitem__(s[0], number(p[0], 1e3, 67e9, "HZ")),
          lambda p, s: f"{state.get(s[0], 1e7):.12g}")
    e.add("SENSe#:FREQuency:STOP", lambda p, s: state.__setitem__(-s[0], number(p[0])), lambda p, s: "0")
    e.add("CALCulate#:DATA", query=lambda p, s: e.data(np.array([1.5, -2.25, 3e9])))
    return e


def test_short_long_forms_suffixes_and_case(engine):
    for header in ("SENS2:FREQ:STAR 1GHz", "sense2:frequency:start 1e9", ":Sens2:Freq:Star 1000MHZ"):
        engine.execute(header)
        assert engine.execute("SENS2:FREQ:STAR?") == "1000000000"
    engine.execute("SENS:FREQ:STAR 2e9")  # no suffix means 1
    assert engine.execute("SENSe1:FREQuency:STARt?") == "2000000000"
    assert engine.execute("SYST:ERR?") == '+0,"No error"'


def test_compound_messages_and_relative_paths(engine):
    assert engine.execute("SENS3:FREQ:STAR 5e9;STOP 6e9;:SENS3:FREQ:STAR?;*IDN?") == b"5000000000;ACME,X1,0,1"
    engine.execute("SENS3:FREQ:STAR 1e9;STAR?")  # relative to SENS3:FREQ
    assert engine.execute("SYST:ERR?") == '+0,"No error"'


@pytest.mark.parametrize(("message", "code"), [
    ("SENS:FREQU:STAR 1", -113),  # neither short nor long form
    ("SENS:FREQ:STAR 1e12", -222),
    ("SENS:FREQ:STAR abc", -104),
    ("BOGUS?", -113),
    ("SENS:FREQ:STAR 'x", -102),
])
def test_errors_use_standard_codes_and_esr_bits(engine, message, code):
    engine.execute(message)
    reply = engine.execute("SYST:ERR?")
    assert reply.startswith(f"{code},"), reply
    bit = 32 if code > -200 else 16
    assert int(engine.execute("*ESR?")) & bit and engine.execute("*ESR?") == "0"  # read clears
    assert engine.execute("SYST:ERR?") == '+0,"No error"'


def test_error_queue_overflow_and_cls(engine):
    for _ in range(40):
        engine.execute("BOGUS")
    assert engine.execute("SYST:ERR:COUN?") == "30"
    codes = [engine.execute("SYST:ERR?").split(",")[0] for _ in range(30)]
    assert codes[-1] == "-350" and engine.execute("SYST:ERR?").startswith("+0")
    engine.execute("BOGUS;*CLS")
    assert engine.execute("SYST:ERR?").startswith("+0") and engine.execute("*OPC?") == "1"


@pytest.mark.parametrize("big_endian", [True, False])
def test_real64_blocks_in_both_byte_orders_and_ascii(engine, big_endian):
    assert engine.execute("CALC:DATA?") == "1.5,-2.25,3000000000"
    engine.execute(f"FORM:DATA REAL,64;:FORM:BORD {'NORM' if big_endian else 'SWAP'}")
    block = engine.execute("CALC:DATA?")
    values = util.from_ieee_block(block, datatype="d", is_big_endian=big_endian)
    assert list(values) == [1.5, -2.25, 3e9]
    assert engine.execute("FORM?") == "REAL,64"


def test_helpers():
    assert split_params("'a,b', 2,(@1,2)") == ["'a,b'", "2", "(@1,2)"]
    assert channel_list("(@1:3)") == [1, 2, 3] and channel_list("(@2,4)") == [2, 4]
    assert compile_header("FORMat[:DATA]").match("FORM") and compile_header("FORMat[:DATA]").match("FORMAT:DATA")
    assert number("10MHz") == 10e6 and number("500mA") == 0.5 and number("-5dBm") == -5


def test_identity_comes_from_the_pyvisa_sim_yaml_and_sim_dut_selects():
    bench = SimBench()
    vna = bench.instrument("vna-pna")
    assert vna.handle("*IDN?").reply.startswith(b"Keysight Technologies,N5247B")
    assert vna.handle("SIM:DUT?").reply == b'"SIM-0001",1'
    vna.handle("SIM:DUT 'nope'")
    assert vna.handle("SYST:ERR?").reply.startswith(b"-224")
    assert bench.instrument("bert-mp1900").handle("*IDN?").reply.startswith(b"ANRITSU,MP1900A")
