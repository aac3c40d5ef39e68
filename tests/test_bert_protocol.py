"""BERT drivers: the exact M8070 and MP1900A exchanges against a scripted peer, error entries,
sync loss and gate timeouts; counts turned into BER, SER and the confidence bound."""

from __future__ import annotations

import pytest
from pyvisa.errors import VisaIOError

from accbench.errors import InputError, InstrumentError, InstrumentTimeout
from instruments.base import VI_ERROR_TMO, Identity
from instruments.bert import AnritsuMP1900A, BerSettings, KeysightM8040A, SyncLossError
from instruments.confidence import ber_upper_bound
from instruments.registry import driver_for

from .scpi_scripted import NO_ERROR, ScriptedResource, configured

M8040_ID = Identity("Keysight Technologies", "M8040A", "DE12345678", "6.5.400.5")
MP1900_ID = Identity("ANRITSU", "MP1900A", "6200123456", "9.03.00")


def _m8070_setup(gate: str = "10") -> list:
    script = configured(":SOUR:FREQ 'M1.ClkGen',106250000000")
    for loc in ("M1.DataOut1", "M1.DataIn1"):
        script += configured(f":DATA:LIN '{loc}',PAM4") + configured(f":DATA:LIN:PAM4:MAPP '{loc}',GRAY")
    for loc in ("M1.DataOut1", "M1.DataIn1"):
        script += configured(f":DATA:SEQ:SET '{loc}',PRBS,'2^13-1'")
    script += [("*OPC?", "1"), (":STAT:INST:SLOS? 'M1.DataIn1'", "0"), (":PLUG:ERAT:CAT?", '""')]
    script += configured(":PLUG:ERAT:NEW 'accbench'")
    script += configured(":PLUG:ERAT:ACQ:ALOC 'accbench','M1.DataIn1'")
    script += configured(":PLUG:ERAT:ACQ:DUR 'accbench',FTIM")
    script += configured(f":PLUG:ERAT:ACQ:TIME 'accbench',{gate}")
    return script


def test_m8040_gated_measurement_exchange_and_counts():
    bits, errors, symbols, symbol_errors = 2_125_000_000_000, 4_250, 1_062_500_000_000, 3_000
    fetch = (f'(1700000000.5,"M1.DataIn1",{bits // 2},{bits // 2},{errors // 2},{errors // 2},{symbols},'
             f"{symbol_errors},1,0,1,0,1,0,1,0)")
    res = ScriptedResource([*_m8070_setup(), (":PLUG:ERAT:STAR 'accbench'", None), ("*OPC?", "1"), NO_ERROR,
                            (":PLUG:ERAT:FETC? 'accbench'", fetch), (":STAT:INST:SLOS? 'M1.DataIn1'", "0")])
    result = KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(106.25e9, "PRBS13Q", 10.0))
    assert res.finished()
    assert (result.bits, result.errors, result.symbols, result.symbol_errors) == (bits, errors, symbols, symbol_errors)
    assert result.ber == pytest.approx(2e-9) and result.ser == pytest.approx(symbol_errors / symbols)
    assert result.ber_upper == pytest.approx(ber_upper_bound(errors, bits)) and result.ber_upper > result.ber
    data = result.to_dict()
    for key in ("bits", "errors", "symbols", "symbol_errors", "ber", "ser", "ber_upper_95"):
        assert key in data
    assert not data["sync_lost"] and data["settings"]["pattern"] == "PRBS13Q"


def test_zero_errors_give_the_bound_not_zero():
    fetch = '(1700000000.5,"M1.DataIn1",5000000000,5000000000,0,0,5000000000,0)'
    res = ScriptedResource([*_m8070_setup("1"), (":PLUG:ERAT:STAR 'accbench'", None), ("*OPC?", "1"), NO_ERROR,
                            (":PLUG:ERAT:FETC? 'accbench'", fetch), (":STAT:INST:SLOS? 'M1.DataIn1'", "0")])
    result = KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(106.25e9, "PRBS13Q", 1.0))
    assert result.ber == 0.0 and result.ber_upper == pytest.approx(2.9957 / 1e10, rel=1e-3)


