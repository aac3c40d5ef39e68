"""Running sweeps: Parquet with the spec, resume after a crash, refusal of another spec, Dask local and remote."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from accbench.cli import main
from accbench.errors import InputError
from accbench.sweep import read_results, run_sweep
from accbench.sweep.store import META_HASH, META_SPEC

FAST = """
[sweep]
kind = "grid"
outputs = ["loss"]
[parameters]
awg = [26, 28, 30]
length_m = [1.0, 2.0, 3.0, 4.0]
carbon_mg_m2 = 80.0
"""
VARYING = ("elapsed_s", "worker")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def table_rows(path: Path, drop: tuple[str, ...] = VARYING) -> list[dict]:
    """The rows of a result file without the columns that differ from run to run."""
    return [{k: v for k, v in row.items() if k not in drop} for row in pq.read_table(path).to_pylist()]


def cli_run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_results_carry_the_spec_and_one_row_per_point(tmp_path):
    spec = write(tmp_path / "fast.toml", FAST)
    out = tmp_path / "fast.parquet"
    summary = run_sweep(spec, out, workers=0, batch_points=5)
    assert (summary.points, summary.computed, summary.done_before, summary.ok) == (12, 12, 0, 12)
    table, text = read_results(out)
    assert text == FAST and table.schema.metadata[META_SPEC].decode() == FAST
    assert table.schema.metadata[META_HASH].decode() == summary.spec_hash
    assert table.column_names == ["point", "awg", "length_m", "carbon_mg_m2", "il_db", "il_db_per_m", "status",
                                  "error", "elapsed_s", "worker"]
    assert table.column("point").to_pylist() == list(range(12))
    il = table.column("il_db").to_pylist()
    assert all(a < b for a, b in itertools.pairwise(il[:4]))  # loss grows with length
    assert not (tmp_path / "fast.parquet.parts").exists()


def test_resume_computes_only_the_missing_points(tmp_path):
    spec = write(tmp_path / "fast.toml", FAST)
    whole, partial = tmp_path / "whole.parquet", tmp_path / "partial.parquet"
    run_sweep(spec, whole, workers=0)
    table = pq.read_table(whole)
    pq.write_table(table.slice(0, 5), partial)  # a run that recorded 5 points (same spec, same metadata)
    first = pq.read_table(partial).to_pylist()
    summary = run_sweep(spec, partial, workers=0)
    assert (summary.done_before, summary.computed) == (5, 7)
    assert table_rows(partial) == table_rows(whole)
    assert pq.read_table(partial).slice(0, 5).to_pylist() == first  # recorded rows are kept as they were
    again = run_sweep(spec, partial, workers=0)
    assert (again.done_before, again.computed) == (12, 0)


SLOW = """
[sweep]
kind = "grid"
outputs = ["loss", "link"]
[parameters]
awg = [26, 30]
length_m = [1.0, 2.0, 3.0, 4.0]
baud_gbd = 106.25
"""


@pytest.mark.slow
def test_a_killed_sweep_resumes_to_the_same_table(tmp_path):
    spec = write(tmp_path / "slow.toml", SLOW)
    out = tmp_path / "killed.parquet"
    parts = tmp_path / "killed.parquet.parts"
    code = ("import sys; from accbench.sweep import run_sweep; "
            "run_sweep(sys.argv[1], sys.argv[2], workers=0, batch_points=1)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(spec), str(out)])
    try:
        deadline = time.monotonic() + 120
        while len(list(parts.glob("part-*.parquet"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # no chance to clean up: what a power cut leaves
    finally:
        proc.wait()
    recorded = len(list(parts.glob("part-*.parquet")))
    assert 2 <= recorded < 8 and not out.exists(), "the sweep finished before it could be killed"
    resumed = run_sweep(spec, out, workers=0)
    assert (resumed.done_before, resumed.computed) == (recorded, 8 - recorded)
    run_sweep(spec, tmp_path / "whole.parquet", workers=0)
    assert table_rows(out) == table_rows(tmp_path / "whole.parquet")
    assert not parts.exists()


@pytest.mark.slow
def test_ctrl_c_merges_what_is_done_and_exits_130(tmp_path):
    spec = write(tmp_path / "slow.toml", SLOW)
    out = tmp_path / "stopped.parquet"
    parts = tmp_path / "stopped.parquet.parts"
    # SIGINT armed explicitly: a child of a background job (nohup, CI runners) inherits SIGINT ignored
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from accbench.cli import main; sys.exit(main(['sweep', sys.argv[1], '-o', sys.argv[2], '--workers', '0', "
            "'--batch', '1', '--quiet']))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(spec), str(out)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(list(parts.glob("part-*.parquet"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    recorded = pq.read_metadata(out).num_rows
    assert 2 <= recorded < 8 and not parts.exists()
    assert err.strip() == (f"accbench: sweep interrupted: {recorded} of 8 points are recorded in {out}; "
                           "run the same command again to continue")
    resumed = run_sweep(spec, out, workers=0)
    assert (resumed.done_before, resumed.computed, resumed.ok) == (recorded, 8 - recorded, 8)


def test_another_spec_is_refused_unless_forced(tmp_path, capsys):
    out = tmp_path / "out.parquet"
    run_sweep(write(tmp_path / "a.toml", FAST), out, workers=0)
    other = write(tmp_path / "b.toml", FAST.replace("80.0", "100.0"))
    with pytest.raises(InputError, match=r"holds the results of another sweep spec .*--force.*new output"):
        run_sweep(other, out, workers=0)
    code, _, err = cli_run(capsys, "sweep", str(other), "-o", str(out), "--workers", "0")
    assert code == 2 and err.count("\n") == 1 and "--force" in err and err.startswith("accbench: error:")
    summary = run_sweep(other, out, workers=0, force=True)
    assert summary.computed == 12 and read_results(out)[1] == other.read_text()
    not_a_result = write(tmp_path / "notes.parquet", "not parquet")
    with pytest.raises(InputError, match=r"another sweep spec \(or is not a sweep result"):
        run_sweep(other, not_a_result, workers=0)


FAILING = """
[sweep]
kind = "grid"
outputs = ["loss", "sparams"]
[parameters]
awg = 26
length_m = 2.0
baud_gbd = [53.125, 150.0]
"""


def test_a_failed_point_is_a_row_and_can_be_retried(tmp_path, capsys):
    """150 GBd has its Nyquist (75 GHz) above the synthesized band (60 GHz): that point fails, the other does not."""
    spec = write(tmp_path / "failing.toml", FAILING)
    out = tmp_path / "failing.parquet"
    code, text, err = cli_run(capsys, "sweep", str(spec), "-o", str(out), "--workers", "0")
    assert code == 0 and "1 ok, 1 failed" in text
    assert err.strip() == "accbench: warning: 1 point(s) failed; their reasons are in the error column"
    ok, failed = pq.read_table(out).to_pylist()
    assert ok["status"] == "ok" and ok["il_fitted_db"] > 0
    assert failed["status"] == "failed" and failed["error"].startswith("BandError:") and "60 GHz" in failed["error"]
    assert failed["il_fitted_db"] is None and failed["il_db"] is None  # a failed point has no outputs
    assert run_sweep(spec, out, workers=0).computed == 0
    again = run_sweep(spec, out, workers=0, retry_failed=True)
    assert (again.computed, again.failed) == (1, 1)


def test_cli_errors_are_one_line(tmp_path, capsys):
    spec = write(tmp_path / "bad.toml", '[sweep]\nkind = "grid"\n[parameters]\nawg = 99\n')
    for args, needle in ((["sweep", str(spec)], "awg = 99 is out of range"),
                         (["sweep", str(tmp_path / "none.toml")], "cannot read sweep spec"),
                         (["sweep", str(spec), "--scheduler", "localhost"], "tcp://HOST:PORT"),
                         (["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"],
                          "leave --workers out"),
                         (["sweep", str(spec), "-o", str(tmp_path / "no" / "out.parquet")], "does not exist")):
        code, _, err = cli_run(capsys, *args)
        assert code == 2 and err.count("\n") == 1 and err.startswith("accbench: error:") and needle in err, err


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    import socket

    from accbench.sweep import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = cli_run(capsys, "sweep", str(write(tmp_path / "f.toml", FAST)), "--scheduler",
                           f"tcp://127.0.0.1:{port}")
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err, err


@pytest.mark.slow
def test_local_cluster_matches_the_in_process_run(tmp_path, capsys):
    spec = write(tmp_path / "fast.toml", FAST)
    code, text, _ = cli_run(capsys, "sweep", str(spec), "-o", str(tmp_path / "dask.parquet"), "--workers", "2",
                            "--batch", "2", "--json")
    assert code == 0
    summary = json.loads(text)
    assert (summary["computed"], summary["workers"], summary["batch_points"]) == (12, 2, 2)
    run_sweep(spec, tmp_path / "local.parquet", workers=0)
    assert table_rows(tmp_path / "dask.parquet") == table_rows(tmp_path / "local.parquet")
    workers = set(pq.read_table(tmp_path / "dask.parquet").column("worker").to_pylist())
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)


@pytest.mark.slow
def test_a_real_scheduler_and_worker_on_loopback(tmp_path, capsys):
    """``dask scheduler`` and ``dask worker`` as separate processes; the sweep connects with --scheduler."""
    address_file = tmp_path / "scheduler.json"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    dask = [sys.executable, "-m", "dask"]
    scheduler = subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(address_file)], env=env, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        worker = subprocess.Popen([*dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--no-dashboard", "--name", "sweep-test"], env=env, stderr=subprocess.DEVNULL)
        spec = write(tmp_path / "fast.toml", FAST)
        code, text, err = cli_run(capsys, "sweep", str(spec), "-o", str(tmp_path / "remote.parquet"),
                                  "--scheduler", address, "--json")
        assert code == 0, err
        summary = json.loads(text)
        assert (summary["computed"], summary["ok"], summary["scheduler"]) == (12, 12, address)
        table = pq.read_table(tmp_path / "remote.parquet")
        assert len(set(table.column("worker").to_pylist())) == 1
        assert table.column("worker")[0].as_py().startswith("tcp://127.0.0.1:")
        run_sweep(spec, tmp_path / "local.parquet", workers=0)
        assert table_rows(tmp_path / "remote.parquet") == table_rows(tmp_path / "local.parquet")
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
        for proc in (worker, scheduler):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
