"""BERT drivers: the exact M8070 and MP1900A exchanges against a scripted peer whose every command
the dialect reference documents; refusals before anything is sent (the model's symbol-rate range,
the analyzer's patterns, unknown slots); error entries, sync loss and gate timeouts; counts turned
into BER, SER and the confidence bound."""

from __future__ import annotations

import pytest
from accbench.instruments.base import VI_ERROR_TMO, Identity
from accbench.instruments.bert import AnritsuMP1900A, BerSettings, KeysightM8040A, SyncLossError
from accbench.instruments.confidence import ber_upper_bound
from accbench.instruments.registry import driver_for
from pyvisa.errors import VisaIOError

from accbench.errors import InputError, InstrumentError, InstrumentTimeout

from .scpi_scripted import NO_ERROR, ScriptedResource, configured

M8040_ID = Identity("Keysight Technologies", "M8040A", "DE12345678", "6.5.400.5")
MP1900_ID = Identity("ANRITSU", "MP1900A", "6200123456", "9.03.00")
MP1900_SLOTS = {"ppg_module": 7, "ed_module": 5}


def m8070(script) -> ScriptedResource:
    return ScriptedResource(script, family="keysight-m8040", model="M8040A")


def _m8070_setup(gate: str = "10", mapping: str = "GRAY", analyzer: str = "M2.DataIn", rate: str = "53125000000",
                 prbs: str = "2^13-1") -> list:
    """The documented sequence up to the gate: rate, PAM4 coding (both generator channels in one message),
    mapping, pattern, *OPC?, the analyzer's auto-alignment, sync, the ERATio measurement's settings."""
    script = configured(f":SOUR:FREQ 'M1.ClkGen',{rate}")
    script += configured(":DATA:LIN 'M1.DataOut1',PAM4;:DATA:LIN 'M1.DataOut2',PAM4")
    script += configured(f":DATA:LIN:PAM4:MAPP 'M1.DataOut1',{mapping};:DATA:LIN:PAM4:MAPP 'M1.DataOut2',{mapping}")
    script += configured(f":DATA:LIN '{analyzer}',PAM4") + configured(f":DATA:LIN:PAM4:MAPP '{analyzer}',{mapping}")
    for loc in ("M1.DataOut1", analyzer):
        script += configured(f":DATA:SEQ:SET '{loc}',PRBS,'{prbs}'")
    script += [("*OPC?", "1"), (f":INP:ALIG:EYE:AUTO '{analyzer}'", None), ("*OPC?", "1"),
               (f":INP:ALIG:STAT:VAL? '{analyzer}'", '"SUCCESS"'), (f":STAT:INST:SLOS? '{analyzer}'", "0"),
               (":PLUG:ERAT:CAT?", '""')]
    script += configured(":PLUG:ERAT:NEW 'accbench'")
    script += configured(f":PLUG:ERAT:ACQ:ALOC 'accbench','{analyzer}'")
    script += configured(":PLUG:ERAT:ACQ:AEND 'accbench',FDUR")
    script += configured(":PLUG:ERAT:ACQ:DUR 'accbench',FTIM")
    script += configured(f":PLUG:ERAT:ACQ:TIME 'accbench',{gate}")
    return script


def _until(script: list, command: str) -> list:
    """The script up to and including the first ``command``."""
    return script[: [sent for sent, _ in script].index(command) + 1]


def _gate_end(fetch: str, analyzer: str = "M2.DataIn") -> list:
    """Start, the run state polled until the plug-in is idle (never *OPC? alone), the counts, the sync state
    (a completed step then ends with the error-queue check: ``NO_ERROR`` after this)."""
    return [(":PLUG:ERAT:STAR 'accbench'", None), (":PLUG:ERAT:RUN? 'accbench'", "1"),
            (":PLUG:ERAT:RUN? 'accbench'", "0"), NO_ERROR, (":PLUG:ERAT:FETC? 'accbench'", fetch),
            (f":STAT:INST:SLOS? '{analyzer}'", "0")]


def test_m8040_gated_measurement_exchange_and_counts():
    bits, errors, symbols, symbol_errors = 1_062_500_000_000, 4_250, 531_250_000_000, 3_000
    fetch = (f'("M2.DataIn",1700000000.5,{bits // 2},{bits // 2},{errors // 2},{errors // 2},{symbols},'
             f"{symbol_errors},1,0,1,0,1,0,1,0)")
    res = m8070([*_m8070_setup(), *_gate_end(fetch), NO_ERROR])
    result = KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 10.0))
    assert res.finished()
    assert (result.bits, result.errors, result.symbols, result.symbol_errors) == (bits, errors, symbols, symbol_errors)
    assert result.ber == pytest.approx(4e-9) and result.ser == pytest.approx(symbol_errors / symbols)
    assert result.ber_upper == pytest.approx(ber_upper_bound(errors, bits)) and result.ber_upper > result.ber
    data = result.to_dict()
    for key in ("bits", "errors", "symbols", "symbol_errors", "ber", "ser", "ber_upper_95"):
        assert key in data
    assert not data["sync_lost"] and data["settings"]["pattern"] == "PRBS13Q"
    assert data["settings"]["locations"]["analyzer"] == "M2.DataIn"


