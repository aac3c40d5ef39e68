"""``accbench com`` and COM in qualification plans: the JSON contract, bad input in one line, the gates."""

from __future__ import annotations

import json

import numpy as np
import pytest
import skrf as rf
from accbench.bench.plan import PlanError, parse_plan

from accbench.api import qualify as run_plan

from .conftest import TOUCHSTONE, write_network
from .test_cli import assert_cli_error, run

THRU = str(TOUCHSTONE / "CA_19p75dB_thru.s4p")
NEXT = str(TOUCHSTONE / "CA_19p75dB_next1.s4p")
FEXT = str(TOUCHSTONE / "CA_19p75dB_fext1.s4p")


@pytest.mark.slow
def test_com_json_contract_and_the_reference_cable_verdicts():
    proc = run("com", THRU, "--next", NEXT, "--fext", FEXT, "--clause", "802.3ck-cr", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"com_db", "erl_db", "clause", "baud", "eq", "pass", "elapsed_s", "limits", "checks", "cases"} <= data.keys()
    assert data["clause"] == "802.3ck-cr" and data["baud"] == 53.125e9
    assert {"g_dc_db", "g_dc2_db", "tx_ffe", "dfe"} <= data["eq"].keys()
    # the 802.3ck maximum-loss reference cable assembly passes its own clause, by a small margin
    assert 3.0 < data["com_db"] < 4.5 and data["pass"] is True
    assert data["erl_db"] > data["limits"]["erl_min_db"] == 8.25
    assert [c["case"] for c in data["cases"]] == ["package case 1", "package case 2"]


@pytest.mark.slow
def test_com_without_tx_ffe_search_keeps_c0_at_one():
    proc = run("com", THRU, "--clause", "802.3ck-cr", "--tx-ffe", "off", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["eq"]["tx_ffe"]["c(0)"] == 1.0 and data["tx_ffe"] is False


def _two_port(tmp_path):
    net = rf.Network(THRU)
    return write_network(rf.Network(frequency=net.frequency, s=net.s[:, :2, :2], name="two"), tmp_path / "two.s2p")


def test_com_bad_input_is_one_line(tmp_path):
    assert_cli_error(run("com", str(_two_port(tmp_path))), "not a 2-port")
    assert_cli_error(run("com", THRU, "--clause", "802.3bj"), "unknown clause '802.3bj'")
    assert_cli_error(run("com", str(TOUCHSTONE / "P1TX1_P2RX1.s4p")), "short of the 802.3dj-cr Nyquist 53.125 GHz")
    coarse = write_network(rf.Network(NEXT)[::2], tmp_path / "coarse.s4p")
    assert_cli_error(run("com", THRU, "--next", str(coarse)), "another frequency grid")
    assert_cli_error(run("com", THRU, "--host-class", "HX"), "host class 'HX'")
    assert_cli_error(run("com", THRU, "--clause", "802.3ck-cr", "--host-class", "HL"), "no host classes")
    proc = run("com", THRU, "--tx-ffe", "maybe")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


LOT = [{"id": "L", "carbon_mg_m2": 5}]
CABLE = [{"serial": "A", "lot": "L", "length_m": 3}]


@pytest.mark.parametrize(("run_table", "needle"), [
    ({"com_clauses": ["802.3bj"]}, "unknown clause '802.3bj'"),
    ({"com_clauses": "802.3ck-cr"}, "give a list of clause names"),
    ({"com_clauses": ["802.3dj-cr"], "rates_gbd": [53.125]}, "802.3dj-cr runs at 106.25 GBd"),
])
def test_plan_com_clauses_are_checked(run_table, needle):
    with pytest.raises(PlanError, match=needle.replace("(", r"\(")):
        parse_plan({"run": {"name": "x", **run_table}, "lots": LOT, "cables": CABLE})


def test_com_and_erl_gates_in_a_qualification(tmp_path):
    data = {"run": {"name": "com", "rates_gbd": [53.125], "ber_rates_gbd": [], "com_clauses": ["802.3ck-cr"]},
            "gates": {"com_db_min": 7.0, "erl_db_min": 70.0},
            "lots": [{"id": "L", "carbon_mg_m2": 5.0}], "cables": [{"serial": "A-1", "lot": "L", "length_m": 3.0}]}
    plan = parse_plan(data, source=json.dumps(data))
    cable = run_plan(plan, tmp_path / "r.h5").cables[0]
    com = cable.rates[0].com
    assert com.clause == "802.3ck-cr" and com.com_db_min == 7.0 and com.erl_db_min == 70.0
    assert 4.0 < com.com_db < 7.0  # a 3 m 26 AWG assembly at 53.125 GBd: passes 3 dB, not the 7 dB gate
    gate = cable.verdict("com")
    assert (gate.outcome, gate.value, gate.limit, gate.unit, gate.detail) == (
        "fail", com.com_db, 7.0, "dB", "802.3ck-cr")
    assert gate.margin == pytest.approx(com.com_db - 7.0)
    assert cable.verdict("erl").outcome == "fail" and cable.outcome == "fail"
    assert np.isfinite(com.erl_db)
