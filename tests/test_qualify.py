"""Qualification runs on the simulated bench (work in progress for issue 6): plan validation,
a full run with its verdicts and carbon regression, the record, resume without duplicates."""

from __future__ import annotations

import json

import h5py
import pytest

from bench.plan import PlanError, load_plan, parse_plan
from bench.qualify import run_plan
from bench.record import read_run
from bench.traceability import hinge_fit

from .conftest import FIXTURES
from .test_cli import assert_cli_error, run

PLAN = FIXTURES / "plans" / "lot-qual-example.toml"


def test_example_plan_loads():
    plan = load_plan(PLAN)
    assert plan.rates_gbd == (53.125, 106.25) and len(plan.cables) == 6 and plan.lots["W-1003"].carbon_mg_m2 == 160


@pytest.mark.parametrize(("data", "needle"), [
    ({"run": {"name": "x"}, "lots": [{"id": "L", "carbon_mg_m2": 5}],
      "cables": [{"serial": "A", "lot": "Q", "length_m": 3}]}, "unknown lot 'Q'"),
    ({"run": {"name": "x"}, "lots": [{"id": "L", "carbon_mg_m2": 5}],
      "cables": [{"serial": "A", "lot": "L", "length_m": -1}]}, "length_m = -1 must be > 0"),
    ({"run": {"name": "x"}, "lots": [{"id": "L", "carbon_mg_m2": 5000}],
      "cables": [{"serial": "A", "lot": "L", "length_m": 3}]}, "carbon_mg_m2 = 5000 is out of range 0..1000"),
    ({"run": {"name": "x"}, "lots": [{"id": "L", "carbon_mg_m2": 5}],
      "cables": [{"serial": "A", "lot": "L", "length_m": 3}, {"serial": "A", "lot": "L", "length_m": 3}]},
     "duplicate serial 'A'"),
    ({"lots": [{"id": "L"}], "cables": [{"serial": "A", "lot": "L", "length_m": 3}]}, "[run] name is missing"),
])
def test_bad_plans_name_every_problem(data, needle):
    with pytest.raises(PlanError, match=None) as info:
        parse_plan(data)
    assert needle in str(info.value)


def test_lots_csv_errors_carry_the_line_number(tmp_path):
    (tmp_path / "lots.csv").write_text("id,carbon_mg_m2,grade\nW1,10,Cu-OFC\nW2,abc,Cu-ETP\n")
    plan = tmp_path / "p.toml"
    plan.write_text('lots_csv = "lots.csv"\n[run]\nname = "x"\n[[cables]]\nserial = "A"\nlot = "W1"\nlength_m = 3\n')
    with pytest.raises(PlanError, match=r"lots.csv line 3 carbon_mg_m2 = 'abc' is not a number"):
        load_plan(plan)


def test_hinge_fit_recovers_a_known_threshold_and_says_no_effect():
    import numpy as np

    x = np.array([0, 20, 40, 60, 80, 100, 150, 200.0])
    fit = hinge_fit(x, 0.05 * np.maximum(0, x - 50) + 1.0)
    assert fit["threshold_mg_m2"] == pytest.approx(50, abs=5) and fit["slope_per_mg_m2"] == pytest.approx(0.05, 0.02)
    flat = hinge_fit(x, 1.0 + np.random.default_rng(1).normal(0, 0.01, x.size))
    assert not flat["significant"] or abs(flat["slope_per_mg_m2"]) < 1e-3


@pytest.mark.slow
def test_simulated_qualification_resume_and_cli(tmp_path):
    plan = load_plan(PLAN)
    out = tmp_path / "run.h5"
    full = run_plan(plan, out)
    verdict = {c["serial"]: c["pass"] for c in full["cables"]}
    assert verdict == {"ACC-0001": True, "ACC-0002": True, "ACC-0003": True, "ACC-0004": True,
                       "ACC-0005": False, "ACC-0006": False}  # the 160 mg/m^2 lot fails the 3 m reach gate
    summary = full["summary"]
    assert summary["regressions"]["excess_il_db_106.25"]["significant"]
    assert 50 < summary["carbon_limit_mg_m2"] < 160
    # a run cut after three cables (as a kill would leave it) resumes to the same record
    partial = tmp_path / "partial.h5"
    run_plan(plan, partial)
    with h5py.File(partial, "a") as f:
        for serial in ("ACC-0004", "ACC-0005", "ACC-0006"):
            del f["cables"][serial]
        f["cables"]["ACC-0003"].attrs["complete"] = False  # mid-write
        f.attrs["status"] = "running"
    resumed = run_plan(plan, partial, resume=True)
    assert [c["serial"] for c in resumed["cables"]] == [c["serial"] for c in full["cables"]]
    assert {c["serial"]: c["pass"] for c in resumed["cables"]} == verdict
    assert any("resumed" in e[1] for e in resumed["events"]) and resumed["status"] == "complete"
    proc = run("show", str(partial), "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "complete"
    assert read_run(out)["instruments"]["vna"]["model"] == "N5247B"


def test_qualify_cli_bad_input(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nname = 'x'\n")
    assert_cli_error(run("qualify", str(bad), "-o", str(tmp_path / "r.h5")), "no wire lots")
    assert_cli_error(run("qualify", str(PLAN), "-o", str(tmp_path / "none.h5"), "--resume"), "does not exist")
    assert_cli_error(run("show", str(PLAN)), "cannot read run record")
