"""The simulated instruments as referees: each rejects, with the standard SCPI error, what the
real model rejects according to the vendor's documents (raw SCPI, no driver involved), and the
drivers now pass where the earlier ones would have failed on a real bench."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.instruments import open_instrument
from accbench.instruments.bert import BerSettings
from accbench.instruments.vna import SweepSettings
from accbench.sim.faults import FaultPlan
from accbench.sim.registry import backend_for, register, unregister
from accbench.sim.server import SimServer
from accbench.sim.twin import SimBench, parse_dut
from accbench.sim.visa import RESOURCES

from accbench.errors import InputError, InstrumentError

DUT = parse_dut("serial=R1,awg=26,length_m=3")
OTHER = parse_dut("serial=R2,awg=30,length_m=5")


def _scpi(bench: SimBench, device: str, *messages: str) -> list[str]:
    """Send raw messages to a simulated instrument; the replies, then every queued error."""
    inst = bench.instrument(device)
    out = []
    for message in messages:
        reply = inst.handle(message).reply
        if reply is not None:
            out.append(reply.decode(errors="replace") if len(reply) < 200 else f"<{len(reply)} bytes>")
    while (err := inst.handle("SYST:ERR?").reply.decode()) != '+0,"No error"':
        out.append(err)
    return out


@pytest.mark.parametrize(("device", "messages", "code"), [
    # M8040A: 64.8 GBd top (M8000 UG p. 277), NONE not UNC (PG p. 490), no PRBS 2^7-1 on the analyzer
    # (UG p. 358), the M8046A input has no channel suffix (PG p. 490), coding of both generator channels at once
    ("bert-m8040", [":SOUR:FREQ 'M1.ClkGen',106.25e9"], -222),
    ("bert-m8040", [":DATA:LIN:PAM4:MAPP 'M2.DataIn',UNC"], -224),
    ("bert-m8040", [":DATA:SEQ:SET 'M2.DataIn',PRBS,'2^7-1'"], -224),
    ("bert-m8040", [":STAT:INST:SLOS? 'M1.DataIn1'"], -224),
    ("bert-m8040", [":DATA:LIN 'M1.DataOut1',PAM4"], -221),
    # MP1900A: a PAM4 command while the modulation is NRZ; a PPG command to the ED's slot
    ("bert-mp1900", [":UENT:ID 1;:MOD:ID 7;:OUTP:PAM4:SRAT 53.125"], -221),
    ("bert-mp1900", [":UENT:ID 1;:MOD:ID 5;:SOUR:MOD:TYPE PAM4"], -113),
    ("bert-mp1900", [":UENT:ID 1;:MOD:ID 7;:SOUR:MOD:TYPE PAM4;:OUTP:PAM4:SRAT 106.25"], -222),
    # PNA: CALC:PAR:DEL:ALL takes no channel suffix; E5080B has no SENS:X?; beyond 67 GHz on the N5247B
    ("vna-pna", ["CALC1:PAR:DEL:ALL"], -113),
    ("vna-e5080b", ["SENS1:X?"], -113),
    ("vna-pna", ["SENS1:FREQ:STOP 70e9"], -222),
    ("vna-pna", ['CALC1:MEAS1:DEF "S11"', 'CALC1:MEAS1:DEF "S21"'], -221),
    # ZNA: INIT:IMM only in single sweep mode
    ("vna-zna", ["INIT1:IMM"], -221),
    # N6705C: CURR:LIM only on the N678xA SMU (channel 1), not the N6762A (channel 2); ratings; empty slot
    ("power-n6705", ["SOUR:CURR:LIM 1,(@2)"], -221),
    ("power-n6705", ["SOUR:VOLT 30,(@1)"], -222),
    ("power-n6705", ["SOUR:VOLT 3.3,(@3)"], -222),
    ("power-n6705", ["SENS:SWE:TINT 5.12e-6,(@2)"], -222),
])
def test_the_twin_rejects_what_the_real_model_rejects(device, messages, code):
    out = _scpi(SimBench([DUT]), device, *messages)
    assert any(line.startswith(f"{code:+d},") for line in out), out


def test_the_twin_accepts_the_documented_forms():
    bench = SimBench([DUT])
    assert _scpi(bench, "bert-m8040", ":SOUR:FREQ 'M1.ClkGen',53.125e9",
                 ":DATA:LIN 'M1.DataOut1',PAM4;:DATA:LIN 'M1.DataOut2',PAM4",
                 ":DATA:LIN:PAM4:MAPP 'M2.DataIn',NONE", ":DATA:SEQ:SET 'M1.DataOut1',PRBS,'2^7-1'") == []
    assert _scpi(bench, "power-n6705", "SYST:CHAN:MOD? (@1:4)", "SOUR:CURR 1,(@2)", "SOUR:CURR:LIM 1,(@1)") == [
        "N6781A,N6762A,Not Present,Not Present"]
    # the PNA still has the superseded SENS:X?
    assert _scpi(bench, "vna-pna", "SENS1:SWE:POIN 3", "SENS1:X?") == ["10000000,33505000000,67000000000"]


@pytest.fixture
def embedded():
    """Register simulated benches in-process for a test; ``embedded.backend`` opens the last one."""
    installed = []

    def install(bench: SimBench) -> SimBench:
        installed.append(register(bench))
        install.backend = backend_for(installed[-1])
        return bench

    yield install
    for name in installed:
        unregister(name)


@pytest.mark.parametrize(("left", "role"), [("MAN", "vna"), ("EXT", "vna")])
def test_a_vna_left_on_manual_or_external_trigger_still_sweeps(embedded, left, role):
    """Left on MANual the old driver read unswept zeros, on EXTernal it timed out; TRIG:SOUR IMM mends both."""
    for model in ("N5247B", "ZNA67"):
        bench = embedded(SimBench([DUT], seed=3, vna_model=model, left_over={"vna.trigger": left}))
        vna = open_instrument(RESOURCES[role], embedded.backend, timeout_s=1.0)
        net = vna.measure_sparams(SweepSettings(10e6, 40e9, 101, 1e3)).network
        np.testing.assert_allclose(net.s, bench.sparameters(10e6, 40e9, 101), atol=1e-3)


def test_averages_of_the_previous_cable_are_cleared(embedded):
    """A running average carries earlier sweeps (the previous cable) until SENS:AVER:CLE restarts it."""
    bench = embedded(SimBench([DUT, OTHER], seed=3))
    vna = open_instrument(RESOURCES["vna"], embedded.backend)
    settings = SweepSettings(10e6, 40e9, 101, 1e3, averages=4)
    vna.measure_sparams(settings)
    bench.select("R2")
    s = vna.measure_sparams(settings).network.s
    np.testing.assert_allclose(s, bench.sparameters(10e6, 40e9, 101), atol=1e-3)


@pytest.mark.parametrize("kind", ["in-process", "socket"])
def test_a_reboot_during_the_data_reads_repeats_the_sweep(embedded, kind):
    """The instrument reboots at a data query (its measurements gone); the driver re-opens and runs the
    whole sweep again: right data, never unswept zeros of the right length."""
    bench = SimBench([DUT], seed=3, faults=FaultPlan("vna.reboot@61", 3))
    if kind == "in-process":
        embedded(bench)
        vna = open_instrument(RESOURCES["vna"], embedded.backend, timeout_s=1.0, log=True)
        net = vna.measure_sparams(SweepSettings(10e6, 40e9, 101, 1e3)).network
    else:
        with SimServer(bench, base_port=0) as server:
            vna = open_instrument(server.resource("vna"), "@py", timeout_s=1.0, log=True)
            net = vna.measure_sparams(SweepSettings(10e6, 40e9, 101, 1e3)).network
    assert bench.faults.faults[0].fired == 1
    np.testing.assert_allclose(net.s, bench.sparameters(10e6, 40e9, 101), atol=1e-3)
    sweeps = [e for e in vna.log if e.text == "SENS1:SWE:MODE SING"]
    assert len(sweeps) == 2 and any(e.direction == "!" for e in vna.log)


def test_gates_that_take_their_time_give_full_counts(embedded):
    """The ERATio gate runs after STARt (*OPC? does not wait for it): polling the run state gives the
    whole gate's counts where *OPC? alone fetched partial ones."""
    embedded(SimBench([DUT], seed=3, time_scale=0.2))
    bert = open_instrument(RESOURCES["bert"], embedded.backend, log=True)
    result = bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 0.5))
    assert result.bits == 53_125_000_000
    polls = [e for e in bert.log if e.text.startswith(":PLUG:ERAT:RUN?")]
    assert len(polls) > 1  # it was seen running, then idle
    assert any(e.text.startswith(":INP:ALIG:EYE:AUTO") for e in bert.log)


