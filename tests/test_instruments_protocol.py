"""Driver protocol tests: the exact exchange of each dialect against a scripted peer whose every
command the dialect reference documents (``instruments/dialects``)."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.instruments.base import VI_ERROR_CONN_LOST, VI_ERROR_TMO, Identity, Instrument
from accbench.instruments.power import KeysightN6705C, OverCurrentError
from accbench.instruments.registry import driver_for
from accbench.instruments.vna import PARAMS, KeysightPna, RsZna, SweepSettings
from pyvisa.errors import VisaIOError

from accbench.errors import ConnectionLost, InputError, InstrumentError, InstrumentTimeout

from .scpi_scripted import NO_ERROR, ScriptedResource, block, configured

PNA_ID = Identity("Keysight Technologies", "N5247B", "MY123", "A.15.10.06")
E5080_ID = Identity("Keysight Technologies", "E5080B", "MY59100123", "A.17.20.09")
ZNA_ID = Identity("Rohde-Schwarz", "ZNA43-4Port", "1332.4500K44/100123", "2.70")
N6705_ID = Identity("Keysight Technologies", "N6705C", "MY56001234", "D.04.03")


def test_idn_parsing_and_dialect_choice():
    ident = Identity.parse("Keysight Technologies,E5080B,MY59100123,A.13.20.03\n")
    assert ident.model == "E5080B" and ident.serial == "MY59100123" and ident.firmware == "A.13.20.03"
    assert driver_for(ident) is KeysightPna
    assert driver_for(ZNA_ID) is RsZna and driver_for(N6705_ID) is KeysightN6705C
    with pytest.raises(InstrumentError, match=r"unsupported model .* supported: keysight-pna"):
        driver_for(Identity("Tektronix", "DPO70000", "x", "1"))
    assert driver_for(Identity("Acme", "X1", "", ""), dialect="rs-zna") is RsZna
    with pytest.raises(InstrumentError, match="is a vna, not a power"):
        driver_for(PNA_ID, kind="power")


def test_error_queue_is_drained_and_raised_with_code():
    res = ScriptedResource([("SENS1:FREQ:STAR 1e+12", None),
                            ("SYST:ERR?", '-222,"Data out of range"'), ("SYST:ERR?", '+0,"No error"')])
    vna = KeysightPna(res, PNA_ID)
    with pytest.raises(InputError):
        vna.start_hz = 1e12  # refused before it reaches the instrument (validator)
    vna._settings.clear()
    with pytest.raises(InstrumentError, match=r'-222, "Data out of range" after'):
        vna.configure("SENS1:FREQ:STAR 1e+12")
    assert res.finished()


def test_timeout_names_the_operation_and_connection_loss_is_typed():
    res = ScriptedResource([("*OPC?", VisaIOError(VI_ERROR_TMO))])
    with pytest.raises(InstrumentTimeout, match="4-port sweep"):
        KeysightPna(res, PNA_ID).wait_opc(3.0, "4-port sweep")
    res = ScriptedResource([("MEAS:VOLT? (@1)", VisaIOError(VI_ERROR_CONN_LOST))])
    with pytest.raises(ConnectionLost):
        KeysightN6705C(res, N6705_ID).measure_voltage(1)


def _pna_script(points: int, freq: np.ndarray, sparams: np.ndarray, averages: int = 1) -> list:
    """KHELP's sequence: settings, internal trigger, measurements, format, single (or group) sweep,
    stimulus from CALC:MEAS1:X? (all models), data per measurement, the step's closing error check."""
    script = []
    script += configured(f"SENS1:FREQ:STAR {freq[0]:.12g}")
    script += configured(f"SENS1:FREQ:STOP {freq[-1]:.12g}")
    script += configured(f"SENS1:SWE:POIN {points}")
    script += configured("SENS1:BWID 1000")
    script += configured("TRIG:SOUR IMM")
    script += configured("CALC:PAR:DEL:ALL")
    for n, (i, j) in enumerate(PARAMS, start=1):
        script += configured(f'CALC1:MEAS{n}:DEF "S{i}{j}"')
    if averages > 1:
        script += configured(f"SENS1:AVER:COUN {averages}") + configured("SENS1:AVER ON")
        script += configured(f"SENS1:SWE:GRO:COUN {averages}")
    else:
        script += configured("SENS1:AVER OFF")
    script += configured("FORM:DATA REAL,64")
    script += configured("FORM:BORD SWAP")
    script += [("SENS1:SWE:TIME?", "+1.2E-01")]
    if averages > 1:
        script += [("SENS1:AVER:CLE", None), ("SENS1:SWE:MODE GRO", None)]
    else:
        script += [("SENS1:SWE:MODE SING", None)]
    script += [("*OPC?", "1"), NO_ERROR, ("CALC1:MEAS1:X?", block(freq))]
    for n, (i, j) in enumerate(PARAMS, start=1):
        inter = np.empty(2 * points)
        inter[0::2] = sparams[:, i - 1, j - 1].real
        inter[1::2] = sparams[:, i - 1, j - 1].imag
        script.append((f"CALC1:MEAS{n}:DATA:SDATA?", block(inter)))
    script.append(NO_ERROR)
    return script


