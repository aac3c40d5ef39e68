"""Safety of the run record (issue 13): no silent overwrite, a reader holding the file open, a full disk,
serials and lot ids that cannot name an HDF5 group, and damaged or foreign files given to show/report/resume."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest
from accbench.bench import recordio
from accbench.bench.plan import PlanError, load_plan, parse_plan
from accbench.bench.record import RunRecord, read_model_inputs, read_run, read_sparameters
from accbench.bench.results import CableResult, GateVerdict

from accbench.errors import InputError

from .test_cli import assert_cli_error, run

PLAN_TOML = """[run]
name = "safety"
rates_gbd = [106.25]
ber_rates_gbd = []
seed = 7
[[lots]]
id = "L1"
carbon_mg_m2 = 10
[[lots]]
id = "L2"
carbon_mg_m2 = 150
"""


def _plan(tmp_path: Path, cables: int = 3):
    """A small plan (one rate, judged by the link model: about a second per cable) as a file and a Plan."""
    path = tmp_path / "plan.toml"
    path.write_text(PLAN_TOML + "".join(f'[[cables]]\nserial = "S{i}"\nlot = "L{1 + i % 2}"\nlength_m = 3.0\n'
                                        for i in range(cables)))
    return path, load_plan(path)


def _event(args: tuple) -> tuple[str, str]:
    """(serial, text) of a progress call, whether ``progress(serial, step)`` or ``progress(event)``."""
    return (args[0], args[1]) if len(args) == 2 else (args[0].serial, args[0].text())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_cable(i: int) -> tuple:
    """A cable's data as the run writes it (random S-parameters, so the record grows as a real one)."""
    rng = np.random.default_rng(i)
    gate = GateVerdict("power", "supply draw", "W", 4.0, 5.0, "<=", 1.0, 0.0, "pass" if i % 2 else "fail")
    cable = CableResult(f"C{i}", "L", 1.0, 3.0, 1, verdicts=(gate,))
    s = rng.normal(size=(6000, 4, 4)) + 1j * rng.normal(size=(6000, 4, 4))
    return i, np.linspace(1e7, 6e10, 6000), s, cable, {"eq_cursors_106.25": rng.normal(size=16)}


def _record(path: Path, cables: int = 2) -> RunRecord:
    record = RunRecord(path)
    record.create("t", "plan text", {"lots": [{"id": "L", "carbon_mg_m2": 1.0, "awg": None}]}, {"bench": "sim"})
    for i in range(cables):
        record.write_cable(*_fake_cable(i))
    return record


def _raw_serials(path: Path) -> list[str]:
    """The complete cables in the HDF5 file itself (no journal)."""
    with h5py.File(path, "r") as f:
        return sorted(s for s in f["cables"] if f["cables"][s].attrs.get("complete", False))


class _Reader:
    """Another process holding the record open read-only (HDF5 takes its file lock) until ``release``."""

    def __init__(self, path: Path):
        code = "import sys, h5py; f = h5py.File(sys.argv[1], 'r'); print('open', flush=True); sys.stdin.read()"
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "open"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


class _Untouchable:
    """A bench that fails the test if the run touches it."""

    def __getattr__(self, name):
        raise AssertionError(f"the bench was used ({name}) before the record was checked")


# 1. no silent overwrite


def test_a_new_run_onto_an_existing_record_is_refused_before_any_instrument(tmp_path):
    from accbench.bench.qualify import run_plan

    _, plan = _plan(tmp_path, 1)
    out = tmp_path / "RUN.h5"
    _record(out, 1)
    before = _sha(out)
    with pytest.raises(InputError) as info:
        run_plan(plan, out, _Untouchable())
    assert str(info.value) == f"{out} already holds a run record; continue it (resume) or overwrite it (force)"
    assert info.value.fields == ("resume", "force")  # the CLI puts --resume/--force in front
    assert "\n" not in str(info.value) and _sha(out) == before
    with pytest.raises(InputError, match="exclude each other"):
        run_plan(plan, out, _Untouchable(), resume=True, force=True)
    other = tmp_path / "notes.h5"
    other.write_text("my notes")
    with pytest.raises(InputError, match="already exists and is not a run record"):
        run_plan(plan, other, _Untouchable())
    assert other.read_text() == "my notes"


def test_force_overwrites_the_record_and_drops_its_old_journal(tmp_path):
    from accbench.api import qualify as run_plan

    _, plan = _plan(tmp_path, 1)
    out = tmp_path / "RUN.h5"
    old = _record(out, 2)
    old.journal.add(99, {"run_id": "old-run", "events": [[0, "stale"]]})
    forced = run_plan(plan, out, force=True)
    assert forced.status == "complete" and [c.serial for c in forced.cables] == ["S0"]
    assert not old.journal.dir.exists() and not any("stale" in e[1] for e in forced.events)


