"""Qualification runs: plan validation, the full simulated run (gates, carbon regression, model fit),
the record and resume, instrument faults during a run, and the CLI."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from accbench.bench.plan import PlanError, load_plan, parse_plan
from accbench.bench.record import read_run
from accbench.bench.traceability import hinge_fit
from accbench.sim.station import SimulatedStation

from accbench.api import qualify as run_plan
from accbench.errors import InputError

from .conftest import FIXTURES
from .test_cli import assert_cli_error, run

PLAN = FIXTURES / "plans" / "lot-qual-example.toml"


BERT_RATES = (53.125, 106.25)  # the simulated M8040A counts errors at 53.125 GBd; 106.25 is judged by the model


def small_plan(carbons=(10.0,), cables_per_lot: int = 1, rates=(106.25,), faults: str = "", seed: int = 3,
               lanes: int = 1, ber_rates=None):
    """A plan built in the test: one lot per carbon level, 3 m cables; BER measured at the rates the
    simulated M8040A reaches unless ``ber_rates`` says otherwise."""
    lots = [{"id": f"L{i}", "carbon_mg_m2": c} for i, c in enumerate(carbons)]
    cables = [{"serial": f"C{i}-{k}", "lot": lot["id"], "length_m": 3.0, "lanes": lanes}
              for i, lot in enumerate(lots) for k in range(cables_per_lot)]
    ber = [r for r in rates if r <= 64.8] if ber_rates is None else list(ber_rates)
    data = {"run": {"name": "t", "rates_gbd": list(rates), "ber_rates_gbd": ber, "seed": seed}, "lots": lots,
            "cables": cables, "sim": {"faults": faults}}
    return parse_plan(data, source=json.dumps(data))


def test_example_plan_loads():
    plan = load_plan(PLAN)
    assert plan.rates_gbd == (53.125, 106.25) and len(plan.cables) == 8
    assert plan.lots["W-1003"].carbon_mg_m2 == 160 and plan.sim["units"]["ACC-0007"]["extra_power_w"] == 2.2
    assert plan.measured_rates_gbd == (53.125,)
    assert plan.gate_s == 1.0 and plan.pattern == "PRBS13Q"


LOT = [{"id": "L", "carbon_mg_m2": 5}]


@pytest.mark.parametrize(("data", "needle"), [
    ({"run": {"name": "x"}, "lots": LOT, "cables": [{"serial": "A", "lot": "Q", "length_m": 3}]}, "unknown lot 'Q'"),
    ({"run": {"name": "x"}, "lots": LOT, "cables": [{"serial": "A", "lot": "L", "length_m": -1}]},
     "length_m = -1 is out of range"),
    ({"run": {"name": "x"}, "lots": [{"id": "L", "carbon_mg_m2": 5000}],
      "cables": [{"serial": "A", "lot": "L", "length_m": 3}]}, "carbon_mg_m2 = 5000 is out of range 0..1000"),
    ({"run": {"name": "x"}, "lots": LOT,
      "cables": [{"serial": "A", "lot": "L", "length_m": 3}, {"serial": "A", "lot": "L", "length_m": 3}]},
     "duplicate serial 'A'"),
    ({"lots": [{"id": "L"}], "cables": [{"serial": "A", "lot": "L", "length_m": 3}]}, "[run] name is missing"),
    ({"run": {"name": "x"}, "lots": [{"id": "L"}], "cables": [{"serial": "A", "lot": "L", "length_m": 3}]},
     "carbon_mg_m2 is missing"),
    ({"run": {"name": "x"}, "lots": LOT, "cables": [{"serial": "A", "lot": "L", "length_m": 3}], "sim": 3},
     "[sim] must be a table"),
    ({"run": {"name": "x", "pattern": "PRBS99"}, "lots": LOT, "cables": [{"serial": "A", "lot": "L", "length_m": 3}]},
     "pattern = 'PRBS99'"),
    ({"run": {"name": "x", "rates_gbd": [53.125, 53.125]}, "lots": LOT,
      "cables": [{"serial": "A", "lot": "L", "length_m": 3}]}, "53.125 GBd is given twice"),
])
def test_bad_plans_name_every_problem(data, needle):
    with pytest.raises(PlanError) as info:
        parse_plan(data)
    assert needle in str(info.value)


@pytest.mark.parametrize(("sim", "needle"), [
    ({"units": {"B": {"extra_power_w": 1}}}, "no cable 'B' in the plan"),
    ({"faults": "vna.melt"}, "unknown fault 'melt'"),
    ({"units": {"A": {"noise_factor": float("nan")}}}, "noise_factor = nan"),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"faults": "bert.drop@3/B9"}, "no cable 'B9' in the plan"),
])
def test_the_simulator_validates_the_plans_sim_table(sim, needle):
    plan = parse_plan({"run": {"name": "x"}, "lots": LOT, "cables": [{"serial": "A", "lot": "L", "length_m": 3}],
                       "sim": sim})
    with pytest.raises(InputError, match=needle.replace("[", r"\[")):
        SimulatedStation.for_plan(plan)


def test_every_problem_is_listed_at_once():
    data = {"run": {"name": "x"}, "lots": [{"id": "L", "carbon_mg_m2": -3}],
            "cables": [{"serial": "A", "lot": "Q", "length_m": 3}, {"serial": "A", "lot": "L", "length_m": 0}]}
    with pytest.raises(PlanError) as info:
        parse_plan(data)
    for needle in ("carbon_mg_m2 = -3", "unknown lot 'Q'", "duplicate serial 'A'", "length_m = 0 is out of range"):
        assert needle in str(info.value)


def test_lots_csv_errors_carry_the_line_number(tmp_path):
    (tmp_path / "lots.csv").write_text("id,carbon_mg_m2,grade\nW1,10,Cu-OFC\nW2,abc,Cu-ETP\n")
    plan = tmp_path / "p.toml"
    plan.write_text('lots_csv = "lots.csv"\n[run]\nname = "x"\n[[cables]]\nserial = "A"\nlot = "W1"\nlength_m = 3\n')
    with pytest.raises(PlanError, match=r"lots.csv line 3 carbon_mg_m2 is not a number"):
        load_plan(plan)


def test_hinge_fit_recovers_a_known_threshold_and_says_no_effect():
    x = np.array([0, 20, 40, 60, 80, 100, 150, 200.0])
    fit = hinge_fit(x, 0.05 * np.maximum(0, x - 50) + 1.0)
    assert fit["threshold_mg_m2"] == pytest.approx(50, abs=5) and fit["slope_per_mg_m2"] == pytest.approx(0.05, 0.02)
    flat = hinge_fit(x, 1.0 + np.random.default_rng(1).normal(0, 0.01, x.size))
    assert not flat["significant"] or abs(flat["slope_per_mg_m2"]) < 1e-3


def test_hinge_fit_takes_a_varying_covariate_and_drops_a_constant_one():
    rng = np.random.default_rng(4)
    x = np.repeat([0, 25, 50, 75, 100, 150, 200.0], 2)
    grade = np.tile([0.0, 1.0], 7)
    y = 0.02 * np.maximum(0, x - 50) + 0.3 * grade + rng.normal(0, 0.01, x.size)
    fit = hinge_fit(x, y, {"grade_ofc": grade, "awg": np.full(x.size, 26.0)})
    assert fit["covariates"]["grade_ofc"]["coef"] == pytest.approx(0.3, abs=0.03)
    assert fit["covariates"]["grade_ofc"]["significant"] and "awg" in fit["covariates_dropped"]
    assert fit["threshold_mg_m2"] == pytest.approx(50, abs=10)


@pytest.mark.slow
def test_simulated_qualification_of_the_example_plan(tmp_path):
    plan = load_plan(PLAN)
    full = run_plan(plan, tmp_path / "run.h5")
    cables = {c.serial: c for c in full.cables}
    outcome = {s: c.outcome for s, c in cables.items()}
    assert outcome == {"ACC-0001": "pass", "ACC-0002": "pass", "ACC-0003": "pass", "ACC-0004": "pass",
                       "ACC-0005": "fail", "ACC-0006": "fail", "ACC-0007": "fail", "ACC-0008": "pass"}
    # below the carbon threshold the reach gate passes; the 160 mg/m^2 lot reaches 2.99 m of the 3 m gate,
    # within the reach search's resolution (marginal), and fails the IL mask
    assert all(cables[s].verdict("reach").passed for s in ("ACC-0001", "ACC-0003", "ACC-0007"))
    bad = cables["ACC-0005"]
    assert bad.verdict("reach").outcome == "marginal" and bad.verdict("il_mask").outcome == "fail"
    assert bad.verdict("power").passed
    # the over-power unit fails the power gate only
    assert [v.name for v in cables["ACC-0007"].verdicts if not v.passed] == ["power"]
    assert cables["ACC-0007"].power_w > 5.0 and cables["ACC-0007"].verdict("power").margin < 0
    # the two-lane cable has a BER per lane at the rate the BERT reaches; 106.25 GBd is judged by the model
    assert [len(r.lanes) for r in cables["ACC-0008"].rates] == [2, 0]
    assert [(r.ber_measured, r.judged_by) for r in cables["ACC-0008"].rates] == [
        (True, "bert"), (False, "link model")]
    ber = cables["ACC-0001"].verdict("ber")
    assert ber.passed and "53.125 GBd" in ber.detail and ber.limit == plan.target_ber
    assert cables["ACC-0007"].power_at_gbd == 53.125
    summary = full.summary
    # three lots at three carbon levels: the lot-level statistics say so, and what more lots would settle it
    assert summary["inference"]["status"] == "insufficient data" and summary["inference"]["needed"]
    assert summary["carbon_limit_mg_m2"] is None and all(lim["status"] == "insufficient data"
                                                          for lim in summary["limits"])
    lots = {lot["id"]: lot for lot in summary["lots"]}
    assert lots["W-1001"]["unit_defects"] == 1 and lots["W-1001"]["wire_pass_rate"] == 1.0  # ACC-0007: power
    # model against measurement: the noisy unit (the only one counting errors at 53 GBd) and the
    # over-power unit are the outliers; without the noisy unit no gate counts errors, and the fit says so
    model = summary["model_vs_measurement"]
    assert model["outliers"] == ["ACC-0007", "ACC-0008"]
    assert model["ber"]["fit"]["noise_scale"] is None and "no measurement counted errors" in model["ber"]["fit"]["note"]
    assert model["power"]["scale"] == pytest.approx(1.0, abs=0.01)
    assert read_run(tmp_path / "run.h5").instruments["vna"]["model"] == "N5247B"
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert f["cables"]["ACC-0001"]["s"].shape == (6000, 4, 4)
        assert f.attrs["status"] == "complete" and f.attrs["schema"] == "accbench-run/2"
    # IEEE COM and ERL of the passive assembly per clause and rate, in the record, show, JSON and report
    for serial, c in cables.items():
        coms = {r.com.clause: r.com for r in c.rates if r.com is not None}
        assert set(coms) == {"802.3ck-cr", "802.3dj-cr"}, serial
        assert coms["802.3ck-cr"].erl_db > coms["802.3ck-cr"].erl_db_min == 8.25  # no discontinuity in the twin
        assert coms["802.3dj-cr"].erl_db is None  # no public 802.3dj ERL parameters (README)
    low, high = cables["ACC-0001"], cables["ACC-0005"]
    for clause in ("802.3ck-cr", "802.3dj-cr"):
        # 160 mg/m^2 of carbon costs COM at both rates; the low-carbon lot passes with margin
        assert high.com_db[clause] < low.com_db[clause] - 2
        assert low.com_db[clause] > 5
    assert low.verdict("com").passed and low.verdict("erl").passed
    shown = run("show", str(tmp_path / "run.h5"))
    assert shown.returncode == 0 and "COM ck" in shown.stdout and "COM dj" in shown.stdout
    data = json.loads(run("show", str(tmp_path / "run.h5"), "--json").stdout)
    assert data["cables"][0]["com"]["802.3ck-cr"]["com_db"] == pytest.approx(low.com_db["802.3ck-cr"])
    assert data["cables"][0]["verdicts"]["reach"]["unit"] == "m" and data["cables"][4]["outcome"] == "fail"
    assert run("report", str(tmp_path / "run.h5"), "-o", str(tmp_path / "rep")).returncode == 0
    assert "COM 802.3dj-cr" in (tmp_path / "rep" / "index.html").read_text()


@pytest.mark.slow
def test_regression_recovers_the_twins_carbon_hypothesis(tmp_path):
    """The twin's roughening starts at 50 mg/m^2: no excess loss below it (the baseline is the same
    wire at zero carbon), a significant rise above; the hinges of excess loss and reach find the
    onset (the roughness loss starts gently, so a straight hinge puts its knee up to ~15 late)."""
    plan = small_plan(carbons=(0, 20, 40, 60, 80, 120, 160), rates=(53.125, 106.25))
    summary = run_plan(plan, tmp_path / "run.h5").summary
    for key in ("excess_il_db_53.125", "excess_il_db_106.25"):
        fit = summary["regressions"][key]
        assert fit["significant"] and 40 <= fit["threshold_mg_m2"] <= 66 and abs(fit["intercept"]) < 0.05
    assert 40 <= summary["regressions"]["reach_m"]["threshold_mg_m2"] <= 60
    excess = {lot["carbon_mg_m2"]: lot["excess_il_db_106.25"] for lot in summary["lots"]}
    assert all(abs(excess[c]) < 0.05 for c in (0, 20, 40)) and all(excess[c] > 0.3 for c in (60, 80, 120, 160))


@pytest.mark.slow
def test_no_carbon_effect_is_reported_as_such(tmp_path):
    summary = run_plan(small_plan(carbons=(0, 10, 20, 30, 40, 45)), tmp_path / "run.h5").summary
    assert summary["effect"] == "no significant effect" and summary["carbon_limit_mg_m2"] is None


def test_a_fault_on_each_instrument_is_retried_and_the_run_goes_on(tmp_path):
    """An SCPI error on each instrument: the run re-opens it and repeats the step. (A dropped link is
    mended inside the driver, which repeats its whole measurement step.)"""
    plan = small_plan(cables_per_lot=3, faults="vna.error@30,bert.error@25,power.error@14", rates=BERT_RATES)
    out = run_plan(plan, tmp_path / "run.h5")
    assert out.status == "complete" and len(out.cables) == 3 and all(c.passed for c in out.cables)
    notes = " ".join(n for c in out.cables for n in c.notes)
    events = " ".join(text for _, text in out.events)
    for role in ("vna", "bert", "power"):
        assert f"{role}: " in notes and "re-opened and retried" in notes
        assert f": {role}: " in events  # every recovered fault is an event of the run


def test_a_persistent_fault_is_recorded_against_its_cable(tmp_path):
    plan = small_plan(cables_per_lot=4, faults="bert.drop@8x4/C0-0", rates=BERT_RATES)
    out = run_plan(plan, tmp_path / "run.h5")
    first, *rest = out.cables
    assert out.status == "complete" and len(out.cables) == 4
    assert first.instrument_error and "cannot reach" in first.instrument_error and first.outcome == "fail"
    assert all(c.passed and not c.instrument_error for c in rest)
    assert any("C0-0: instrument error" in e[1] for e in out.events)
    # the retry that preceded the persistent failure is kept too, though the cable never finished
    assert any(e[1].startswith("C0-0: bert:") and "re-opened and retried" in e[1] for e in out.events)
    from accbench.bench.htmlreport import write_report

    page = write_report(tmp_path / "run.h5", tmp_path / "report").read_text()
    assert "ERROR" in page and "C0-1" in page


def test_resume_drops_a_half_written_cable_and_repeats_the_uninterrupted_run(tmp_path):
    plan = small_plan(carbons=(10, 100), cables_per_lot=2)
    full = run_plan(plan, tmp_path / "full.h5")
    partial = tmp_path / "partial.h5"
    run_plan(plan, partial)
    with h5py.File(partial, "a") as f:
        del f["cables"]["C1-1"]
        f["cables"]["C1-0"].attrs["complete"] = False  # as a kill mid-write leaves it
        f.attrs["status"] = "running"
    resumed = run_plan(plan, partial, resume=True)
    assert [c.serial for c in resumed.cables] == [c.serial for c in full.cables]
    assert _comparable(resumed) == _comparable(full)
    assert any("resumed" in e[1] for e in resumed.events) and resumed.status == "complete"


def test_a_resumed_run_with_faults_repeats_the_uninterrupted_one_and_records_every_fault(tmp_path):
    """Fault schedules are kept per cable and lane (like the twin's noise): a run cut after two cables and
    resumed gives the same per-cable data and verdicts as one that ran through, and every fault that fired,
    recovered or not, is an event of the record."""
    faults = "vna.error~0.004,bert.error~0.01,power.error~0.02,bert.drop@3/C1-0"
    plan = small_plan(carbons=(10, 100), faults=faults, rates=BERT_RATES)
    full = run_plan(plan, tmp_path / "full.h5")
    partial = tmp_path / "partial.h5"
    run_plan(plan, partial)
    with h5py.File(partial, "a") as f:
        del f["cables"]["C1-0"]
        f.attrs["status"] = "interrupted"
    resumed = run_plan(plan, partial, resume=True)
    assert _comparable(resumed) == _comparable(full) and [c.notes for c in resumed.cables] == [
        c.notes for c in full.cables]
    fired = [text for _, text in full.events if "simulated fault" in text]
    assert any("bert.drop fired" in text and "C1-0 lane 1" in text for text in fired)
    recovered = [n for c in full.cables for n in c.notes]
    assert recovered and len(fired) >= len(recovered)  # every retry follows a fault the twin logged


def test_a_failed_lot_summary_still_finishes_the_record(tmp_path, monkeypatch):
    """Every cable is recorded before the summary: if the summary fails the record is still complete, and says why."""
    import accbench.bench.qualify as qualify_module

    def broken(plan, cables, outliers=None):
        raise RuntimeError("summary bug")

    monkeypatch.setattr(qualify_module, "lot_summary", broken)
    with pytest.raises(RuntimeError, match="summary bug"):
        run_plan(small_plan(), tmp_path / "run.h5")
    record = read_run(tmp_path / "run.h5")
    assert record.status == "complete" and len(record.cables) == 1
    assert record.summary == {"error": "the lot summary failed: summary bug"}


def _comparable(run) -> list[dict]:
    """Per-cable figures without wall-clock timings and retry notes."""
    return [{k: v for k, v in c.to_dict().items() if k not in ("timing_s", "notes")} for c in run.cables]


def test_qualify_cli_bad_input(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nname = 'x'\n")
    assert_cli_error(run("qualify", str(bad), "-o", str(tmp_path / "r.h5")), "no wire lots")
    assert_cli_error(run("qualify", str(PLAN), "-o", str(tmp_path / "none.h5"), "--resume"), "does not exist")
    assert_cli_error(run("show", str(PLAN)), "cannot read run record")
    assert_cli_error(run("report", str(PLAN), "-o", str(tmp_path / "rep")), "cannot read run record")
    assert_cli_error(run("qualify", str(PLAN), "-o", str(tmp_path / "r.h5"), "--bench", str(tmp_path / "no.toml")),
                     "cannot read bench file")
