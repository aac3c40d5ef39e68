"""The shipped scripted-protocol tester (``accbench.instruments.testing``) catches what it must,
and passes a correct exchange, for this repository's drivers and for one written outside it."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.instruments.base import Identity, Instrument, control, in_range, measurement
from accbench.instruments.power import KeysightN6705C
from accbench.instruments.testing import NO_ERROR, ScriptedResource, block, configured, expected_protocol
from accbench.instruments.vna import KeysightPna

from accbench.errors import InstrumentError

N6705_ID = Identity("Keysight Technologies", "N6705C", "MY56001234", "D.04.03")


def test_correct_exchange_with_a_real_driver_passes():
    with expected_protocol(KeysightN6705C, [("MEAS:VOLT? (@1)", "+3.29900E+00")], family="keysight-n6705",
                           identity=N6705_ID) as supply:
        assert supply.measure_voltage(1) == pytest.approx(3.299)


def test_identity_of_a_real_vna_driver():
    with expected_protocol(KeysightPna, [("*IDN?", "Keysight Technologies,N5247B,MY123,A.15.10.06")],
                           family="keysight-pna", model="N5247B") as vna:
        assert vna.identity.model == "N5247B" and vna.identity.serial == "MY123"


def test_wrong_command_names_sent_and_expected():
    with pytest.raises(AssertionError, match=r"sent 'MEAS:VOLT\? \(@2\)', expected 'MEAS:VOLT\? \(@1\)'"):
        with expected_protocol(KeysightN6705C, [("MEAS:VOLT? (@1)", "+3.3")], identity=N6705_ID) as supply:
            supply.measure_voltage(2)  # the driver wraps the mismatch in InstrumentError; the tester unwraps it


def test_wrong_command_swallowed_by_the_test_body_still_fails():
    with pytest.raises(AssertionError, match=r"sent 'MEAS:CURR\? \(@1\)', expected 'MEAS:VOLT\? \(@1\)'"):
        with expected_protocol(KeysightN6705C, [("MEAS:VOLT? (@1)", "+3.3")], identity=N6705_ID) as supply:
            try:
                supply.measure_current(1)
            except InstrumentError:
                pass


def test_extra_command_after_the_script():
    with pytest.raises(AssertionError, match=r"unexpected command 'MEAS:CURR\? \(@1\)': the script is finished"):
        with expected_protocol(KeysightN6705C, [("MEAS:VOLT? (@1)", "+3.3")], identity=N6705_ID) as supply:
            supply.measure_voltage(1)
            supply.measure_current(1)


def test_unconsumed_script_names_the_first_unused_exchange():
    script = [("MEAS:VOLT? (@1)", "+3.3"), ("MEAS:CURR? (@1)", "+0.5"), ("STAT:QUES:COND? (@1)", "0")]
    with pytest.raises(AssertionError, match=r"2 exchange\(s\) left, the first \(exchange 2\) is 'MEAS:CURR\? \(@1\)'"):
        with expected_protocol(KeysightN6705C, script, identity=N6705_ID) as supply:
            supply.measure_voltage(1)


def test_undocumented_command_is_refused_with_a_family():
    script = [("MEAS:VOLT? (@1)", "+3.3"), ("MEAS:POW? (@1)", "+1.6")]  # no MEAS:POW in the N6705 reference
    with pytest.raises(AssertionError, match=r"scripted 'MEAS:POW\? \(@1\)' is not documented"):
        with expected_protocol(KeysightN6705C, script, family="keysight-n6705", identity=N6705_ID):
            pass
    with expected_protocol(KeysightN6705C, script[:1], identity=N6705_ID) as supply:  # without: only the exchange
        supply.measure_voltage(1)


def test_family_check_takes_the_model_from_the_identity():
    script = [("SENS1:X?", "1e9,2e9")]  # documented for the N52xxB, not for the E5080B
    e5080 = Identity("Keysight Technologies", "E5080B", "MY59100123", "A.17.20.09")
    with pytest.raises(AssertionError, match="does not apply to the E5080B"):
        with expected_protocol(KeysightPna, script, family="keysight-pna", identity=e5080):
            pass
    n5247 = Identity("Keysight Technologies", "N5247B", "MY123", "A.15.10.06")
    with expected_protocol(KeysightPna, script, family="keysight-pna", identity=n5247) as vna:
        assert vna.ask("SENS1:X?") == "1e9,2e9"


# --- a driver as someone outside this repository would write it --------------------------------


class AcmeSupply(Instrument):
    """A tiny one-channel supply: a declared setting, a declared measurement and a binary capture."""

    DIALECT = "acme-ps"
    MODELS = (r"PS-1",)
    KIND = "power"

    volts = control("VOLT?", "VOLT {value:g}", "Output voltage in V.", validator=in_range(0, 30, "voltage", " V"))
    amps = measurement("MEAS:CURR? (@{ch})", "Output current in A.")

    def set_output(self, on: bool) -> None:
        self.configure(f"OUTP {'ON' if on else 'OFF'}")

    def trace(self, points: int) -> np.ndarray:
        return self.ask_binary("TRAC:DATA?", expected=points)


def test_outside_driver_with_expected_protocol():
    script = [*configured("VOLT 1.5"), ("VOLT?", "+1.50E+00"), *configured("OUTP ON"),
              ("MEAS:CURR? (@1)", "+2.5E-01"), ("TRAC:DATA?", block([0.1, 0.2, 0.3]))]
    with expected_protocol(AcmeSupply, script, identity=Identity("Acme", "PS-1", "0001", "1.0")) as supply:
        supply.volts = 1.5
        assert supply.volts == 1.5
        supply.set_output(True)
        assert supply.amps == pytest.approx(0.25)
        assert np.allclose(supply.trace(3), [0.1, 0.2, 0.3])


def test_outside_driver_error_queue_entry_is_an_instrument_error():
    script = [("VOLT 1.5", None), ("SYST:ERR?", '-222,"Data out of range"'), NO_ERROR]
    with expected_protocol(AcmeSupply, script) as supply:
        with pytest.raises(InstrumentError, match=r'-222, "Data out of range" after'):
            supply.volts = 1.5


def test_scripted_resource_is_usable_directly():
    res = ScriptedResource([("*IDN?", "Acme,PS-1,0001,1.0")])
    assert AcmeSupply(res).identity.model == "PS-1"
    assert res.finished()
    res.assert_finished()