def test_a_journal_left_without_its_record_is_not_silently_dropped(tmp_path):
    out = tmp_path / "RUN.h5"
    record = _record(out, 1)
    record.journal.add(5, {"run_id": "x", "events": [[0, "waiting"]]})
    out.unlink()
    with pytest.raises(InputError, match="unmerged cables of a run whose record"):
        RunRecord(out).refuse_overwrite()


# 2. a reader holding the record open


def test_writes_wait_in_the_journal_while_a_reader_holds_the_record(tmp_path):
    out = tmp_path / "RUN.h5"
    record = _record(out, 1)
    reader = _Reader(out)
    try:
        record.write_cable(*_fake_cable(1))
        record.event("an event while locked")
        record.set_instruments({"vna": {"model": "N5247B"}})
        assert record.journaled and _raw_serials(out) == ["C0"]
        seen = read_run(out)  # the journal is shown on top of the record meanwhile
        assert [c.serial for c in seen.cables] == ["C0", "C1"] and seen.instruments["vna"]
        assert record.read() == seen  # the writer's own view: C0 as read back at its merge, C1 from the journal
        assert sorted(read_model_inputs(out)) == [("C0", "106.25"), ("C1", "106.25")]
        assert read_sparameters(out, "C1")[1].shape == (6000, 4, 4)
    finally:
        reader.release()
    record.write_cable(*_fake_cable(2))  # the file is free: everything waiting is merged first
    assert _raw_serials(out) == ["C0", "C1", "C2"] and not record.journal.dir.exists()
    assert record.read() == read_run(out)
    events = [e[1] for e in read_run(out).events]
    assert any("open in another process" in e and "journal" in e for e in events)
    assert any(e.startswith("merged") and "journal" in e for e in events) and "an event while locked" in events


def test_the_writers_view_is_the_record_after_a_cable_is_written_again(tmp_path):
    out = tmp_path / "RUN.h5"
    record = _record(out, 2)
    order, freq_hz, s, cable, arrays = _fake_cable(1)
    record.write_cable(order, freq_hz, s, replace(cable, notes=("measured again",)), arrays)
    assert record.read() == read_run(out)
    assert [c.notes for c in record.read().cables] == [(), ("measured again",)]


@pytest.mark.slow
def test_a_reader_released_midway_loses_no_cable(tmp_path):
    from accbench.api import qualify as run_plan

    _, plan = _plan(tmp_path)
    out = tmp_path / "RUN.h5"
    readers: list[_Reader] = []

    def progress(*args) -> None:
        serial, text = _event(args)
        if "recorded" in text or "journaled" in text:
            if serial == "S0":
                readers.append(_Reader(out))  # S1 goes to the journal
            elif serial == "S1":
                readers[0].release()  # S2's write merges S1 first

    try:
        result = run_plan(plan, out, progress=progress)
    finally:
        for reader in readers:
            reader.release()
    assert result.status == "complete" and [c.serial for c in result.cables] == ["S0", "S1", "S2"]
    assert _raw_serials(out) == ["S0", "S1", "S2"] and not (tmp_path / "RUN.h5.journal").exists()
    events = [e[1] for e in read_run(out).events]
    assert any("open in another process" in e and "RUN.h5.journal" in e for e in events)
    assert any(e.startswith("merged the journal RUN.h5.journal") and ": 1 cable had waited" in e for e in events)


@pytest.mark.slow
def test_a_reader_holding_the_record_to_the_end_never_crashes_the_run(tmp_path):
    from accbench.api import qualify as run_plan

    _, plan = _plan(tmp_path, 2)
    out = tmp_path / "RUN.h5"
    readers: list[_Reader] = []

    def progress(*args) -> None:
        if _event(args)[1] == "sweep" and not readers:
            readers.append(_Reader(out))  # the record exists: it is created before the first sweep

    try:
        result = run_plan(plan, out, progress=progress)
        assert result.status == "complete" and [c.serial for c in result.cables] == ["S0", "S1"]
        assert result.summary["lots"] and _raw_serials(out) == []  # all of it waits in the journal
        assert run("show", str(out)).returncode == 0
    finally:
        for reader in readers:
            reader.release()
    assert RunRecord(out).merge()
    assert _raw_serials(out) == ["S0", "S1"] and read_run(out).status == "complete"
    assert any("journal" in e[1] for e in read_run(out).events)


