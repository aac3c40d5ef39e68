"""Commands of a qualification run: ``qualify`` (run a plan), ``show`` (summarise a record), ``report`` (HTML)."""

from __future__ import annotations

import json

import click

from accbench.cli.options import option_names
from accbench.cli.params import OutputFile, OutputFolder
from accbench.errors import RunInterrupted

RUN_FLAGS = {"resume": "--resume", "force": "--force", "db": "--db"}


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=OutputFile(), required=True, help="Run record (HDF5).")
@click.option("--bench", "bench_file", type=click.Path(dir_okay=False), default=None,
              help="Bench file (TOML) naming the real instruments; without it the simulated bench is used.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in OUTPUT, skipping finished cables.")
@click.option("--force", is_flag=True, help="Overwrite an existing run record in OUTPUT (by default it is refused).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the verdicts and lot summary.")
@click.option("--db", "db_url", metavar="URL", default=None,
              help="Also write each finished cable into this results database: a SQLite file or a URL "
                   "(postgresql://user@host/dbname). The record stays the primary copy.")
@click.option("--station-id", default=None,
              help="Station id in the database (default: the bench file's name, else the station kind@host).")
@click.option("--operator", default=None, help="Operator in the database (default: the login name).")
@click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True,
              help="Processes computing cables (0: one per core; 1: serial); the record is the serial run's.")
def qualify(plan_file, output, bench_file, resume, force, as_json, db_url, station_id, operator, workers) -> None:
    """Qualify the plan's cables: sweep, link model, BER per lane, power, gates, HDF5 record, lot summary."""
    from accbench.api import qualify as run_qualification
    from accbench.bench.benchfile import load_bench
    from accbench.bench.plan import load_plan
    from accbench.bench.summary import qualify_json
    from accbench.cli.progress import RunProgress
    from accbench.cli.runtables import print_run

    plan = load_plan(plan_file)
    config = load_bench(bench_file) if bench_file else None  # a bad bench file is refused before the run starts
    with RunProgress(plan, enabled=not as_json) as progress, option_names(RUN_FLAGS):
        try:
            run = run_qualification(plan, output, bench=config, resume=resume, force=force,
                                    progress=progress.update, confirm=progress.confirm, db=db_url,
                                    station_id=station_id, operator=operator, db_report=_warn, workers=workers)
        except KeyboardInterrupt:
            raise RunInterrupted(f"interrupted; finished cables are in {output} (status interrupted); "
                                 f"continue with: accbench qualify {plan_file} -o {output} --resume") from None
    if as_json:
        click.echo(json.dumps(qualify_json(run, str(output)), indent=2))
        return
    print_run(run)


def _warn(line: str) -> None:
    """A problem that does not stop the command (the results database missed part of a run), as one line."""
    from accbench.cli import one_line

    click.echo(f"accbench: warning: {one_line(line)}", err=True)


@click.command()
@click.argument("record", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(record: str, as_json: bool) -> None:
    """Summary of a finished or interrupted run record."""
    from accbench.bench.record import read_run
    from accbench.bench.summary import qualify_json
    from accbench.cli.runtables import print_run

    run = read_run(record)
    if as_json:
        click.echo(json.dumps(qualify_json(run, str(record)) | {"events": [list(e) for e in run.events],
                                                                 "plan": run.plan, "instruments": run.instruments,
                                                                 "timing_s": run.timing_s}, indent=2))
        return
    print_run(run)


@click.command()
@click.argument("record", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=OutputFolder(), required=True,
              help="Folder for index.html and the PNG figures.")
def report(record: str, output: str) -> None:
    """Self-contained HTML report of a run (IL with mask, eye and bathtub, reach vs carbon, lots) plus PNGs."""
    from accbench.bench.htmlreport import write_report

    page = write_report(record, output)
    click.echo(f"report: {page}")
