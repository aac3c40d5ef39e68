"""The dialect references (instruments/dialects/*.toml): well-formed, every entry sourced, and
every command every driver sends is listed there for the model it is sent to, so a command sent
but not documented fails here."""

from __future__ import annotations

import tomllib

import pytest
from accbench.instruments import open_instrument
from accbench.instruments.bert import BerSettings
from accbench.instruments.reference import DIALECTS_DIR, STATUSES, load_reference, split_units
from accbench.instruments.registry import dialect_kinds
from accbench.instruments.vna import SweepSettings
from accbench.sim.registry import backend_for, register, unregister
from accbench.sim.twin import SimBench, parse_dut
from accbench.sim.visa import RESOURCES

from accbench.capabilities import BERTS, VNAS

FAMILIES = sorted(p.stem for p in DIALECTS_DIR.glob("*.toml") if p.stem != "ieee488")


def test_every_dialect_has_a_reference_and_every_entry_a_source():
    assert set(FAMILIES) == set(dialect_kinds())
    for family in [*FAMILIES, "ieee488"]:
        data = tomllib.loads((DIALECTS_DIR / f"{family}.toml").read_text())
        for item in data["command"]:
            assert item["status"] in STATUSES and item["source"].strip(), item
            assert "set" in item or "query" in item, item
    counts = {f: load_reference(f).counts() for f in FAMILIES}
    assert counts["anritsu-mp1900"]["unconfirmed"] > 0  # said plainly, not hidden
    assert all(sum(c.values()) > 5 for c in counts.values())


@pytest.mark.parametrize(("family", "command", "model", "ok"), [
    ("keysight-pna", "SENS1:X?", "E5080B", False),  # superseded, not on the E5080B
    ("keysight-pna", "CALC1:MEAS1:X?", "E5080B", True),
    ("keysight-pna", "CALC1:PAR:DEL:ALL", "N5247B", False),  # the documented header has no suffix
    ("keysight-m8040", ":DATA:LIN:PAM4:MAPP 'M2.DataIn',UNC", "M8040A", False),  # NONE, not UNC
    ("keysight-m8040", ":DATA:LIN:PAM4:MAPP 'M2.DataIn',NONE", "M8040A", True),
    ("keysight-m8040", ":PLUG:ERAT:RUN? 'accbench'", "M8040A", True),
    ("keysight-n6705", "SOUR:CURR 1,(@2)", "N6705C", True),
    ("keysight-n6705", "SOUR:CURR:LIM 1", "N6705C", False),  # a channel list is required
    ("rs-zna", "INIT1:IMM", "ZNA67", True),
])
def test_the_reference_judges_commands(family, command, model, ok):
    assert load_reference(family).check(command, model).ok is ok


def test_compound_messages_are_split_outside_quotes():
    assert split_units(":UENT:ID 1;:MOD:ID 7;:SOUR:PATT:TYPE PRBS") == [
        ":UENT:ID 1", ":MOD:ID 7", ":SOUR:PATT:TYPE PRBS"]
    assert split_units(":DATA:SEQ:SET 'a;b',PRBS,'2^9-1'") == [":DATA:SEQ:SET 'a;b',PRBS,'2^9-1'"]


def _sent(inst) -> list[str]:
    return [unit for e in inst.log if e.direction == ">" for unit in split_units(e.text)]


def _exercise(role: str, bench: SimBench, backend: str) -> tuple[object, list[str]]:
    """Drive one simulated instrument through everything its driver does in accbench."""
    inst = open_instrument(RESOURCES[role], backend, log=True, timeout_s=2.0,
                           locations=bench.bert_locations() if role == "bert" else None)
    if role == "vna":
        inst.measure_sparams(SweepSettings(10e6, 40e9, 51, 1e3))
        inst.measure_sparams(SweepSettings(10e6, 40e9, 51, 1e3, power_dbm=-10, averages=3))
    elif role == "bert":
        inst.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0))
        if inst.DIALECT == "keysight-m8040":
            inst.measure_ber(BerSettings(26.5625e9, "PRBS31", 0.1, gray=False))
    else:
        inst.power_up([1, 2], 3.3)
        inst.measure([1, 2])
        inst.measure([1, 2], points=64)
    return inst, _sent(inst)


@pytest.mark.parametrize(("role", "model"), [("vna", m) for m in VNAS if m in ("N5247B", "E5080B", "ZNA67")]
                         + [("bert", m) for m in BERTS] + [("power", "N6705C")])
def test_every_command_a_driver_sends_is_documented(role, model):
    kwargs = {"vna_model": model} if role == "vna" else {"bert_model": model} if role == "bert" else {}
    bench = SimBench([parse_dut("serial=D,awg=26,length_m=3")], seed=2, **kwargs)
    name = register(bench)
    backend = backend_for(name)
    try:
        inst, sent = _exercise(role, bench, backend)
    finally:
        unregister(name)
    reference = load_reference(inst.DIALECT)
    problems = [f"{cmd}: {v.problem}" for cmd in sent if not (v := reference.check(cmd, inst.identity.model)).ok]
    assert not problems, "\n".join(problems)
    assert len(set(sent)) > 8