# 3. a full disk


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
"""


def _limited(limit: int, code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a child whose files may not grow past ``limit`` bytes."""
    return subprocess.run([sys.executable, "-c", _LIMITED + code, str(limit), *args], capture_output=True, text=True,
                          timeout=300)


_MERGE = """
from accbench.bench.record import RunRecord
from accbench.bench.recordio import RecordWriteError
try:
    RunRecord(sys.argv[2]).merge()
except RecordWriteError as exc:
    print(exc)
    sys.exit(3)
"""


def _journaled(path: Path, record: RunRecord, i: int) -> None:
    """Write cable ``i`` while a reader holds the record: it waits in the journal."""
    reader = _Reader(path)
    try:
        record.write_cable(*_fake_cable(i))
    finally:
        reader.release()
    assert record.journaled


def test_a_failed_write_leaves_the_record_byte_identical_and_the_cable_in_the_journal(tmp_path):
    """HDF5 itself segfaults, or leaves /cables pointing past the end of the file, when a write fails;
    the record's writes cannot fail inside HDF5, and a failed write to disk is rolled back."""
    out = tmp_path / "RUN.h5"
    record = _record(out, 2)
    _journaled(out, record, 2)
    before = _sha(out)
    child = _limited(out.stat().st_size + 300_000, _MERGE, str(out))
    assert child.returncode == 3, child.stderr  # a typed error, no segfault
    assert "file size limit reached (File too large)" in child.stdout and "resume the run" in child.stdout
    assert _sha(out) == before and not (tmp_path / "RUN.h5.journal" / "undo.log").exists()
    assert [c.serial for c in read_run(out).cables] == ["C0", "C1", "C2"]  # C2 waits in the journal
    assert RunRecord(out).merge() and _raw_serials(out) == ["C0", "C1", "C2"]


def test_a_write_killed_halfway_is_rolled_back_on_the_next_open(tmp_path):
    out = tmp_path / "RUN.h5"
    record = _record(out, 2)
    _journaled(out, record, 2)
    before = _sha(out)
    child = subprocess.run([sys.executable, "-c", """
import os, sys
from accbench.bench import recordio
from accbench.bench.record import RunRecord
calls = []
original = recordio._pwrite_all
def dying(fd, data, offset):
    calls.append(offset)
    if len(calls) == 3:  # the undo log, the growth, then half of the first page changed in place
        original(fd, data[: len(data) // 2], offset)
        os._exit(9)
    original(fd, data, offset)
recordio._pwrite_all = dying
RunRecord(sys.argv[1]).merge()
""", str(out)], capture_output=True, text=True, timeout=120)
    assert child.returncode == 9, child.stderr
    assert (tmp_path / "RUN.h5.journal" / "undo.log").exists() and _sha(out) != before
    assert [c.serial for c in read_run(out).cables] == ["C0", "C1", "C2"]  # rolled back, C2 from the journal
    assert _sha(out) == before and not (tmp_path / "RUN.h5.journal" / "undo.log").exists()


