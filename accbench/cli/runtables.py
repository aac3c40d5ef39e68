"""Terminal tables of a qualification run (rich): verdicts per cable, lots, carbon limit, model fit."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from accbench.bench.results import CableResult, RunResult

_STYLE = {"pass": "[green]PASS[/]", "marginal": "[yellow]MARGINAL[/]", "fail": "[red]FAIL[/]"}


def _com_cells(cable: CableResult, clauses: list[str]) -> list[str]:
    """COM per clause and the worst ERL of a cable, '-' where not computed."""
    if not clauses:
        return []
    erl = cable.worst_erl_db
    return [*[f"{cable.com_db[c]:.2f}" if c in cable.com_db else "-" for c in clauses],
            "-" if erl is None else f"{erl:.1f}"]


def _gate_notes(cable: CableResult, outliers: set[str]) -> str:
    """The gates a cable did not pass (marginal ones marked), and the outlier flag."""
    notes = [v.name.removeprefix("il_") + ("?" if v.outcome == "marginal" else "") for v in cable.verdicts
             if v.outcome != "pass"]
    if cable.serial in outliers:
        notes.append("[yellow]outlier[/]")
    return ", ".join(notes) or "-"


def print_run(run: RunResult, console: Console | None = None) -> None:
    """Verdict table, lot table and the carbon and model-fit lines of a run."""
    if console is None:
        console = Console()
        if not console.is_terminal:  # logs and pipes: wide enough for the whole table
            console = Console(width=120)
    summary = run.summary or {}
    model = summary.get("model_vs_measurement") or {}
    outliers = set(model.get("outliers", []))
    rates = run.plan["rates_gbd"]
    title = f"{run.name}: {run.status} ({len(run.cables)} of {len(run.plan['cables'])} cables)"
    table = Table(box=box.SIMPLE_HEAD, title=title)
    clauses = run.plan.get("com_clauses", [])
    com_cols = [f"COM {c.split('-')[0].removeprefix('802.3')}" for c in clauses] + (["ERL"] if clauses else [])
    for name in ("serial", "lot", "carbon", *[f"IL {r:.0f}G" for r in rates], *com_cols, "reach", "watts",
                 "not passed", "verdict"):
        table.add_column(name, justify="left" if name in ("serial", "lot", "not passed") else "right", no_wrap=True)
    for c in run.cables:
        il = c.il_db
        ils = [f"{il[f'{r:g}']:.2f}" if f"{r:g}" in il else "-" for r in rates]
        verdict = "[red]ERROR[/]" if c.instrument_error else _STYLE[c.outcome]
        reach, watts = c.reach_m, c.power_w
        table.add_row(c.serial, c.wire_lot, f"{c.carbon_mg_m2:g}", *ils, *_com_cells(c, clauses),
                      "-" if reach is None else f"{reach:.2f}", "-" if watts is None else f"{watts:.2f}",
                      _gate_notes(c, outliers), verdict)
    console.print(table)
    console.print("IL at each Nyquist in dB, reach in m at the top rate, carbon in mg/m^2"
                  + ("; IEEE COM and ERL (worst clause) in dB of the passive assembly" if clauses else "")
                  + "; '?' marks a marginal gate (within its resolution of the limit)")
    if not summary:
        return
    lots = Table(box=box.SIMPLE_HEAD, title="wire lots")
    for name in ("lot", "carbon", "grade", "n", "pass", *[f"excess {r:.0f}G" for r in rates], "reach"):
        lots.add_column(name, justify="left" if name in ("lot", "grade") else "right", no_wrap=True)
    for lot in summary["lots"]:
        lots.add_row(lot["id"], f"{lot['carbon_mg_m2']:g}", lot["grade"], str(lot["cables"]),
                     "-" if lot["pass_rate"] is None else f"{lot['pass_rate']:.0%}",
                     *["-" if lot.get(f"excess_il_db_{r:g}") is None else f"{lot[f'excess_il_db_{r:g}']:.2f}"
                       for r in rates],
                     "-" if lot["reach_m"] is None else f"{lot['reach_m']:.2f}")
    console.print(lots)
    gates = run.plan["gates"]
    for key, length in (("carbon_limit_mg_m2", gates["reach_m"]), ("carbon_limit_stretch_mg_m2", gates["stretch_m"])):
        limit = summary.get(key)
        console.print(f"carbon limit for a {length:g} m reach: "
                      + ("none found (no significant effect of carbon on reach)" if limit is None
                         else f"{limit:.0f} mg/m^2"))
    fit = (model.get("ber") or {}).get("fit") or {}
    if fit.get("noise_scale") is not None:
        ci = fit.get("noise_scale_ci95")
        console.print(f"model fit: noise x{fit['noise_scale']:.3f}"
                      + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
                      + f", jitter x{fit['jitter_scale']:.3f}; {fit.get('note', '')}")
    power = model.get("power") or {}
    if power.get("scale") is not None:
        console.print(f"power: measured / model = {power['scale']:.3f}")
    if outliers:
        console.print(f"[yellow]outliers (measurement departs from the fitted model): {', '.join(sorted(outliers))}[/]")