def test_m8040_transparent_mapping_is_none_and_locations_come_from_the_bench():
    """Gray off is NONE (programming guide p. 490), not UNC; the analyzer location is the bench's."""
    fetch = '("M3.DataIn",1700000000.5,25000000000,25000000000,0,0,25000000000,0)'
    res = m8070([*_m8070_setup("1", mapping="NONE", analyzer="M3.DataIn", rate="25000000000", prbs="2^31-1"),
                 *_gate_end(fetch, "M3.DataIn"), NO_ERROR])
    bert = KeysightM8040A(res, M8040_ID, locations={"analyzer": "M3.DataIn"})
    result = bert.measure_ber(BerSettings(25e9, "PRBS31", 1.0, gray=False))
    assert res.finished() and result.bits == 50_000_000_000


def test_zero_errors_give_the_bound_not_zero():
    fetch = '("M2.DataIn",1700000000.5,53125000000,53125000000,0,0,53125000000,0)'
    res = m8070([*_m8070_setup("1"), *_gate_end(fetch), NO_ERROR])
    result = KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0))
    assert result.ber == 0.0 and result.ber_upper == pytest.approx(2.9957 / 1.0625e11, rel=1e-3)


def test_partial_counts_are_an_error_never_a_result():
    """Counts that do not cover rate x gate (a gate read before its end) are refused."""
    fetch = '("M2.DataIn",1700000000.5,26000000000,26000000000,0,0,26000000000,0)'
    res = m8070([*_m8070_setup("1"), *_gate_end(fetch)[:-1]])
    with pytest.raises(InstrumentError, match="partial"):
        KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0))


def test_gate_that_never_ends_names_the_operation(monkeypatch):
    monkeypatch.setattr(KeysightM8040A, "_gate_timeout_s", staticmethod(lambda gate_s: 0.05))
    res = m8070([*_m8070_setup(), (":PLUG:ERAT:STAR 'accbench'", None)]
                + [(":PLUG:ERAT:RUN? 'accbench'", "1")] * 100)
    with pytest.raises(InstrumentTimeout, match="BER gate of 10 s"):
        KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 10.0))


def test_failed_alignment_and_sync_loss_are_typed():
    script = _until(_m8070_setup(), ":INP:ALIG:STAT:VAL? 'M2.DataIn'")
    script[-1] = (":INP:ALIG:STAT:VAL? 'M2.DataIn'", '"FAILED"')
    with pytest.raises(SyncLossError, match="auto-alignment ended FAILED"):
        KeysightM8040A(m8070(script), M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 10.0))
    script = _until(_m8070_setup(), ":STAT:INST:SLOS? 'M2.DataIn'")
    script[-1] = (":STAT:INST:SLOS? 'M2.DataIn'", "1")
    script += [(":STAT:INST:SLOS? 'M2.DataIn'", "1")] * 200
    with pytest.raises(SyncLossError, match="did not synchronise"):
        KeysightM8040A(m8070(script), M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 10.0,
                                                                          sync_timeout_s=0.3))


def test_instrument_error_entry_carries_code_and_text():
    res = m8070([(":SOUR:FREQ 'M1.ClkGen',53125000000", None), ("SYST:ERR?", '-222,"Data out of range"'),
                 NO_ERROR])
    with pytest.raises(InstrumentError, match=r'-222, "Data out of range"'):
        KeysightM8040A(res, M8040_ID).set_symbol_rate(53.125e9)


@pytest.mark.parametrize(("settings", "needle"), [
    (BerSettings(106.25e9, "PRBS13Q", 1.0), r"M8040A runs PAM4 at 2-64\.8 GBd .*not 106\.25 GBd"),
    (BerSettings(53.125e9, "PRBS7", 1.0), r"error detector does not accept PRBS7"),
    (BerSettings(53.125e9, "PRBS13Q", 1.0, gray=False), r"PRBS13Q is defined Gray-coded"),
])
def test_requests_outside_the_model_are_refused_before_anything_is_sent(settings, needle):
    res = ScriptedResource([])  # any exchange would fail the test
    with pytest.raises(InputError, match=needle):
        KeysightM8040A(res, M8040_ID).measure_ber(settings)
    assert res.finished()


