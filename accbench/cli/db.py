"""The results database on the command line: ``db upgrade`` (the schema), ``db ingest`` (records), ``db query``."""

from __future__ import annotations

import json

import click

from accbench.cli.options import option_names

DB_FLAGS = {"db": "--db", "verdict": "--verdict", "since": "--since", "until": "--until"}
_STYLE = {"pass": "[green]PASS[/]", "marginal": "[yellow]MARGINAL[/]", "fail": "[red]FAIL[/]"}


def db_option(func):
    return click.option("--db", "db_url", metavar="URL", required=True,
                        help="Results database: a SQLite file or a URL (postgresql://user@host/dbname).")(func)


@click.group("db")
def db() -> None:
    """Results across runs and stations: create or migrate the schema, load records, find cables."""


@db.command("upgrade")
@click.argument("url")
def upgrade(url: str) -> None:
    """Create the schema in an empty database, or migrate an older one to this accbench's schema."""
    from accbench.db.connect import parse_url, shown
    from accbench.db.database import upgrade_database

    with option_names({"db": "URL"}):
        target = parse_url(url)
        before, after = upgrade_database(target)
    if before == after:
        click.echo(f"database {shown(target)}: schema {after.revision}, already current")
        return
    was = "empty" if before.revision is None else f"schema {before.revision}"
    click.echo(f"database {shown(target)}: schema {after.revision} (was {was})")


@db.command("ingest")
@click.argument("records", nargs=-1, required=True, type=click.Path(dir_okay=False))
@db_option
@click.option("--station-id", default=None,
              help="Station id of these runs (default: the record's bench name, else its station kind; a run "
                   "already in the database keeps its own).")
@click.option("--operator", default=None, help="Operator of these runs (default: unknown, or as already written).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ingest(records, db_url, station_id, operator, as_json) -> None:
    """Load run records (either record schema) into the database; loading one again changes nothing."""
    from accbench.db.database import Database
    from accbench.db.ingest import ingest as load

    with option_names(DB_FLAGS), Database(db_url, write=True) as database:
        done = load(database, list(records), station=station_id, operator=operator)
    if as_json:
        click.echo(json.dumps({"database": database.shown, "runs": [d.to_dict() for d in done]}, indent=2))
        return
    for d in done:
        click.echo(f"{d.path}: run {d.run} ({d.status}), {d.cables} cables, {d.new} new")
    click.echo(f"database {database.shown}: {len(done)} run(s) loaded")


@db.command("query")
@db_option
@click.option("--lot", default=None, help="Wire lot id.")
@click.option("--serial", default=None, help="Cable serial.")
@click.option("--station", default=None, help="Station id.")
@click.option("--run", "run_name", default=None, help="Run (plan) name.")
@click.option("--since", default=None, help="Runs started on or after this date (YYYY-MM-DD, UTC).")
@click.option("--until", default=None, help="Runs started on or before this date (YYYY-MM-DD, UTC).")
@click.option("--verdict", type=click.Choice(["pass", "marginal", "fail"]), default=None, help="Cable outcome.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many cables.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def query(db_url, lot, serial, station, run_name, since, until, verdict, limit, as_json) -> None:
    """Cables in the database matching every filter given, oldest run first."""
    from accbench.db.database import Database
    from accbench.db.query import Filters, parse_moment, query_cables

    with option_names(DB_FLAGS):
        filters = Filters(lot=lot, serial=serial, station=station, run=run_name,
                          since=parse_moment(since, "since"), until=parse_moment(until, "until", end=True),
                          verdict=verdict)
        with Database(db_url) as database:
            rows = query_cables(database, filters, limit)
    if as_json:
        click.echo(json.dumps({"database": database.shown, "cables": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no cables in {database.shown} match")
        return
    print_cables(rows)


def print_cables(rows: list[dict]) -> None:
    """The matches as a table: where and when, IL per rate, reach, watts, the gates not passed, the verdict."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    rates = sorted({r for row in rows for r in row["il_db"]}, key=float)
    table = Table(box=box.SIMPLE_HEAD, title=f"{len(rows)} cable(s)")
    for name in ("serial", "lot", "carbon", "station", "run", "started", *[f"IL {r}G" for r in rates], "reach",
                 "watts", "not passed", "verdict"):
        table.add_column(name, justify="right" if name in ("carbon", "reach", "watts") or name.startswith("IL")
                         else "left", no_wrap=True)
    for row in rows:
        ils = [f"{row['il_db'][r]:.2f}" if r in row["il_db"] else "-" for r in rates]
        table.add_row(row["serial"], row["lot"], f"{row['carbon_mg_m2']:g}", row["station"], row["run"],
                      row["started"][:16].replace("T", " "), *ils,
                      "-" if row["reach_m"] is None else f"{row['reach_m']:.2f}",
                      "-" if row["power_w"] is None else f"{row['power_w']:.2f}", ", ".join(row["not_passed"]) or "-",
                      "[red]ERROR[/]" if row["instrument_error"] else _STYLE[row["outcome"]])
    console.print(table)
    console.print("IL at each Nyquist in dB, reach in m at the top rate, carbon in mg/m^2, times UTC")