@pytest.mark.slow
def test_a_full_disk_stops_the_run_cleanly_and_resume_finishes_it(tmp_path):
    from accbench.api import qualify as run_plan

    plan_file, plan = _plan(tmp_path, 4)
    whole = run_plan(plan, tmp_path / "whole.h5")
    per_cable = (tmp_path / "whole.h5").stat().st_size / len(plan.cables)
    out = tmp_path / "RUN.h5"
    child = _limited(int(2.5 * per_cable), "from accbench.cli import main\nsys.exit(main(sys.argv[2:]))",
                     "qualify", str(plan_file), "-o", str(out))
    assert child.returncode == 2 and "Traceback" not in child.stderr, child.stderr  # no signal, no traceback
    errors = [line for line in child.stderr.splitlines() if line.startswith("accbench:")]
    assert errors == [child.stderr.strip().splitlines()[-1]]  # one line, after the progress lines
    assert errors[0].startswith("accbench: error: --resume: cannot write the run record")
    assert "file size limit reached" in errors[0] and "--resume" in errors[0]
    cut = read_run(out)  # S0, S1 in the record; S2, whose merge failed, kept in the journal; S3 not measured
    assert cut.status == "interrupted" and [c.serial for c in cut.cables] == ["S0", "S1", "S2"]
    assert _raw_serials(out) == ["S0", "S1"]
    resumed = run("qualify", str(plan_file), "-o", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    after = read_run(out)
    assert after.status == "complete" and _raw_serials(out) == ["S0", "S1", "S2", "S3"]
    assert any("resumed after status interrupted, 3 cables kept (1 from the journal)" in e[1] for e in after.events)
    assert {c.serial: (c.outcome, c.verdicts) for c in after.cables} == {
        c.serial: (c.outcome, c.verdicts) for c in whole.cables}


# 4. serials and lot ids that cannot name an HDF5 group


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("serial", "ACC/01", "contains '/'"),
    ("serial", ".", "cannot be '.' alone"),
    ("serial", "..", "cannot be '..' alone"),
    ("serial", "A\x00B", "contains a control character"),
    ("serial", "A\nB", "contains a control character"),
    ("serial", " ACC-1", "has leading or trailing spaces"),
    ("serial", "ACC-1 ", "has leading or trailing spaces"),
    ("serial", "", "serial is missing"),
    ("lot", "W/1", "contains '/'"),
    ("lot", "..", "cannot be '..' alone"),
    ("lot", "W1\n", "contains a control character"),
    ("lot", " W1", "has leading or trailing spaces"),
])
def test_names_that_cannot_be_hdf5_groups_are_rejected_by_the_plan(field, value, reason):
    lot = value if field == "lot" else "W1"
    data = {"run": {"name": "x"}, "lots": [{"id": lot, "carbon_mg_m2": 5}],
            "cables": [{"serial": value if field == "serial" else "ACC-1", "lot": lot, "length_m": 3}]}
    with pytest.raises(PlanError) as info:
        parse_plan(data)
    message = str(info.value)
    assert reason in message and "\n" not in message
    if value:
        assert repr(value) in message


def test_ordinary_names_are_accepted():
    data = {"run": {"name": "x"}, "lots": [{"id": "W-1001.a", "carbon_mg_m2": 5}],
            "cables": [{"serial": "ACC 0001.b_2", "lot": "W-1001.a", "length_m": 3}]}
    assert parse_plan(data).cables[0].serial == "ACC 0001.b_2"


# 5. damaged or foreign files


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what the message must say)."""
    good = tmp_path / "good.h5"
    _record(good, 2)
    files = {}
    text = tmp_path / "text.h5"
    text.write_text("serial,il_db\nC0,12.3\n")
    files["text"] = (text, "not an HDF5 file")
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    files["empty"] = (empty, "the file is empty")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    files["truncated"] = (truncated, "the file is truncated")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    files["foreign"] = (foreign, "not an accbench run record")
    for name, damage, needle in (
            ("noattr", lambda f: f.attrs.__delitem__("plan_json"), "attribute 'plan_json' missing"),
            ("nocables", lambda f: f.__delitem__("cables"), "group '/cables' missing"),
            ("badjson", lambda f: f.attrs.__setitem__("events_json", "[oops"), "events_json is not valid JSON"),
            ("badcable", lambda f: f["cables"]["C1"].__delitem__("verdicts"),
             "damaged run record: cable 'C1'")):
        path = tmp_path / f"{name}.h5"
        shutil.copy(good, path)
        with h5py.File(path, "a") as f:
            damage(f)
        files[name] = (path, needle)
    return files


def test_damaged_or_foreign_files_are_one_clean_line_at_the_api(tmp_path):
    for name, (path, needle) in _bad_files(tmp_path).items():
        for call, prefix in ((read_run, "cannot read run record"),
                             (lambda p: RunRecord(p).open_for_resume("plan text"), "cannot resume: cannot open")):
            with pytest.raises(InputError) as info:
                call(path)
            message = str(info.value)
            assert message.startswith(f"{prefix} {path}") and needle in message and "\n" not in message, (name, message)
    with pytest.raises(InputError, match="a folder"):
        read_run(tmp_path)


def test_damaged_or_foreign_files_through_show_and_report(tmp_path):
    for name, (path, needle) in _bad_files(tmp_path).items():
        if name not in ("text", "truncated", "foreign", "noattr"):
            continue
        for args in (("show", str(path)), ("report", str(path), "-o", str(tmp_path / f"rep-{name}"))):
            proc = run(*args)
            assert_cli_error(proc, needle)
            assert "cannot read run record" in proc.stderr


def test_the_undo_log_format_rolls_back_exactly(tmp_path):
    """The record's all-or-nothing write: a write that fails leaves the file as it was (unit level)."""
    path = tmp_path / "x.h5"
    _record(path, 1)
    before = _sha(path)
    with pytest.raises(RuntimeError), recordio.write_session(path) as f:
        f["cables"]["C0"].attrs["pass"] = False
        raise RuntimeError("an error inside the block writes nothing")
    assert _sha(path) == before
