"""``accbench trend``: control charts, Western Electric flags and Cpk of a figure over the database's history."""

from __future__ import annotations

import json

import click

from accbench.cli.options import option_names
from accbench.cli.params import OutputFolder

TREND_FLAGS = {"db": "--db", "metric": "--metric", "since": "--since", "until": "--until", "spread": "--chart",
               "output": "-o/--output"}


@click.command()
@click.option("--db", "db_url", metavar="URL", required=True,
              help="Results database: a SQLite file or a URL (postgresql://user@host/dbname).")
@click.option("--metric", "metrics", multiple=True, metavar="METRIC",
              help="il (IL at each Nyquist), il@GBD, com (COM per clause), com@CLAUSE, reach or power; repeat for "
                   "more. Default: all.")
@click.option("-o", "--output", type=OutputFolder(), default=None,
              help="Folder for index.html and the PNG charts (none written without it).")
@click.option("--chart", "spread", type=click.Choice(["s", "r"]), default="s", show_default=True,
              help="Per-lot charts: X-bar/S (s) or X-bar/R (r).")
@click.option("--station", default=None, help="Only runs of this station.")
@click.option("--lot", default=None, help="Only this wire lot.")
@click.option("--since", default=None, help="Only runs started on or after this date (YYYY-MM-DD, UTC).")
@click.option("--until", default=None, help="Only runs started on or before this date (YYYY-MM-DD, UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (charts, flags, Cpk, carbon fits).")
def trend(db_url, metrics, output, spread, station, lot, since, until, as_json) -> None:
    """SPC over every run in the database: I-MR and X-bar/S (or R) per lot, Western Electric rules, Cpk against
    the gates, and the carbon regression over the whole history."""
    from accbench.db.database import Database
    from accbench.db.query import Filters, parse_moment
    from accbench.db.trend import trend as build

    with option_names(TREND_FLAGS):
        filters = Filters(station=station, lot=lot, since=parse_moment(since, "since"),
                          until=parse_moment(until, "until", end=True))
        with Database(db_url) as database:
            result = build(database, list(metrics), filters, spread)
        page = None
        if output is not None:
            from accbench.db.trendpage import write_trend

            page = write_trend(result, output)
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"page": None if page is None else str(page)}, indent=2))
        return
    print_trend(result)
    if page is not None:
        click.echo(f"trend: {page}")


def _num(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def print_trend(result) -> None:
    """One row per metric: points, mean, sigma within, control limits, gate, Cpk, Ppk, Western Electric flags."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    table = Table(box=box.SIMPLE_HEAD, title=f"trend of {result.database}")
    for name in ("metric", "points", "mean", "sigma", "LCL", "UCL", "gate", "Cpk", "Ppk", "flags"):
        table.add_column(name, justify="left" if name in ("metric", "flags") else "right", no_wrap=name != "flags")
    for m in result.metrics:
        cap, pair = m.capability, m.individuals
        limit = None if cap is None else cap.lsl if cap.lsl is not None else cap.usl
        side = ">=" if cap is not None and cap.lsl is not None else "<="
        flags = sorted({f"{chart[0].upper()}{v.rule}:{v.label}" for chart, v in m.violations})
        table.add_row(m.metric.name, str(len(m.points)), _num(cap.mean if cap else None),
                      _num(cap.sigma_within if cap else None),
                      _num(float(pair.location.lcl[0]) if pair else None),
                      _num(float(pair.location.ucl[0]) if pair else None),
                      "-" if limit is None else f"{side} {limit:g}", _num(cap.cpk if cap else None, 3),
                      _num(cap.ppk if cap else None, 3), ", ".join(flags[:6]) + (" ..." if len(flags) > 6 else "")
                      or "-")
    console.print(table)
    console.print("LCL/UCL: individuals chart; sigma: within lots (X-bar chart) or from the moving range; flags: "
                  "I (individuals) or L (lot means) chart, Western Electric rule, point")
    inference = result.carbon["inference"]
    fit = result.carbon["regressions"].get("reach_m")
    line = f"carbon: {len(result.carbon['lots'])} lots over the history; reach inference: {inference['status']}"
    if fit is not None:
        line += (f"; reach hinge fit slope {fit['slope_per_mg_m2']:.3g} m per mg/m^2 above "
                 f"{fit['threshold_mg_m2']:.3g} mg/m^2 ({'significant' if fit['significant'] else 'not significant'})")
    console.print(line)