def test_reconnect_outside_a_step_reapplies_settings_and_retries_the_query():
    first = ScriptedResource([("SYST:CHAN:MOD? (@1)", "N6762A"), *configured("SOUR:VOLT 3.3,(@1)"),
                              ("MEAS:CURR? (@1)", VisaIOError(VI_ERROR_CONN_LOST))])
    second = ScriptedResource([("SOUR:VOLT 3.3,(@1)", None), ("MEAS:CURR? (@1)", "+1.25E-01")])
    supply = KeysightN6705C(first, N6705_ID, opener=lambda: second)
    supply.reconnect = type(supply.reconnect)(attempts=1, pause_s=0.0)
    supply.set_voltage(1, 3.3)
    assert supply.measure_current(1) == pytest.approx(0.125)
    assert first.closed and second.finished()


def test_reconnect_inside_a_measurement_step_repeats_the_whole_step():
    """A link lost at the data query of a sweep: after the reconnect the sweep runs again from its
    first command; the last query alone is never repeated (that would read unswept data)."""
    points = 3
    freq = np.linspace(1e9, 3e9, points)
    sparams = np.arange(points * 16).reshape(points, 4, 4) * (1 + 1j)
    script = _pna_script(points, freq, sparams)
    index = [sent for sent, _ in script].index("CALC1:MEAS5:DATA:SDATA?")
    first = ScriptedResource([*script[:index], ("CALC1:MEAS5:DATA:SDATA?", VisaIOError(VI_ERROR_CONN_LOST))],
                             family="keysight-pna", model="N5247B")
    second = ScriptedResource(script, family="keysight-pna", model="N5247B")  # the whole sweep again
    vna = KeysightPna(first, PNA_ID, opener=lambda: second)
    vna.reconnect = type(vna.reconnect)(attempts=1, pause_s=0.0)
    result = vna.measure_sparams(SweepSettings(freq[0], freq[-1], points, 1000))
    assert first.closed and second.finished()
    np.testing.assert_array_equal(result.network.s, sparams)


def test_pna_four_port_sweep_exchange_and_network():
    points = 11
    freq = np.linspace(10e6, 50e9, points)
    rng = np.random.default_rng(0)
    sparams = rng.normal(size=(points, 4, 4)) + 1j * rng.normal(size=(points, 4, 4))
    res = ScriptedResource(_pna_script(points, freq, sparams), family="keysight-pna", model="N5247B")
    result = KeysightPna(res, PNA_ID).measure_sparams(SweepSettings(freq[0], freq[-1], points, 1000))
    assert res.finished()
    np.testing.assert_array_equal(result.network.f, freq)
    np.testing.assert_array_equal(result.network.s, sparams)
    assert result.info.identity.serial == "MY123"


def test_e5080b_averaged_sweep_uses_only_commands_the_e5080b_has():
    """No SENS:X? (not applicable to the E5080B); averaging restarted with SENS:AVER:CLE before the group."""
    points = 5
    freq = np.linspace(10e6, 20e9, points)
    sparams = np.ones((points, 4, 4)) * (0.5 - 0.25j)
    res = ScriptedResource(_pna_script(points, freq, sparams, averages=4), family="keysight-pna", model="E5080B")
    result = KeysightPna(res, E5080_ID).measure_sparams(SweepSettings(freq[0], freq[-1], points, 1000, averages=4))
    assert res.finished()
    np.testing.assert_array_equal(result.network.s, sparams)


