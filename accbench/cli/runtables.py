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
    lots = Table(box=box.SIMPLE_HEAD, title="wire lots (the lot is the unit of the carbon statistics)")
    for name in ("lot", "carbon", "grade", "n", "pass", "wire pass", "unit defects",
                 *[f"excess {r:.0f}G" for r in rates], "reach"):
        lots.add_column(name, justify="left" if name in ("lot", "grade") else "right", no_wrap=True)
    for lot in summary["lots"]:
        wire = lot.get("wire_pass_rate")
        lots.add_row(lot["id"], f"{lot['carbon_mg_m2']:g}", lot["grade"], str(lot["cables"]),
                     "-" if lot["pass_rate"] is None else f"{lot['pass_rate']:.0%}",
                     "-" if wire is None else f"{wire:.0%}", str(lot.get("unit_defects", "-")),
                     *["-" if lot.get(f"excess_il_db_{r:g}") is None else f"{lot[f'excess_il_db_{r:g}']:.2f}"
                       for r in rates],
                     "-" if lot["reach_m"] is None else f"{lot['reach_m']:.2f}")
    console.print(lots)
    console.print("pass: every gate; wire pass: only the gates the wire can cause (IL mask, COM/ERL, reach); "
                  "unit defects: cables failing power or BER, or flagged as model outliers")
    _print_carbon(summary, run.plan["gates"], console)
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


def _interval(ci, unit: str = "", digits: int = 0) -> str:
    """A 95 % interval as text; an end that is None is unbounded."""
    if not ci:
        return "-"
    lo, hi = ci
    return (f"[{'-inf' if lo is None else f'{lo:.{digits}f}'}, {'+inf' if hi is None else f'{hi:.{digits}f}'}]"
            + unit)


def _print_carbon(summary: dict, gates: dict, console: Console) -> None:
    """The lot-level carbon inference: status, change-point test, onset, slope and the limits with their intervals."""
    inference = summary.get("inference")
    limits = summary.get("limits")
    if not isinstance(inference, dict) or not isinstance(limits, list):  # a record from before the lot-level analysis
        for key, length in (("carbon_limit_mg_m2", gates["reach_m"]),
                            ("carbon_limit_stretch_mg_m2", gates["stretch_m"])):
            limit = summary.get(key)
            console.print(f"carbon limit for a {length:g} m reach: "
                          + ("none found (no significant effect of carbon on reach)" if limit is None
                             else f"{limit:.0f} mg/m^2 (per-cable fit, no interval)"))
        return
    console.print(f"carbon vs reach: {inference['status']} ({inference['lots']} lots at "
                  f"{inference['carbon_levels']} carbon levels; the lot is the unit)")
    if inference.get("needed"):
        console.print(f"[yellow]  needed: {inference['needed']}[/]")
    cp = inference.get("change_point") or {}
    if cp.get("p_value") is not None:
        console.print(f"  change point ({cp.get('test', 'Davies')} test): p = {cp['p_value']:.3g}, "
                      + ("detected" if cp.get("detected") else "not detected"))
    if inference.get("effect_p_value") is not None:
        console.print(f"  any carbon effect (Davies' bound over the onset): p = {inference['effect_p_value']:.3g}")
    if inference.get("onset_ci95") is not None:
        onset = inference.get("onset_mg_m2")
        placed = "not placed (no change point detected)" if onset is None else f"{onset:.0f} mg/m^2"
        console.print(f"  onset: {placed}"
                      + f", 95 % {_interval(inference['onset_ci95'])} mg/m^2 (an end at inf: the data cannot "
                        "place it there)")
    if inference.get("slope_per_mg_m2") is not None:
        ci = inference.get("slope_ci95") or [None, None]
        console.print(f"  slope above the onset: {inference['slope_per_mg_m2'] * 100:.3g} m per 100 mg/m^2, "
                      f"95 % [{ci[0] * 100:.3g}, {ci[1] * 100:.3g}]")
    for lim in limits:
        head = f"carbon limit for a {lim['reach_m']:g} m reach ({lim['gate']}): "
        if lim.get("carbon_mg_m2") is None:
            text = lim["status"]
        else:
            text = (f"{lim['carbon_mg_m2']:.0f} mg/m^2, 95 % {_interval(lim.get('ci95'))}"
                    + (" EXTRAPOLATED beyond the carbon measured" if lim.get("extrapolated") else "")
                    + ("" if lim["status"] == "estimated" else f" ({lim['status']})"))
        console.print(head + text)
        if lim.get("needed") and lim["needed"] != inference.get("needed"):
            console.print(f"[yellow]  needed: {lim['needed']}[/]")
