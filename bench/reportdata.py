"""What the report says, as plain data: gate naming, table rows and the carbon section (no plotting, no HTML).

The page (``accbench.bench.reportpage``) and the figures (``accbench.bench.reportfigures``,
``accbench.bench.reporteye``) read a run through these functions, so the wording that matters — which
gate a cable failed, what the carbon inference can and cannot say — is decided once and tested
without a browser. The carbon section reads ``summary["inference"]`` and ``summary["limits"]`` (the
lot-level statistics) when the record has them and says "not available" when it does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from accbench.bench.results import CableResult, GateVerdict, RunResult

WIRE_GATES = ("il_mask", "reach", "com", "erl")  # verdicts the wire (its loss and reflections) can cause
UNIT_GATES = ("power", "ber")  # verdicts of the plug's electronics: supply draw, a noisy redriver
GATE_LABELS = {"il_mask": "IL mask", "reach": "reach", "ber": "BER", "power": "power", "com": "COM", "erl": "ERL"}
NOT_AVAILABLE = "not available"


def safe_name(text: str) -> str:
    """A serial or lot id as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'.

    A name of dots alone (``.``, ``..``) or an empty one is prefixed so it never names a folder.
    """
    out = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in str(text))
    return "_" + out if not out.strip(".") else out


def gate_label(name: str) -> str:
    return GATE_LABELS.get(name, name)


def fmt(value, digits: int = 2, unit: str = "") -> str:
    """A number with ``digits`` decimals and a unit; '-' for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}{unit}"


def fmt_ber(value) -> str:
    return "-" if value is None else ("0" if value == 0 else f"{value:.2e}")


def gate_value(v: GateVerdict, value) -> str:
    """A gate's value, limit or margin in its unit (BER in scientific notation)."""
    if value is None:
        return "-"
    if v.name == "ber":
        return fmt_ber(value)
    return fmt(value, 2, f" {v.unit}" if v.unit else "")


def not_passing(cable: CableResult) -> list[GateVerdict]:
    """The cable's verdicts that are not a pass (fail first, then marginal), in declaration order."""
    bad = [v for v in cable.verdicts if v.outcome != "pass"]
    return sorted(bad, key=lambda v: v.outcome != "fail")


def il_outcome(cable: CableResult) -> str:
    """The IL-mask verdict of the cable: pass, marginal, fail, or 'not judged' (no mask in the plan)."""
    v = cable.verdict("il_mask")
    return "not judged" if v is None else v.outcome


def il_legend_label(cable: CableResult) -> str:
    """The serial with what the IL figure must say: its IL-mask verdict, and other gates named as such.

    A cable that failed on power is labelled "IL passes; fails power", never as an IL failure.
    """
    il = cable.verdict("il_mask")
    parts = []
    if il is not None and il.outcome != "pass":
        parts.append(f"IL mask {il.outcome.upper()}" + ("" if il.margin is None else f" ({il.margin:+.2f} dB)"))
    others = [v for v in not_passing(cable) if v.name != "il_mask"]
    if others:
        head = "IL passes; " if il is not None and il.outcome == "pass" else ""
        parts.append(head + "; ".join(("fails " if v.outcome == "fail" else "marginal on ") + gate_label(v.name)
                                      for v in others))
    if cable.instrument_error:
        parts.append("instrument error")
    return cable.serial + (" — " + "; ".join(parts) if parts else "")


def verdict_text(cable: CableResult) -> str:
    """PASS, or the outcome with the gates that are not a pass named (ERROR when an instrument stopped it)."""
    if cable.instrument_error:
        return "ERROR"
    bad = not_passing(cable)
    return cable.outcome.upper() + (f" ({', '.join(gate_label(v.name) for v in bad)})" if bad else "")


def outliers(run: RunResult) -> set[str]:
    return set(((run.summary or {}).get("model_vs_measurement") or {}).get("outliers", []))


def gate_rows(run: RunResult) -> list[dict]:
    """Every gate that is not a pass: cable, gate, what it measures, value, limit, margin, outcome, class."""
    rows = []
    for c in run.cables:
        if c.instrument_error:
            rows.append({"serial": c.serial, "gate": "instrument error", "measures": c.instrument_error, "value": "-",
                         "limit": "-", "margin": "-", "outcome": "fail", "kind": "unit", "detail": ""})
        for v in not_passing(c):
            rows.append({"serial": c.serial, "gate": gate_label(v.name), "measures": v.measures,
                         "value": gate_value(v, v.value),
                         "limit": ("" if v.limit is None else v.comparison + " ") + gate_value(v, v.limit),
                         "margin": gate_value(v, v.margin), "outcome": v.outcome,
                         "kind": "wire" if v.name in WIRE_GATES else "unit", "detail": v.detail})
    return rows