def test_a_sweep_beyond_the_model_is_refused_before_anything_is_sent():
    res = ScriptedResource([])
    with pytest.raises(InputError, match=r"N5247B sweeps 0\.01-67 GHz"):
        KeysightPna(res, PNA_ID).measure_sparams(SweepSettings(10e6, 70e9, 201))
    with pytest.raises(InputError, match=r"100004 points: use 2\.\.100003"):
        SweepSettings(10e6, 50e9, 100_004)
    assert res.finished()


def test_truncated_block_is_an_error_never_a_short_array():
    points = 5
    freq = np.linspace(1e9, 2e9, points)
    script = _pna_script(points, freq, np.zeros((points, 4, 4), dtype=complex))
    index = next(k for k, (sent, _) in enumerate(script) if sent == "CALC1:MEAS1:X?")
    script[index] = ("CALC1:MEAS1:X?", block(freq[:3]))  # a well-formed block, but too short
    res = ScriptedResource(script)
    with pytest.raises(InstrumentError, match="returned 3 values, expected 5"):
        KeysightPna(res, PNA_ID).measure_sparams(SweepSettings(freq[0], freq[-1], points, 1000))
    cut = block(freq)[:-9]  # header promises more bytes than arrive
    res2 = ScriptedResource([("CALC1:MEAS1:X?", cut)])
    with pytest.raises(InstrumentError):
        KeysightPna(res2, PNA_ID).ask_binary("CALC1:MEAS1:X?", points)


def test_zna_sweep_exchange():
    points = 4
    freq = np.linspace(1e9, 4e9, points)
    script = []
    for cmd in (f"SENS1:FREQ:STAR {freq[0]:.12g}", f"SENS1:FREQ:STOP {freq[-1]:.12g}", f"SENS1:SWE:POIN {points}",
                "SENS1:BWID 100", "SOUR1:POW -10", "TRIG1:SEQ:SOUR IMM", "CALC:PAR:DEL:ALL"):
        script += configured(cmd)
    for i, j in PARAMS:
        script += configured(f"CALC1:PAR:SDEF 'Trc{i}{j}','S{i}{j}'")
    for cmd in ("INIT1:CONT OFF", "SENS1:AVER:COUN 4", "SENS1:AVER ON", "SENS1:SWE:COUN 4", "FORM REAL,64",
                "FORM:BORD SWAP"):
        script += configured(cmd)
    script += [("SENS1:SWE:TIME?", "0.05"), ("SENS1:AVER:CLE", None), ("INIT1:IMM", None), ("*OPC?", "1"), NO_ERROR,
               ("CALC1:DATA:STIM?", block(freq))]
    for k, (i, j) in enumerate(PARAMS):
        script += [(f"CALC1:PAR:SEL 'Trc{i}{j}'", None), ("CALC1:DATA? SDAT", block(np.full(2 * points, k)))]
    script.append(NO_ERROR)  # the step's closing error check
    res = ScriptedResource(script, family="rs-zna", model="ZNA43-4Port")
    result = RsZna(res, ZNA_ID).measure_sparams(SweepSettings(freq[0], freq[-1], points, 100, -10.0, 4))
    assert res.finished()
    assert result.network.s[0, 3, 3] == 15 + 15j and result.network.s[0, 0, 1] == 1 + 1j
    # a stimulus that is not the grid set (here: read in the wrong byte order) is an error, not data
    script[[sent for sent, _ in script].index("CALC1:DATA:STIM?")] = ("CALC1:DATA:STIM?", block(freq, True))
    with pytest.raises(InstrumentError, match="stimulus reads"):
        RsZna(ScriptedResource(script), ZNA_ID).measure_sparams(SweepSettings(freq[0], freq[-1], points, 100, -10.0, 4))