def test_gate_timeout_names_the_operation():
    res = ScriptedResource([*_m8070_setup(), (":PLUG:ERAT:STAR 'accbench'", None),
                            ("*OPC?", VisaIOError(VI_ERROR_TMO))])
    with pytest.raises(InstrumentTimeout, match="BER gate of 10 s"):
        KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(106.25e9, "PRBS13Q", 10.0))


def test_sync_loss_is_a_typed_error():
    script = _m8070_setup()[:-9]  # up to and with the first sync query
    script[-1] = (":STAT:INST:SLOS? 'M1.DataIn1'", "1")
    script += [(":STAT:INST:SLOS? 'M1.DataIn1'", "1")] * 200
    res = ScriptedResource(script)
    with pytest.raises(SyncLossError, match="did not synchronise"):
        KeysightM8040A(res, M8040_ID).measure_ber(BerSettings(106.25e9, "PRBS13Q", 10.0, sync_timeout_s=0.3))


def test_instrument_error_entry_carries_code_and_text():
    res = ScriptedResource([(":SOUR:FREQ 'M1.ClkGen',106250000000", None),
                            ("SYST:ERR?", '-222,"Data out of range"'), NO_ERROR])
    with pytest.raises(InstrumentError, match=r'-222, "Data out of range"'):
        KeysightM8040A(res, M8040_ID).set_symbol_rate(106.25e9)


def test_mp1900_exchange_and_quoted_results():
    script = [(":MOD:ID 1", None), *configured(":OUTP:PAM4:SRAT 53.125000"), (":MOD:ID 1", None),
              *configured(":SOUR:PATT:TYPE PRBS"), *configured(":SOUR:PATT:PAM4:PRBS:LENG 31"),
              (":MOD:ID 2", None), *configured(":SENS:PATT:TYPE PRBS"), *configured(":SENS:PATT:PRBS:LENG 31"),
              (":MOD:ID 2", None), (':CALC:DATA:MON? "PSLoss"', '"Not Occur"'),
              (":MOD:ID 2", None), *configured(":SENS:MEAS:EAL:MODE SING"), *configured(":SENS:MEAS:EAL:UNIT TIME"),
              *configured(":SENS:MEAS:EAL:PER 0,0,1,5"), (":SENS:MEAS:STAR", None), (":SENS:MEAS:EAL:STAT?", "0"),
              NO_ERROR, (':CALC:DATA:EAL? "CURRent:EC:TOTal"', '"12"'),
              (':CALC:DATA:EAL? "CURRent:CC:TOTal"', '"6906250000000"'),
              (':CALC:DATA:EAL? "CURRent:ER:TOTal"', '"1.7376E-12"'),
              (":MOD:ID 2", None), (':CALC:DATA:MON? "PSLoss"', '"Not Occur"')]
    res = ScriptedResource(script)
    result = AnritsuMP1900A(res, MP1900_ID).measure_ber(BerSettings(53.125e9, "PRBS31Q", 65.0))
    assert res.finished()
    assert result.bits == 6_906_250_000_000 and result.errors == 12 and result.symbol_errors is None
    assert result.ser is None and result.ber == pytest.approx(12 / 6.90625e12)


def test_mp1900_missing_result_is_an_error():
    res = ScriptedResource([(':CALC:DATA:EAL? "CURRent:ER:TOTal"', '"-------"')])
    from instruments.bert import _quoted_number

    with pytest.raises(InstrumentError, match="no result"):
        _quoted_number(res.query(':CALC:DATA:EAL? "CURRent:ER:TOTal"'), "anritsu-mp1900", "ER:TOTal")


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"pattern": "PRBS12"}, "use one of"),
    ({"pattern": "SSPRQ"}, "--pattern-file"),
    ({"gate_s": 0}, "gate time"),
    ({"baud": 300e9}, "symbol rate"),
])
def test_bad_settings_are_refused(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        BerSettings(**kwargs)


def test_mp1900_whole_second_gates_and_dialects():
    with pytest.raises(InputError, match="whole seconds"):
        AnritsuMP1900A(ScriptedResource([]), MP1900_ID)._configure(BerSettings(53.125e9, "PRBS13Q", 0.5))
    assert driver_for(M8040_ID) is KeysightM8040A and driver_for(MP1900_ID) is AnritsuMP1900A
    with pytest.raises(InstrumentError, match="is a bert, not a vna"):
        driver_for(M8040_ID, kind="vna")