def lane_rows(run: RunResult) -> list[dict]:
    """Every BERT count: cable, rate, lane, bits, errors, BER, its 95 % upper bound and the gate it meets."""
    target = run.plan.get("target_ber")
    rows = []
    for c in run.cables:
        for r in c.rates:
            for lane in r.lanes:
                rows.append({"serial": c.serial, "gbd": f"{r.gbd:g}", "lane": lane.lane, "bits": f"{lane.bits:.3g}",
                             "errors": "-" if lane.errors is None else str(lane.errors), "ber": fmt_ber(lane.ber),
                             "upper": fmt_ber(lane.ber_upper_95), "sync_lost": "yes" if lane.sync_lost else "",
                             "meets": "-" if target is None else ("yes" if lane.ber_upper_95 <= target else "no")})
    return rows


def com_cells(cable: CableResult, clauses: list[str]) -> list[str]:
    """IEEE COM per clause and the worst ERL of a cable."""
    if not clauses:
        return []
    return [*[fmt(cable.com_db.get(c), 2, " dB") for c in clauses], fmt(cable.worst_erl_db, 1, " dB")]


def cable_rows(run: RunResult) -> tuple[list[str], list[list[str]]]:
    """The cable table: headers and one row per cable (IL per rate, COM/ERL where computed, reach, power)."""
    rates = run.plan["rates_gbd"]
    clauses = list(run.plan.get("com_clauses", []))
    flagged = outliers(run)
    headers = ["serial", "lot", "carbon (mg/m²)", *[f"IL at {r:g} GBd Nyquist" for r in rates],
               *[f"COM {c}" for c in clauses], *(["worst ERL"] if clauses else []), "reach", "power", "verdict",
               "model"]
    rows = [[c.serial, c.wire_lot, f"{c.carbon_mg_m2:g}", *[fmt(c.il_db.get(f"{r:g}"), 2, " dB") for r in rates],
             *com_cells(c, clauses), fmt(c.reach_m, 2, " m"), fmt(c.power_w, 2, " W"), verdict_text(c),
             "outlier" if c.serial in flagged else ""] for c in run.cables]
    return headers, rows


def _interval(ci, digits: int = 0, unit: str = "") -> str:
    if not ci or len(ci) != 2:
        return NOT_AVAILABLE
    lo, hi = ci
    if lo is None and hi is None:
        return "unbounded (the data do not bound it)"
    return f"{'−∞' if lo is None else fmt(lo, digits)} to {'+∞' if hi is None else fmt(hi, digits)}{unit}"


def inference_view(summary: dict) -> dict | None:
    """The lot-level inference as display text, or None when the record has none."""
    inf = summary.get("inference")
    if not isinstance(inf, dict):
        return None
    cp = inf.get("change_point") or {}
    p = cp.get("p_value")
    status = str(inf.get("status") or NOT_AVAILABLE)
    return {
        "status": status, "insufficient": status == "insufficient data", "needed": inf.get("needed"),
        "unit": str(inf.get("unit") or "-"), "lots": inf.get("lots", "-"), "levels": inf.get("carbon_levels", "-"),
        "method": str(inf.get("method") or "-"),
        "test": str(cp.get("test") or "change-point test"),
        "p_value": NOT_AVAILABLE if p is None else f"{p:.3g}",
        "detected": "yes" if cp.get("detected") else ("no" if "detected" in cp else "-"),
        "onset": fmt(inf.get("onset_mg_m2"), 0, " mg/m²") if inf.get("onset_mg_m2") is not None else NOT_AVAILABLE,
        "onset_ci": _interval(inf.get("onset_ci95"), 0, " mg/m²"),
        "slope": (NOT_AVAILABLE if inf.get("slope_per_mg_m2") is None
                  else f"{inf['slope_per_mg_m2'] * 100:.3g} m per 100 mg/m²"),
        "slope_ci": (NOT_AVAILABLE if not inf.get("slope_ci95") or None in inf["slope_ci95"]
                     else f"{inf['slope_ci95'][0] * 100:.3g} to {inf['slope_ci95'][1] * 100:.3g} m per 100 mg/m²"),
    }