def test_the_analyzer_location_comes_from_the_bench(embedded):
    """An M8046A in module 3: the guide's default 'M2.DataIn' is refused by the instrument (-224);
    the bench's location works."""
    layout = {"m8040": {"M1": "M8045A", "M3": "M8046A"}}
    bench = embedded(SimBench([DUT], seed=3, layout=layout))
    with pytest.raises(InstrumentError, match=r"-224.*'M2.DataIn' is not a"):
        open_instrument(RESOURCES["bert"], embedded.backend).measure_ber(BerSettings(53.125e9, "PRBS13Q", 0.1))
    bert = open_instrument(RESOURCES["bert"], embedded.backend, locations=bench.bert_locations())
    assert bert.locations["analyzer"] == "M3.DataIn"
    assert bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 0.1)).bits == 10_625_000_000


def test_mp1900_slots_come_from_the_bench(embedded):
    layout = {"mp1900": {3: "MU196020A", 6: "MU196040B"}}
    bench = embedded(SimBench([DUT], seed=3, bert_model="MP1900A", layout=layout))
    with pytest.raises(InputError, match="PPG slot is not known"):
        open_instrument(RESOURCES["bert"], embedded.backend).measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0))
    wrong = open_instrument(RESOURCES["bert"], embedded.backend, locations={"ppg_module": 1, "ed_module": 2})
    with pytest.raises(InstrumentError, match=r"-113.*no MU196020A in slot 1"):
        wrong.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0))
    right = open_instrument(RESOURCES["bert"], embedded.backend, locations=bench.bert_locations())
    assert right.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0)).bits == 106_250_000_000


