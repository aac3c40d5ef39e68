"""The report page: the run's tables and figures through a jinja2 template that escapes every value.

``render_page`` takes a run and its figures and returns ``index.html`` as text; every serial, lot id,
detail and caption reaches the page through the template's autoescaping (no string concatenation
of HTML), the figures are embedded as base64 PNG, and a Content-Security-Policy forbids scripts.
"""

from __future__ import annotations

import base64
from pathlib import Path

from accbench.bench import reportdata as rd
from accbench.bench.results import RunResult

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = ("il", "eyes", "bathtubs", "carbon", "model")


def environment():
    """The jinja2 environment of the report templates: autoescape on, undefined names an error."""
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _com_note(clauses: list[str]) -> str:
    if not clauses:
        return ""
    return (f"COM and ERL per IEEE 802.3 ({', '.join(clauses)}) of the measured passive assembly (the redriver is not "
            "in these figures); gates: COM ≥ the plan's com_db_min, ERL ≥ erl_db_min or the clause's limit.")


def _figure(fig: rd.ReportFigure) -> dict:
    return {"file": fig.path.name, "title": fig.title, "caption": fig.caption, "alt": fig.title,
            "data": base64.b64encode(fig.path.read_bytes()).decode("ascii")}


def context(run: RunResult, figures: list[rd.ReportFigure], notes: list[str] = ()) -> dict:
    """Everything the template shows, as plain values (strings, lists and dicts)."""
    summary = run.summary or {}
    headers, rows = rd.cable_rows(run)
    limits, with_ci = rd.limits_view(run)
    passed = [c for c in run.cables if c.passed]
    grouped = {s: [_figure(f) for f in figures if f.section == s] for s in SECTIONS}
    return {
        "run": {"name": run.name, "status": run.status, "cables": len(run.cables),
                "planned": len(run.plan.get("cables", [])), "started": run.started, "ended": run.ended or "-",
                "software": run.software_version, "schema": run.schema,
                "rates": ", ".join(f"{r:g}" for r in run.plan["rates_gbd"]),
                "target_ber": f"{run.plan.get('target_ber', float('nan')):.1e}"},
        "verdict": {"passed": len(passed), "total": len(run.cables),
                    "failing": [f"{c.serial}: {rd.verdict_text(c)}" for c in run.cables if not c.passed]},
        "cable_headers": headers, "cable_rows": rows,
        "com_note": _com_note(list(run.plan.get("com_clauses", []))),
        "gate_rows": rd.gate_rows(run), "lane_rows": rd.lane_rows(run),
        "excess_headers": [f"excess IL at {r:g} GBd" for r in run.plan["rates_gbd"]],
        "inference": rd.inference_view(summary), "limits": limits, "limits_with_ci": with_ci,
        "lots": rd.lot_rows(run), "unit_defects": rd.unit_defect_rows(run),
        "legacy_fits": rd.legacy_fits(summary) if "inference" not in summary else [],
        "effect": summary.get("effect"),
        "figures": grouped, "notes": list(notes), "not_available": rd.NOT_AVAILABLE,
    }


def render_page(run: RunResult, figures: list[rd.ReportFigure], notes: list[str] = ()) -> str:
    """``index.html`` of the run as text."""
    return environment().get_template("report.html").render(**context(run, figures, notes))
