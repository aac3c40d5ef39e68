"""``accbench report``: a self-contained HTML page of a run, its figures also written as PNG files.

Figures: IL vs frequency of every cable with the IL mask (one plot per lot), the eye diagram and
bathtub of each lot's worst cable at the top rate (link model on its recorded S-parameters),
reach vs surface carbon with the fitted hinge and the carbon limit, and measured vs model BER
and watts with the outliers marked. Tables: cable verdicts and the lot summary.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
from accbench.bench.record import read_run, read_sparameters
from accbench.bench.results import CableResult, RunResult


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, folder: Path, name: str) -> Path:
    path = folder / name
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def _il_figures(record: Path, run: RunResult, folder: Path) -> list[Path]:
    """IL (SDD21) vs frequency of every cable of a lot, with the IL mask."""
    import skrf as rf
    from accbench.dsp.analysis import AnalysisOptions, analyze
    from accbench.dsp.masks import load_mask

    plt = _pyplot()
    mask_name = run.plan["gates"].get("il_mask")
    mask = None
    if mask_name:
        try:
            mask = load_mask(mask_name)
        except Exception:  # a mask file next to the plan may not be here; plot without it
            mask = None
    low = min(run.plan["rates_gbd"]) * 1e9
    out = []
    for lot in run.plan["lots"]:
        cables = [(c, *read_sparameters(record, c.serial)) for c in run.cables if c.wire_lot == lot["id"]]
        cables = [(c, freq, s) for c, freq, s in cables if freq.size]  # a cable an instrument error stopped has none
        if not cables:
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        for c, freq, s in cables:
            net = rf.Network(frequency=rf.Frequency.from_f(freq, unit="Hz"), s=s)
            curves = analyze(net, AnalysisOptions(baud=low), name=c.serial).curves
            tag = "" if c.passed else f" ({c.outcome.upper()})"
            ax.plot(curves.freq_hz / 1e9, curves.il_db, lw=1, label=c.serial + tag)
        if mask is not None:
            ax.plot(mask.freq_hz / 1e9, mask.max_il_db, "r--" if mask.freq_hz.size > 1 else "rv",
                    label=f"mask {mask.name}")
        ax.set_xlabel("frequency (GHz)")
        ax.set_ylabel("insertion loss (dB)")
        ax.set_title(f"lot {lot['id']} ({lot['carbon_mg_m2']:g} mg/m²): IL vs frequency")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        out.append(_save(fig, folder, f"il_{_safe(lot['id'])}.png"))
    return out


def _eye_figures(record: Path, run: RunResult, folder: Path) -> list[Path]:
    """Eye diagram and bathtub of each lot's worst cable (lowest reach) at the top rate."""
    import skrf as rf
    from accbench.dsp.analysis import AnalysisOptions, analyze
    from accbench.dsp.channel import MeasuredChannel
    from accbench.dsp.link import LinkModel, phase_scan, simulate_link
    from accbench.dsp.linkconfig import LinkConfig

    plt = _pyplot()
    top = max(run.plan["rates_gbd"])
    cfg = LinkConfig(baud=top * 1e9, target_ber=run.plan["target_ber"])
    out = []
    for lot in run.plan["lots"]:
        cables = [c for c in run.cables if c.wire_lot == lot["id"] and c.reach_m is not None]
        if not cables:
            continue
        worst = min(cables, key=lambda c: c.reach_m)
        freq, s = read_sparameters(record, worst.serial)
        net = rf.Network(frequency=rf.Frequency.from_f(freq, unit="Hz"), s=s)
        channel = MeasuredChannel.from_analysis(analyze(net, AnalysisOptions(baud=cfg.baud)), worst.length_m)
        eye_path = folder / f"eye_{_safe(worst.serial)}.png"
        simulate_link(channel, cfg, with_eye_width=False, eye_path=str(eye_path))
        out.append(eye_path)
        model = LinkModel(channel, cfg)
        offsets, results = phase_scan(model, model.equalize(), cfg)
        ber = np.array([np.nan if r is None else max(r.ber, 1e-30) for r in results])
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.semilogy(offsets, ber, "o-", ms=3)
        ax.axhline(cfg.target_ber, color="r", ls="--", label=f"target {cfg.target_ber:.1e}")
        ax.set_ylim(1e-20, 1)
        ax.set_xlabel("sampling offset (UI)")
        ax.set_ylabel("BER (statistical model)")
        ax.set_title(f"bathtub {worst.serial} @ {top:g} GBd")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        out.append(_save(fig, folder, f"bathtub_{_safe(worst.serial)}.png"))
    return out