def limits_view(run: RunResult) -> tuple[list[dict], bool]:
    """The carbon limits per reach gate as display rows, and whether they carry lot-level intervals.

    Without ``summary["limits"]`` (older records) the per-cable hinge's limits are shown with
    "not available" for the interval.
    """
    summary = run.summary or {}
    gates = run.plan["gates"]
    names = {"reach_m": "reach gate", "stretch_m": "stretch gate"}
    limits = summary.get("limits")
    if isinstance(limits, list) and limits:
        rows = []
        for lim in limits:
            carbon = lim.get("carbon_mg_m2")
            rows.append({"reach": fmt(lim.get("reach_m"), 1, " m"), "gate": names.get(lim.get("gate"), lim.get("gate")),
                         "carbon": NOT_AVAILABLE if carbon is None else fmt(carbon, 0, " mg/m²"),
                         "ci": _interval(lim.get("ci95"), 0, " mg/m²"),
                         "extrapolated": "yes — beyond the carbon levels measured" if lim.get("extrapolated") else "no",
                         "status": str(lim.get("status") or "-")
                         + (f": {lim['needed']}" if lim.get("needed") else "")})
        return rows, True
    rows = []
    for key, gate, length in (("carbon_limit_mg_m2", "reach gate", gates["reach_m"]),
                              ("carbon_limit_stretch_mg_m2", "stretch gate", gates["stretch_m"])):
        value = summary.get(key)
        rows.append({"reach": fmt(length, 1, " m"), "gate": gate,
                     "carbon": "none found" if value is None else fmt(value, 0, " mg/m²"), "ci": NOT_AVAILABLE,
                     "extrapolated": "not assessed", "status": "per-cable hinge fit (older analysis)"})
    return rows, False


def defects_text(value) -> str:
    """A lot's ``unit_defects`` (a count, list or mapping, whatever the summary holds) as one line."""
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, dict):
        return "; ".join(f"{k}: {defects_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(defects_text(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def lot_rows(run: RunResult) -> list[dict]:
    """The lots for the wire question: carbon, grade, cables, wire pass rate, excess IL, reach; unit defects apart."""
    rates = run.plan["rates_gbd"]
    rows = []
    for lot in (run.summary or {}).get("lots", []):
        wire = lot.get("wire_pass_rate")
        overall = lot.get("pass_rate")
        rows.append({"id": lot["id"], "carbon": f"{lot['carbon_mg_m2']:g}", "grade": lot.get("grade", "-"),
                     "cables": lot.get("cables", "-"),
                     "wire_pass": NOT_AVAILABLE if wire is None else f"{wire:.0%}",
                     "pass": "-" if overall is None else f"{overall:.0%}",
                     "excess": [fmt(lot.get(f"excess_il_db_{r:g}"), 2, " dB") for r in rates],
                     "reach": fmt(lot.get("reach_m"), 2, " m"),
                     "unit_defects": defects_text(lot.get("unit_defects"))})
    return rows


def unit_defect_rows(run: RunResult) -> list[dict]:
    """Cables with a defect of the unit, not the wire: power, BER, model outlier, instrument error."""
    model = (run.summary or {}).get("model_vs_measurement") or {}
    power_out = set((model.get("power") or {}).get("outliers", []))
    ber_out = set((model.get("ber") or {}).get("outliers", []))
    rows = []
    for c in run.cables:
        found = [f"{gate_label(v.name)} {v.outcome} (margin {gate_value(v, v.margin)})" for v in not_passing(c)
                 if v.name in UNIT_GATES]
        if c.serial in power_out:
            found.append("power-model outlier")
        if c.serial in ber_out:
            found.append("BER-model outlier")
        if c.serial in outliers(run) and c.serial not in power_out | ber_out:
            found.append("model outlier")
        if c.instrument_error:
            found.append("instrument error")
        if found:
            rows.append({"serial": c.serial, "lot": c.wire_lot, "defects": "; ".join(found)})
    return rows


def legacy_fits(summary: dict) -> list[dict]:
    """The older per-cable hinge fits (threshold, slope and its interval) where the record has them."""
    rows = []
    for name, fit in (summary.get("regressions") or {}).items():
        if not isinstance(fit, dict):  # a regression with too few points was stored as null
            rows.append({"figure": name, "threshold": "-", "slope": "no fit (too few points)", "ci": "-",
                         "points": "-"})
            continue
        ci = fit.get("slope_ci95")
        rows.append({"figure": name, "threshold": fmt(fit.get("threshold_mg_m2"), 0, " mg/m²"),
                     "slope": f"{fit.get('slope_per_mg_m2', float('nan')):.4g}",
                     "ci": "-" if not ci else f"{ci[0]:.4g} to {ci[1]:.4g}", "points": fit.get("points", "-")})
    return rows



@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report: its PNG (next to index.html), the section, a title and a caption in words."""

    path: Path
    section: str
    title: str
    caption: str