def test_e5080b_n6762a_and_both_berts_over_a_real_transport():
    """pyvisa-py to the twin's socket server: the E5080B (no SENS:X?), the N6762A module (CURR, not
    CURR:LIM), the M8040A and the MP1900A (slots from the bench)."""
    for vna_model, bert_model in (("E5080B", "M8040A"), ("N5247B", "MP1900A")):
        bench = SimBench([DUT], seed=7, vna_model=vna_model, bert_model=bert_model,
                         layout={"n6705": ("N6762A", "N6762A")})
        with SimServer(bench, base_port=0) as server:
            vna = open_instrument(server.resource("vna"), "@py", timeout_s=5)
            assert vna.identity.model == vna_model
            net = vna.measure_sparams(SweepSettings(10e6, 40e9, 201, 1e3)).network
            np.testing.assert_allclose(net.s, bench.sparameters(10e6, 40e9, 201), atol=1e-3)
            bert = open_instrument(server.resource("bert"), "@py", timeout_s=5, locations=bench.bert_locations())
            assert bert.identity.model == bert_model
            assert bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0)).bits == 106_250_000_000
            supply = open_instrument(server.resource("power"), "@py", timeout_s=5, log=True)
            supply.power_up([1, 2], 3.3, current_limit_a=1.0)
            assert supply.measure([1, 2], points=128).total_w == pytest.approx(bench.cable_watts(), rel=5e-3)
            assert "SOUR:CURR 1,(@1)" in [e.text for e in supply.log]