def test_n6705_current_limit_follows_each_channels_module():
    """CURR:LIM on the N6781A SMU, CURR on the N6762A (where the current setting is the limit)."""
    script = [("SYST:CHAN:MOD? (@1)", "N6781A")]
    script += configured("SOUR:VOLT 3.3,(@1)") + configured("SOUR:CURR:LIM 2,(@1)")
    script += configured("CURR:PROT:STAT ON,(@1)")
    script += [("SYST:CHAN:MOD? (@2)", "N6762A")]
    script += configured("SOUR:VOLT 3.3,(@2)") + configured("SOUR:CURR 2,(@2)")
    script += configured("CURR:PROT:STAT ON,(@2)")
    script += configured("OUTP ON,(@1)") + configured("OUTP ON,(@2)")
    script += [("MEAS:VOLT? (@1)", "+3.29900E+00"), ("MEAS:CURR? (@1)", "+6.00000E-01"), ("STAT:QUES:COND? (@1)", "0"),
               ("MEAS:VOLT? (@2)", "+3.30100E+00"), ("MEAS:CURR? (@2)", "+5.00000E-01"), ("STAT:QUES:COND? (@2)", "0"),
               NO_ERROR]  # the reading step's closing error check
    res = ScriptedResource(script, family="keysight-n6705", model="N6705C")
    supply = KeysightN6705C(res, N6705_ID)
    supply.power_up([1, 2], 3.3)
    reading = supply.measure([1, 2])
    assert res.finished()
    assert reading.total_w == pytest.approx(3.299 * 0.6 + 3.301 * 0.5)
    assert reading.to_dict()["channels"][0] == {"channel": 1, "volts": 3.299, "amps": 0.6, "watts": 3.299 * 0.6}
    with pytest.raises(InputError, match=r"channels 1\.\.4"):
        supply.measure_voltage(5)
    with pytest.raises(InputError, match=r"voltage of channel 1 \(N6781A\) 30 V is out of range; use 0\.\.20\.4 V"):
        supply.set_voltage(1, 30.0)


def test_n6705_empty_slot_is_refused():
    res = ScriptedResource([("SYST:CHAN:MOD? (@3)", "Not Present")])
    with pytest.raises(InputError, match="channel 3 holds no output module"):
        KeysightN6705C(res, N6705_ID).set_voltage(3, 3.3)


def test_n6705_tripped_rail_is_an_over_current_error():
    res = ScriptedResource([("MEAS:VOLT? (@1)", "+0.0E+00"), ("MEAS:CURR? (@1)", "+0.0E+00"),
                            ("STAT:QUES:COND? (@1)", "+2")])
    with pytest.raises(OverCurrentError, match="rail 1 tripped over-current"):
        KeysightN6705C(res, N6705_ID).measure([1])


def test_n6705_array_capture_averages():
    script = [("SYST:CHAN:MOD? (@1)", "N6762A")]
    script += configured("SENS:SWE:POIN 4,(@1)") + configured("SENS:SWE:TINT 0.001,(@1)")
    script += [("MEAS:ARR:VOLT? (@1)", "3.3,3.3,3.3,3.3"), ("MEAS:ARR:CURR? (@1)", "1.0,1.2,0.8,1.0")]
    res = ScriptedResource(script, family="keysight-n6705", model="N6705C")
    rail = KeysightN6705C(res, N6705_ID).capture(1, points=4)
    assert rail.watts == pytest.approx(3.3) and res.finished()


def test_base_instrument_identity_query():
    res = ScriptedResource([("*IDN?", "Rohde-Schwarz,ZNA26-4Port,1332,2.70")])
    assert Instrument(res).identity.model == "ZNA26-4Port"


def test_ber_confidence_bounds_against_closed_forms():
    import math

    from accbench.instruments.confidence import ber_upper_bound, bits_needed

    assert ber_upper_bound(0, 1e12) == pytest.approx(-math.log(0.05) / 1e12, rel=1e-9)  # 2.996 / N
    assert bits_needed(1e-12) == pytest.approx(2.995732e12, rel=1e-6)
    # with k errors the bound exceeds the point estimate and tends to it for many errors
    assert ber_upper_bound(10, 1e10) > 10 / 1e10
    assert ber_upper_bound(10_000, 1e10) == pytest.approx(1e-6, rel=0.03)
    with pytest.raises(InputError):
        ber_upper_bound(1, 0)


def test_a_failed_prepare_at_open_closes_the_session(monkeypatch):
    """open_instrument reads per-session state (the N6705C's modules) once at open; when that fails the
    resource is closed, not leaked."""
    from accbench.instruments import registry
    from accbench.instruments.testing import ScriptedResource
    from pyvisa import constants, errors

    from accbench.errors import InstrumentError

    resource = ScriptedResource([("*IDN?", "Keysight Technologies,N6705C,MY123,D.01"),
                                 ("SYST:CHAN:MOD? (@1)", errors.VisaIOError(constants.VI_ERROR_TMO))])
    monkeypatch.setattr(registry, "open_resource", lambda name, backend="": resource)
    with pytest.raises(InstrumentError):
        registry.open_instrument("TCPIP0::n6705c::inst0::INSTR", timeout_s=0.1)
    assert resource.closed
