"""`accbench qualify`, `show` and `report` as a line engineer runs them: real processes killed with
SIGKILL and interrupted with Ctrl-C, the JSON contract, the report files, and the pytest plugin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest
from accbench.bench.record import read_run

from .test_cli import run
from .test_qualify import PLAN

PLAN_TOML = """[run]
name = "kill-test"
rates_gbd = [53.125, 106.25]
ber_rates_gbd = [53.125]
seed = 5
[[lots]]
id = "L1"
carbon_mg_m2 = 10
[[lots]]
id = "L2"
carbon_mg_m2 = 150
""" + "".join(f'[[cables]]\nserial = "K{i}"\nlot = "L{1 + i % 2}"\nlength_m = 3.0\n' for i in range(6))


def _start(plan, out, *extra) -> subprocess.Popen:
    """The run as a user starts it at a terminal: Ctrl-C armed even when pytest itself runs in a background job
    (where the shell sets SIGINT to ignored, the child would inherit that, and Python would keep ignoring it)."""
    return subprocess.Popen([sys.executable, "-m", "accbench", "qualify", str(plan), "-o", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_recorded(proc: subprocess.Popen, count: int) -> None:
    """Read the per-cable progress lines (stderr is not a terminal) until ``count`` cables are recorded."""
    seen = 0
    while seen < count:
        line = proc.stderr.readline()
        assert line, "the run ended before enough cables were recorded"
        seen += "recorded" in line


def _cables(path) -> tuple[list[dict], dict]:
    run = read_run(path)
    figures = [{k: v for k, v in c.to_dict().items() if k not in ("timing_s", "notes")} for c in run.cables]
    with h5py.File(path, "r") as f:
        arrays = {}
        for serial, group in f["cables"].items():
            arrays[serial] = {}
            group.visititems(lambda name, obj, out=arrays[serial]: out.__setitem__(name, obj[()])
                             if isinstance(obj, h5py.Dataset) else None)
    return figures, arrays


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_record(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN_TOML)
    whole = run("qualify", str(plan), "-o", str(tmp_path / "whole.h5"))
    assert whole.returncode == 0, whole.stderr
    killed = tmp_path / "killed.h5"
    proc = _start(plan, killed)
    _wait_for_recorded(proc, 2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    cut = read_run(killed)
    assert cut.status == "running" and 2 <= len(cut.cables) < 6  # every finished cable readable
    resumed = run("qualify", str(plan), "-o", str(killed), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "done earlier" in resumed.stderr
    figures, arrays = _cables(killed)
    figures_whole, arrays_whole = _cables(tmp_path / "whole.h5")
    assert [c["serial"] for c in figures] == [f"K{i}" for i in range(6)]  # no duplicates, plan order
    assert figures == figures_whole
    for serial, datasets in arrays_whole.items():
        for name, values in datasets.items():
            np.testing.assert_array_equal(arrays[serial][name], values)
    after = read_run(killed)
    assert after.status == "complete" and any("resumed after status running" in e[1] for e in after.events)
    assert after.summary == read_run(tmp_path / "whole.h5").summary


@pytest.mark.slow
def test_ctrl_c_finishes_the_write_and_marks_the_run_interrupted(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN_TOML)
    out = tmp_path / "run.h5"
    proc = _start(plan, out)
    _wait_for_recorded(proc, 1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("accbench: interrupted;") and "--resume" in err
    assert "Traceback" not in err
    record = read_run(out)
    assert record.status == "interrupted" and len(record.cables) >= 1
    shown = run("show", str(out), "--json")
    assert json.loads(shown.stdout)["status"] == "interrupted"
    finished = run("qualify", str(plan), "-o", str(out), "--resume")
    assert finished.returncode == 0 and read_run(out).status == "complete"
    assert len(read_run(out).cables) == 6


@pytest.mark.slow
def test_qualify_json_show_and_report(tmp_path):
    out = tmp_path / "run.h5"
    plan = tmp_path / "plan.toml"  # the example without its COM clauses (tested in test_qualify): half the time
    plan.write_text("\n".join(x for x in PLAN.read_text().splitlines() if not x.startswith("com_clauses")))
    proc = run("qualify", str(plan), "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"cables", "lots", "carbon_limit_mg_m2", "outliers", "model_fit", "status"} <= data.keys()
    for cable in data["cables"]:
        assert {"serial", "wire_lot", "il_db", "reach_m", "power_w", "outcome", "verdicts", "ber"} <= cable.keys()
        assert all({"value", "limit", "unit", "margin", "outcome"} <= v.keys() for v in cable["verdicts"].values())
    for lot in data["lots"]:
        assert {"id", "carbon_mg_m2", "pass_rate"} <= lot.keys()
    assert data["carbon_limit_mg_m2"] is None and data["outliers"] == ["ACC-0007", "ACC-0008"]
    assert data["inference"]["status"] == "insufficient data" and len(data["limits"]) == 2
    table = run("show", str(out))
    assert table.returncode == 0 and "ACC-0007" in table.stdout and "power" in table.stdout
    assert "insufficient data" in table.stdout and "needed:" in table.stdout
    report = run("report", str(out), "-o", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "report" / "index.html").read_text()
    assert page.count("data:image/png;base64,") >= 6 and "W-1003" in page
    names = {p.name for p in (tmp_path / "report").glob("*.png")}
    assert {"reach_vs_carbon.png", "il_W-1001.png", "model_vs_measurement.png"} <= names
    assert any(n.startswith("eye_") for n in names) and any(n.startswith("bathtub_") for n in names)


def test_pytest_plugin_runs_a_qualification_written_as_tests(pytester):
    pytester.makepyfile("""
        import pytest
        from accbench.instruments.bert import BerSettings
        from accbench.instruments.vna import SweepSettings
        from accbench.dsp import AnalysisOptions, analyze

        @pytest.mark.accbench_cables
        def test_loss_and_ber(accbench_dut, accbench_vna, accbench_bert, accbench_power):
            net = accbench_vna.measure_sparams(SweepSettings(10e6, 60e9, 1201)).network
            il = analyze(net, AnalysisOptions(baud=106.25e9)).il_db
            ber = accbench_bert.measure_ber(BerSettings(53.125e9, gate_s=0.05))
            accbench_dut.record(sparameters=net, il_db=il, ber_upper_95=ber.ber_upper)
            assert il < 25, f"{accbench_dut.serial} from lot {accbench_dut.lot.id}"
    """)
    record = pytester.path / "run.h5"
    result = pytester.runpytest_subprocess("-p", "accbench.pytest_plugin", "--accbench-plan", str(PLAN),
                                           "--accbench-record", str(record), "-q")
    result.assert_outcomes(passed=6, failed=2)  # the 160 mg/m^2 lot's two cables
    run_record = read_run(record)
    assert run_record.status == "complete" and len(run_record.cables) == 8
    failed = {c.serial for c in run_record.cables if not c.passed}
    assert failed == {"ACC-0005", "ACC-0006"}
    with h5py.File(record, "r") as f:
        assert f["cables"]["ACC-0001"]["s"].shape == (1201, 4, 4)
    assert run_record.cables[0].extra["il_db"] < 25 and run_record.cables[0].source == "pytest"
    report = run("report", str(record), "-o", str(pytester.path / "report"))
    assert report.returncode == 0, report.stderr
    assert (pytester.path / "report" / "il_W-1003.png").is_file()


def test_pytest_plugin_asks_for_a_plan(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.accbench_cables
        def test_x(accbench_dut):
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "accbench.pytest_plugin", "-q")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*give the qualification plan with --accbench-plan*"])


def test_several_tests_on_one_cable_keep_all_their_figures(pytester):
    plan = pytester.path / "plan.toml"
    plan.write_text('[run]\nname = "two"\nrates_gbd = [53.125]\n[[lots]]\nid = "L"\ncarbon_mg_m2 = 5\n'
                    '[[cables]]\nserial = "A1"\nlot = "L"\nlength_m = 3\n')
    pytester.makepyfile("""
        import pytest
        from accbench.instruments.vna import SweepSettings

        @pytest.mark.accbench_cables
        def test_sweep(accbench_dut, accbench_vna):
            accbench_dut.record(sparameters=accbench_vna.measure_sparams(SweepSettings(10e6, 40e9, 401)).network,
                                swept=1)

        @pytest.mark.accbench_cables
        def test_power(accbench_dut):
            accbench_dut.record(watts=3.0)
    """)
    record = pytester.path / "run.h5"
    result = pytester.runpytest_subprocess("-p", "accbench.pytest_plugin", "--accbench-plan", str(plan),
                                           "--accbench-record", str(record), "-q")
    result.assert_outcomes(passed=2)
    cable = read_run(record).cables[0]
    assert cable.extra == {"swept": 1, "watts": 3.0} and cable.verdict("tests").detail == "passed, passed"
    with h5py.File(record, "r") as f:
        assert f["cables"]["A1"]["s"].shape == (401, 4, 4)  # the first test's sweep, not zeros


def test_installing_accbench_changes_no_other_pytest_session(pytester):
    """Without -p the plugin is not loaded: no accbench options, fixtures or markers leak into a project."""
    pytester.makepyfile("""
        def test_x(request):
            assert "accbench_dut" not in request.fixturenames
            assert request.config.pluginmanager.get_plugin("accbench.pytest_plugin") is None
    """)
    result = pytester.runpytest_subprocess("-q", "--plan", "x")
    result.stderr.fnmatch_lines(["*unrecognized arguments: --plan*"])
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)
