"""The results database: schema and migrations, a live run with --db, idempotent ingest of both record schemas,
queries, two stations writing at once (SQLite and a real PostgreSQL server), and a database that fails mid-run."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import h5py
import pytest
from accbench.bench.events import CableRecorded, RunFinished, RunStarted
from accbench.bench.record import read_run
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from accbench.db import migrate
from accbench.db.connect import DatabaseError
from accbench.db.database import Database, upgrade_database
from accbench.db.ingest import ingest, run_key
from accbench.db.models import Base, Cable, Event, Instrument, LaneCount, Lot, RateFigures, Run, Station, Verdict
from accbench.db.query import Filters, parse_moment, query_cables
from accbench.db.sink import DatabaseSink
from accbench.errors import InputError

from . import pg_fixture
from .conftest import FIXTURES

pg_server, pg_url, qualified_run = pg_fixture.pg_server, pg_fixture.pg_url, pg_fixture.qualified_run  # fixtures

V1 = FIXTURES / "records" / "v1-example.h5"


def counts(db: Database) -> dict[str, int]:
    """Rows per table."""
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``accbench ARGS`` through the CLI's entry point (exit code, stdout, stderr); the commands registered here
    until the lead registers them in accbench.cli."""
    from accbench.cli import cli as group
    from accbench.cli import main
    from accbench.cli.db import db
    from accbench.cli.run import qualify
    from accbench.cli.trend import trend

    for command_ in (db, trend, qualify):
        group.add_command(command_)
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code: int, err: str, needle: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accbench: error:") and needle in lines[0], err


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, tmp_path) -> str:
    """A fresh empty database of each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "results.db")
    return request.getfixturevalue("pg_url")


# --- schema ---------------------------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_models_and_undo_cleanly(any_url):
    before, after = upgrade_database(any_url)
    assert (before.state, after.state, after.revision) == ("empty", "current", migrate.head_revision())
    with Database(any_url) as db, db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []  # Alembic's autogenerate finds nothing to change
        command.downgrade(migrate.alembic_config(conn), "base")
        conn.commit()
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert upgrade_database(any_url)[1].state == "current"


def test_a_reader_never_creates_a_database_and_a_writer_creates_an_empty_one(tmp_path):
    path = tmp_path / "new.db"
    with pytest.raises(DatabaseError, match=r"no results database at .*new.db: write runs into it first"):
        Database(path)
    assert not path.exists()
    Database(path, write=True).close()
    assert path.exists()
    with Database(path) as db:
        assert db.state.state == "current" and counts(db)["runs"] == 0
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # an empty SQLite file: a reader is told there is nothing in it
    with pytest.raises(DatabaseError, match="holds no accbench results yet"):
        Database(empty)


def test_older_newer_and_foreign_schemas_are_refused_with_the_fix(tmp_path, monkeypatch):
    url = tmp_path / "r.db"
    Database(url, write=True).close()
    with sqlite3.connect(url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00d'")
    with pytest.raises(DatabaseError, match=r"schema f00d, newer than this accbench knows .*: upgrade accbench"):
        Database(url, write=True)
    with pytest.raises(DatabaseError, match="newer than this accbench"):
        upgrade_database(url)
    with sqlite3.connect(url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    # this accbench one revision ahead of the database: it says how to migrate, and writes nothing meanwhile
    monkeypatch.setattr(migrate, "head_revision", lambda: "0002")
    monkeypatch.setattr(migrate, "known_revisions", lambda: ["0002", "0001"])
    with pytest.raises(DatabaseError, match=f"older than this accbench's 0002: run accbench db upgrade sqlite:///{url}"):
        Database(url, write=True)
    monkeypatch.undo()
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE runs (x INTEGER)")
    with pytest.raises(DatabaseError, match="no accbench schema version: not an accbench results database"):
        Database(foreign, write=True)


@pytest.mark.parametrize(("url", "needle"), [
    ("mysql://u@h/db", "backend 'mysql' is not supported"),
    ("sqlite://", "an in-memory SQLite database keeps nothing"),
    ("postgresql://u@h:notaport/db", "bad database URL"),
    ("postgres ql://x", "bad database URL"),
    ("   ", "no database given"),
    ("postgresql://nobody@127.0.0.1:9/none", "check the host, port and that the server runs"),
])
def test_bad_and_unreachable_databases_are_one_line_errors(url, needle):
    with pytest.raises(DatabaseError, match=None) as info:
        Database(url, write=True)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_missing_postgresql_database_says_to_create_it(pg_server):
    with pytest.raises(DatabaseError, match="does not exist; create it first"):
        Database(pg_server.url("nosuchdb"), write=True)


# --- a live run ---------------------------------------------------------------------------------------------------


def test_qualify_with_db_writes_every_cable_as_recorded(qualified_run):
    run = read_run(qualified_run.record)
    assert run.status == "complete" and len(run.cables) == 4
    assert "warning" not in qualified_run.stderr
    with Database(qualified_run.db) as db, db.engine.connect() as conn:
        assert counts(db)["lots"] == 2 and counts(db)["cables"] == 4 and counts(db)["runs"] == 1
        row = conn.execute(select(Run.name, Run.status, Run.operator, Run.software_version, Run.written_by,
                                  Run.record_path, Run.run_key, Station.name).join(Station)).one()
        assert row == ("db-tiny", "complete", "ann", run.software_version, "qualify",
                       str(qualified_run.record.resolve()), run_key(qualified_run.record, run), "bench-A")
        identities = {r.role: (r.maker, r.model, r.serial_number, r.firmware, r.dialect)
                      for r in conn.execute(select(Instrument))}
        assert identities == {role: (i["maker"], i["model"], i["serial"], i["firmware"], i["dialect"])
                              for role, i in run.instruments.items()}
        assert [tuple(e) for e in conn.execute(select(Event.at, Event.text).order_by(Event.seq))] == list(run.events)
        for cable in run.cables:
            db_cable = conn.execute(select(Cable.outcome, Cable.power_w, Cable.reach_m, Cable.carbon_mg_m2, Lot.name)
                                    .join(Lot).where(Cable.serial == cable.serial)).one()
            assert tuple(db_cable) == (cable.outcome, cable.power_w, cable.reach_m, cable.carbon_mg_m2, cable.wire_lot)
            rate = conn.execute(select(RateFigures.il_db, RateFigures.il_db_max, RateFigures.excess_il_db,
                                       RateFigures.reach_m).join(Cable).where(Cable.serial == cable.serial)).one()
            r = cable.rates[0]
            assert tuple(rate) == (r.il_db, 19.75, r.excess_il_db, r.link.reach_m)  # 802.3ck CR: 19.75 dB at Nyquist
            verdicts = {v.name: (v.value, v.limit_value, v.margin, v.outcome) for v in conn.execute(
                select(Verdict.name, Verdict.value, Verdict.limit_value, Verdict.margin, Verdict.outcome)
                .join(Cable).where(Cable.serial == cable.serial))}
            assert verdicts == {v.name: (v.value, v.limit, v.margin, v.outcome) for v in cable.verdicts}
            lanes = conn.execute(select(LaneCount.bits, LaneCount.errors).join(RateFigures).join(Cable)
                                 .where(Cable.serial == cable.serial)).all()
            assert [tuple(x) for x in lanes] == [(lane.bits, lane.errors) for lane in r.lanes]


def test_ingest_is_idempotent_and_matches_the_live_copy(qualified_run, tmp_path):
    db_path = tmp_path / "copy.db"
    shutil.copy(qualified_run.db, db_path)
    with Database(db_path, write=True) as db:
        before = counts(db)
        live = query_cables(db, Filters())
        first = ingest(db, [qualified_run.record])
        assert [(d.cables, d.new) for d in first] == [(4, 0)]  # the live run wrote them all
        assert counts(db) == before and query_cables(db, Filters()) == live  # the operator and station are kept
    fresh = tmp_path / "fresh.db"
    with Database(fresh, write=True) as db:
        assert [(d.cables, d.new) for d in ingest(db, [qualified_run.record], station="bench-A", operator="ann")] \
            == [(4, 4)]
        once = counts(db)
        assert [(d.cables, d.new) for d in ingest(db, [qualified_run.record])] == [(4, 0)]
        assert counts(db) == once == before
        ingested = query_cables(db, Filters())
    assert ingested == live


def test_ingest_reads_a_version_1_record(tmp_path):
    run = read_run(V1)
    with Database(tmp_path / "v1.db", write=True) as db:
        ingest(db, [V1])
        ingest(db, [V1])  # no run id in a version-1 record: its key is a hash of what it holds, the same twice
        assert counts(db)["runs"] == 1 and counts(db)["cables"] == 4
        rows = query_cables(db, Filters())
        with db.engine.connect() as conn:
            schema, key = conn.execute(select(Run.record_schema, Run.run_key)).one()
            com = conn.execute(select(RateFigures.com_db).join(Cable).where(
                Cable.serial == "ACC-0001", RateFigures.com_clause.is_not(None))).scalar_one()
    assert schema == "accbench-run/1" and key.startswith("sha256:")
    assert [(r["serial"], r["outcome"], r["not_passed"]) for r in rows] == [
        (c.serial, c.outcome, sorted(v.name for v in c.verdicts if not v.passed)) for c in run.cables]
    assert com == run.cables[0].rates[0].com.com_db
    assert rows[0]["station"] == "simulated" and rows[0]["operator"] is None


def test_a_bad_record_stops_ingest_before_anything_is_written(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with Database(tmp_path / "r.db", write=True) as db:
        with pytest.raises(InputError, match=r"bad\.h5"):
            ingest(db, [V1, bad])
        assert counts(db)["runs"] == 0


# --- queries ------------------------------------------------------------------------------------------------------


def test_query_filters_match_the_records(qualified_run, tmp_path):
    db_path = tmp_path / "q.db"
    shutil.copy(qualified_run.db, db_path)
    live, v1 = read_run(qualified_run.record), read_run(V1)
    with Database(db_path, write=True) as db:
        ingest(db, [V1], station="bench-B")

        def serials(**kw) -> list[str]:
            return [r["serial"] for r in query_cables(db, Filters(**kw))]

        everything = [c.serial for c in v1.cables] + [c.serial for c in live.cables]  # oldest run first
        assert serials() == everything
        assert serials(lot="W-1002") == [c.serial for c in v1.cables if c.wire_lot == "W-1002"]
        assert serials(serial="DB-003") == ["DB-003"]
        assert serials(station="bench-A") == [c.serial for c in live.cables]
        assert serials(station="bench-B", verdict="fail") == [c.serial for c in v1.cables if c.outcome == "fail"]
        assert serials(verdict="pass") == [c.serial for c in (*v1.cables, *live.cables) if c.outcome == "pass"]
        v1_day = v1.started[:10]
        assert serials(until=parse_moment(v1_day, "until", end=True)) == [c.serial for c in v1.cables]
        assert serials(since=parse_moment(live.started, "since")) == [c.serial for c in live.cables]
        assert serials(since=parse_moment("2999-01-01", "since")) == []
        assert serials(run="db-tiny", lot="DB-L2") == ["DB-002", "DB-004"]


def test_db_cli_query_ingest_upgrade_and_errors(qualified_run, tmp_path, capsys):
    code, out, err = cli(capsys, "db", "query", "--db", str(qualified_run.db), "--lot", "DB-L1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [c["serial"] for c in data["cables"]] == ["DB-001", "DB-003"]
    assert {c["station"] for c in data["cables"]} == {"bench-A"} and data["cables"][0]["operator"] == "ann"
    code, out, err = cli(capsys, "db", "query", "--db", str(qualified_run.db), "--serial", "DB-002")
    assert code == 0 and "DB-002" in out and "DB-001" not in out and "bench-A" in out
    target = tmp_path / "cli.db"
    code, out, _ = cli(capsys, "db", "upgrade", str(target))
    assert code == 0 and f"schema {migrate.head_revision()} (was empty)" in out
    code, out, _ = cli(capsys, "db", "upgrade", str(target))
    assert code == 0 and "already current" in out
    code, out, _ = cli(capsys, "db", "ingest", str(V1), str(qualified_run.record), "--db", str(target))
    assert code == 0 and "4 cables, 4 new" in out and "2 run(s) loaded" in out
    assert_one_line_error(*cli(capsys, "db", "query", "--db", str(tmp_path / "none.db"))[::2],
                          "--db: no results database at")
    assert_one_line_error(*cli(capsys, "db", "query", "--db", str(target), "--since", "last week")[::2],
                          "--since")
    assert_one_line_error(*cli(capsys, "db", "ingest", str(tmp_path / "no.h5"), "--db", str(target))[::2],
                          "no.h5: no such file")
    assert_one_line_error(*cli(capsys, "db", "upgrade", "oracle://x/y")[::2], "backend 'oracle' is not supported")


def test_qualify_refuses_an_unusable_database_before_measuring(tmp_path, capsys, qualified_run):
    record = tmp_path / "r.h5"
    code, _, err = cli(capsys, "qualify", str(qualified_run.plan), "-o", str(record), "--db",
                       "postgresql://nobody@127.0.0.1:9/none")
    assert_one_line_error(code, err, "--db: database postgresql")
    assert not record.exists()


# --- a database problem during a run ------------------------------------------------------------------------------


def replay(sink: DatabaseSink, record: Path) -> None:
    """The events ``run_plan`` sends for ``record``, from the record itself."""
    run = read_run(record)
    sink(RunStarted(str(record), run.plan, run.bench, run.instruments))
    for cable in run.cables:
        sink(CableRecorded(cable.serial, cable.outcome, cable.instrument_error, False, cable))
    sink(RunFinished(str(record), run.status, run.summary))


def test_a_database_failing_mid_run_is_reported_once_and_ingest_recovers_it(qualified_run, tmp_path):
    lines: list[str] = []
    db = Database(tmp_path / "r.db", write=True)
    sink = DatabaseSink(db, station="bench-A", report=lines.append)
    with db.engine.begin() as conn:  # the cable tables break after the run is written
        conn.execute(text("DROP TABLE verdicts"))
    replay(sink, qualified_run.record)  # never raises: the run goes on
    assert len(lines) == 1 and "cable DB-001 not written" in lines[0] and "no such table: verdicts" in lines[0]
    assert f"accbench db ingest {qualified_run.record} --db sqlite:///" in lines[0]
    assert sink.written == 0 and sink.problem is not None
    db.close()
    with Database(tmp_path / "recovered.db", write=True) as fresh:
        ingest(fresh, [qualified_run.record])
        assert counts(fresh)["cables"] == 4


def test_a_resumed_run_catches_the_database_up(qualified_run, tmp_path):
    """A record with cables the database lacks (resumed after a run without --db): RunStarted writes them."""
    db = Database(tmp_path / "r.db", write=True)
    sink = DatabaseSink(db, station="bench-A", report=pytest.fail)
    run = read_run(qualified_run.record)
    sink(RunStarted(str(qualified_run.record), run.plan, run.bench, run.instruments, resumed=True))
    assert sink.written == 4 and counts(db)["cables"] == 4
    db.close()


# --- two stations at once -----------------------------------------------------------------------------------------


RUNS_PER_STATION = 3


def station_worker(url: str, station: str, records: list[str], start) -> None:
    """One station: waits for the start, then writes its runs cable by cable through the live sink."""
    start.wait(60)
    db = Database(url, write=True)  # both stations may find the database empty and create it at once
    problems: list[str] = []
    for record in records:
        sink = DatabaseSink(db, station=station, operator=station, report=problems.append)
        replay(sink, Path(record))
    db.close()
    if problems:
        raise SystemExit(f"{station}: {problems}")


def station_records(record: Path, folder: Path, station: str) -> list[str]:
    """Copies of ``record``, each its own run (its own run id)."""
    out = []
    for i in range(RUNS_PER_STATION):
        copy = folder / f"{station}-{i}.h5"
        shutil.copy(record, copy)
        with h5py.File(copy, "r+") as f:
            f.attrs["run_id"] = f"{station}-run-{i}"
        out.append(str(copy))
    return out


def test_two_stations_writing_at_once_lose_nothing(any_url, qualified_run, tmp_path):
    run = read_run(qualified_run.record)
    assert run.cables[0].reach_estimate_m  # its imports done here, before the stations fork
    context = multiprocessing.get_context("fork")  # two processes, each opening its own engine and connections
    start = context.Barrier(2)
    records = {s: station_records(qualified_run.record, tmp_path, s) for s in ("station-1", "station-2")}
    workers = [context.Process(target=station_worker, args=(any_url, s, r, start)) for s, r in records.items()]
    for w in workers:
        w.start()
    for w in workers:
        w.join(240)
    assert [w.exitcode for w in workers] == [0, 0]
    with Database(any_url) as db:
        got = counts(db)
        with db.engine.connect() as conn:
            per_station = dict(conn.execute(select(Station.name, func.count(Cable.id)).select_from(Cable).join(Run)
                                            .join(Station).group_by(Station.name)).all())
            keys = set(conn.scalars(select(Run.run_key)))
    assert per_station == {s: RUNS_PER_STATION * len(run.cables) for s in records}
    assert keys == {f"{s}-run-{i}" for s in records for i in range(RUNS_PER_STATION)}
    assert got["cables"] == 2 * RUNS_PER_STATION * len(run.cables) and got["lots"] == 2 and got["stations"] == 2
    assert got["verdicts"] == 2 * RUNS_PER_STATION * sum(len(c.verdicts) for c in run.cables)
    assert got["events"] == 2 * RUNS_PER_STATION * len(run.events)


def test_a_run_row_needs_no_database_of_its_own(qualified_run):
    """The row of a run reads its station and instruments from the record (no host for an ingest)."""
    from accbench.db.ingest import run_row

    run = read_run(qualified_run.record)
    row = run_row(qualified_run.record, run)
    assert (row.station, row.station_kind, row.station_given) == ("simulated", "simulated", False)
    assert dataclasses.replace(row, station="x").station == "x" and row.instruments == run.instruments


def test_cables_without_figures_are_kept_too(tmp_path):
    """A cable an instrument fault stopped (no figures, no verdicts) and one recorded by the pytest plugin."""
    from accbench.bench.results import CableResult, GateVerdict, RunResult

    from accbench.db.ingest import write_run

    failed = CableResult("F-1", "L", 20.0, 3.0, 1, errors=("vna: timeout",), instrument_error="vna: timeout")
    tested = CableResult("P-1", "L", 20.0, 2.0, 1, source="pytest", extra={"il_db": 19.7},
                         verdicts=(GateVerdict("tests", "outcome of the tests", "", None, None, ">=", None, 0.0,
                                               "pass"),))
    run = RunResult(name="synthetic", status="interrupted", schema="accbench-run/2", started="2026-11-30T08:00:00Z",
                    ended="", software_version="0.1.0", plan={"lots": [{"id": "L", "carbon_mg_m2": 20.0}]},
                    instruments={}, bench={"kind": "simulated"}, events=(), cables=(failed, tested), timing_s={},
                    summary={})
    with Database(tmp_path / "r.db", write=True) as db:
        write_run(db, tmp_path / "no-such.h5", run)
        rows = {r["serial"]: r for r in query_cables(db, Filters())}
        with db.engine.connect() as conn:
            kept = dict(conn.execute(select(Cable.serial, Cable.result_json)).all())
    assert rows["F-1"]["outcome"] == "fail" and rows["F-1"]["instrument_error"] == "vna: timeout"
    assert rows["F-1"]["power_w"] is None and rows["F-1"]["il_db"] == {}
    assert rows["P-1"]["outcome"] == "pass" and json.loads(kept["P-1"])["extra"] == {"il_db": 19.7}