def _reach_figure(run: RunResult, folder: Path) -> Path | None:
    """Reach vs surface carbon per cable with the fitted hinge, the gates and the carbon limits."""
    summary = run.summary or {}
    cables = [c for c in run.cables if c.reach_m is not None]
    if not cables:
        return None
    plt = _pyplot()
    gates = run.plan["gates"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([c.carbon_mg_m2 for c in cables], [c.reach_m for c in cables], "o", label="cables")
    fit = (summary.get("regressions") or {}).get("reach_m")
    carbon = np.array([c.carbon_mg_m2 for c in cables])
    if fit:
        x = np.linspace(0, max(carbon.max() * 1.2, 1.0), 200)
        ax.plot(x, fit["intercept"] + fit["slope_per_mg_m2"] * np.maximum(0, x - fit["threshold_mg_m2"]), "-",
                label="hinge fit")
    for length, key, style in ((gates["reach_m"], "carbon_limit_mg_m2", "r"),
                               (gates["stretch_m"], "carbon_limit_stretch_mg_m2", "m")):
        ax.axhline(length, color=style, ls=":", lw=1)
        limit = summary.get(key)
        if limit is not None:
            ax.axvline(limit, color=style, ls="--", label=f"limit for {length:g} m: {limit:.0f} mg/m²")
    ax.set_xlabel("surface carbon (mg/m²)")
    ax.set_ylabel(f"reach at {max(run.plan['rates_gbd']):g} GBd (m)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder, "reach_vs_carbon.png")


def _model_figure(run: RunResult, folder: Path) -> Path | None:
    """Measured vs fitted-model BER (counted gates) and measured vs model watts, outliers in red."""
    model = (run.summary or {}).get("model_vs_measurement")
    if not model:
        return None
    plt = _pyplot()
    fig, (ax_ber, ax_w) = plt.subplots(1, 2, figsize=(10, 4))
    rows = [r for r in model["ber"]["rows"] if r["errors"]]
    for flag, colour in ((False, "C0"), (True, "r")):
        pick = [r for r in rows if r["outlier"] == flag]
        ax_ber.loglog([max(r["fitted_ber"], 1e-20) for r in pick], [r["measured_ber"] for r in pick], "o",
                      color=colour, label="outlier" if flag else "gates with errors")
    ax_ber.loglog([1e-20, 1], [1e-20, 1], "k:", lw=0.8)
    ax_ber.set_xlabel("fitted model BER")
    ax_ber.set_ylabel("measured BER")
    ax_ber.legend(fontsize=8)
    for flag, colour in ((False, "C0"), (True, "r")):
        pick = [r for r in model["power"]["rows"] if r["outlier"] == flag]
        ax_w.plot([r["model_w"] for r in pick], [r["measured_w"] for r in pick], "o", color=colour,
                  label="outlier" if flag else "cables")
    ax_w.set_xlabel("power model (W)")
    ax_w.set_ylabel("measured (W)")
    ax_w.legend(fontsize=8)
    for ax in (ax_ber, ax_w):
        ax.grid(True, alpha=0.3)
    return _save(fig, folder, "model_vs_measurement.png")


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value, digits: int = 2, unit: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _com_cells(cable: CableResult, clauses: list[str]) -> list[str]:
    """IEEE COM per clause and the worst ERL of a cable."""
    if not clauses:
        return []
    return [*[_fmt(cable.com_db.get(c), 2, " dB") for c in clauses], _fmt(cable.worst_erl_db, 1, " dB")]


def _safe(serial: str) -> str:
    """A serial as a file name (anything but letters, digits, '-', '_' and '.' becomes '_')."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in serial)


def _verdict_cell(c: CableResult) -> str:
    if c.instrument_error:
        return "ERROR"
    failing = [v.name for v in c.verdicts if v.outcome != "pass"]
    return c.outcome.upper() + (f" ({', '.join(failing)})" if failing else "")


def _com_note(clauses: list[str]) -> str:
    if not clauses:
        return ""
    return ("<p>COM and ERL per IEEE 802.3 (" + html.escape(", ".join(clauses)) + ") of the measured passive "
            "assembly (the redriver is not in these figures); gates: COM &ge; the plan's com_db_min, ERL &ge; "
            "erl_db_min or the clause's limit.</p>")


def write_report(record: str | Path, folder: str | Path) -> Path:
    """Write ``index.html`` (figures embedded) and the PNGs into ``folder``; the page's path."""
    record, folder = Path(record), Path(folder)
    run = read_run(record)
    folder.mkdir(parents=True, exist_ok=True)
    summary = run.summary or {}
    outliers = set((summary.get("model_vs_measurement") or {}).get("outliers", []))
    rates = run.plan["rates_gbd"]
    figures = _il_figures(record, run, folder) + _eye_figures(record, run, folder)
    figures += [p for p in (_reach_figure(run, folder), _model_figure(run, folder)) if p]
    clauses = run.plan.get("com_clauses", [])
    cable_rows = [[c.serial, c.wire_lot, f"{c.carbon_mg_m2:g}",
                   *[_fmt(c.il_db.get(f"{r:g}"), 2, " dB") for r in rates],
                   *_com_cells(c, clauses),
                   _fmt(c.reach_m, 2, " m"), _fmt(c.power_w, 2, " W"), _verdict_cell(c),
                   "outlier" if c.serial in outliers else ""] for c in run.cables]
    lot_rows = [[lot["id"], f"{lot['carbon_mg_m2']:g}", lot["grade"], lot["cables"],
                 "-" if lot["pass_rate"] is None else f"{lot['pass_rate']:.0%}",
                 *[_fmt(lot.get(f"excess_il_db_{r:g}"), 2, " dB") for r in rates], _fmt(lot["reach_m"], 2, " m")]
                for lot in summary.get("lots", [])]
    images = "".join(
        f'<figure><img alt="{p.stem}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{html.escape(p.name)}</figcaption></figure>" for p in figures)
    limits = "".join(
        f"<li>carbon limit for a {length:g} m reach: "
        + ("none found (no significant effect)" if summary.get(key) is None else f"{summary[key]:.0f} mg/m²")
        + "</li>" for length, key in ((run.plan["gates"]["reach_m"], "carbon_limit_mg_m2"),
                                      (run.plan["gates"]["stretch_m"], "carbon_limit_stretch_mg_m2")))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(run.name)}: accbench report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}}figure{{display:inline-block;margin:0.5em}}
img{{max-width:700px}}</style></head><body>
<h1>{html.escape(run.name)}</h1>
<p>status {html.escape(run.status)}; {len(run.cables)} of {len(run.plan['cables'])} cables;
started {html.escape(run.started)}, ended {html.escape(run.ended or '-')}; accbench
{html.escape(run.software_version)}; record {html.escape(run.schema)}</p>
<h2>Cables</h2>
{_table(["serial", "lot", "carbon mg/m²", *[f"IL@{r:g}G" for r in rates],
         *[f"COM {c}" for c in clauses], *(["ERL"] if clauses else []), "reach", "power", "verdict", "model"],
        cable_rows)}
{_com_note(clauses)}
<h2>Wire lots</h2>
{_table(["lot", "carbon mg/m²", "grade", "cables", "pass rate", *[f"excess IL@{r:g}G" for r in rates], "reach"],
        lot_rows)}
<ul>{limits}<li>effect of carbon on reach: {html.escape(str(summary.get('effect', '-')))}</li></ul>
<h2>Figures</h2>
{images}
</body></html>
"""
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