def _mp1900_script() -> list:
    ppg, ed = ":UENT:ID 1;:MOD:ID 7;", ":UENT:ID 1;:MOD:ID 5;"
    return [*configured(ppg + ":SOUR:MOD:TYPE PAM4"), *configured(ppg + ":OUTP:PAM4:SRAT 53.125000"),
            *configured(ppg + ":SOUR:PATT:TYPE PRBS"), *configured(ppg + ":SOUR:PATT:PAM4:PRBS:LENG 31"),
            *configured(ed + ":SENS:PATT:TYPE PRBS"), *configured(ed + ":SENS:PATT:PRBS:LENG 31"),
            (ed + ':CALC:DATA:MON? "PSLoss"', '"Not Occur"'),
            *configured(ed + ":SENS:MEAS:EAL:MODE SING"), *configured(ed + ":SENS:MEAS:EAL:UNIT TIME"),
            *configured(ed + ":SENS:MEAS:EAL:PER 0,0,1,5"), (ed + ":SENS:MEAS:STAR", None),
            (ed + ":SENS:MEAS:EAL:STAT?", "1"), (ed + ":SENS:MEAS:EAL:STAT?", "0"),
            NO_ERROR, (ed + ':CALC:DATA:EAL? "CURRent:EC:TOTal"', '"12"'),
            (ed + ':CALC:DATA:EAL? "CURRent:CC:TOTal"', '"6906250000000"'),
            (ed + ':CALC:DATA:EAL? "CURRent:ER:TOTal"', '"1.7376E-12"'),
            (ed + ':CALC:DATA:MON? "PSLoss"', '"Not Occur"'), NO_ERROR]  # the step's closing error check


def test_mp1900_exchange_slots_pam4_type_and_quoted_results():
    """Unit and slot in every message (the slots are the bench's, not 1 and 2), PAM4 set before PAM4 commands."""
    res = ScriptedResource(_mp1900_script(), family="anritsu-mp1900", model="MP1900A")
    result = AnritsuMP1900A(res, MP1900_ID, locations=MP1900_SLOTS).measure_ber(BerSettings(53.125e9, "PRBS31Q", 65.0))
    assert res.finished()
    assert result.bits == 6_906_250_000_000 and result.errors == 12 and result.symbol_errors is None
    assert result.ser is None and result.ber == pytest.approx(12 / 6.90625e12)


def test_mp1900_without_its_slots_is_refused_before_anything_is_sent():
    res = ScriptedResource([])
    with pytest.raises(InputError, match=r"PPG slot is not known.*ppg_module = N.*ED slot is not known"):
        AnritsuMP1900A(res, MP1900_ID).measure_ber(BerSettings(53.125e9, "PRBS31Q", 5.0))
    with pytest.raises(InputError, match="whole seconds"):
        AnritsuMP1900A(res, MP1900_ID, locations=MP1900_SLOTS).measure_ber(BerSettings(53.125e9, "PRBS13Q", 0.5))
    with pytest.raises(InputError, match=r"MP1900A runs PAM4 at 2\.4-64\.2 GBd"):
        AnritsuMP1900A(res, MP1900_ID, locations=MP1900_SLOTS).measure_ber(BerSettings(106.25e9, "PRBS13Q", 1.0))
    with pytest.raises(InputError, match="unknown location"):
        AnritsuMP1900A(res, MP1900_ID, locations={"analyzer": "M2.DataIn"})
    assert res.finished()


def test_mp1900_missing_result_is_an_error():
    from accbench.instruments.bert import _quoted_number

    with pytest.raises(InstrumentError, match="no result"):
        _quoted_number('"-------"', "anritsu-mp1900", "ER:TOTal")


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"pattern": "PRBS12"}, "use one of"),
    ({"pattern": "SSPRQ"}, "give the pattern file"),
    ({"gate_s": 0}, "gate time"),
    ({"gate_s": float("nan")}, "gate time"),
    ({"baud": 300e9}, "symbol rate"),
])
def test_bad_settings_are_refused(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        BerSettings(**kwargs)


def test_dialects_by_identity():
    assert driver_for(M8040_ID) is KeysightM8040A and driver_for(MP1900_ID) is AnritsuMP1900A
    with pytest.raises(InstrumentError, match="is a bert, not a vna"):
        driver_for(M8040_ID, kind="vna")


def test_old_gate_end_on_opc_alone_times_out_as_named():
    """A timeout of *OPC? (the alignment wait) names the operation, it is not retried as a short exchange."""
    script = _until(_m8070_setup(), ":INP:ALIG:EYE:AUTO 'M2.DataIn'")
    script.append(("*OPC?", VisaIOError(VI_ERROR_TMO)))
    with pytest.raises(InstrumentTimeout, match="auto-alignment"):
        KeysightM8040A(m8070(script), M8040_ID).measure_ber(BerSettings(53.125e9, "PRBS13Q", 10.0))
