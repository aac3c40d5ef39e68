"""The report's data figures (matplotlib, PNG): IL vs frequency per lot, reach vs carbon, model vs measurement.

Each function returns a ``ReportFigure`` (the PNG written into the report folder, its title and a
caption saying what it shows and what to conclude), or None when the run holds nothing to draw.
The link-model eye and bathtubs are in ``accbench.bench.reporteye``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from accbench.bench.reportdata import (
    ReportFigure,
    gate_label,
    il_legend_label,
    limits_view,
    not_passing,
    outliers,
    safe_name,
)
from accbench.bench.results import CableResult, RunResult

BER_AXIS_FLOOR = 1e-30  # model BERs below are drawn here


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, folder: Path, name: str) -> Path:
    path = folder / name
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return path


LINESTYLES = ("-", "--", "-.", ":")


def colours(run: RunResult) -> dict[str, tuple[str, str]]:
    """One (colour, line style) per cable, the same in every figure: tab10 colours, the style changing with
    each cable so that cables with the same curve (one wire, one build) stay visible over each other."""
    plt = pyplot()
    cmap = plt.get_cmap("tab10" if len(run.cables) <= 10 else "tab20")
    from matplotlib.colors import to_hex

    return {c.serial: (to_hex(cmap(i % cmap.N)), LINESTYLES[i % len(LINESTYLES)]) for i, c in enumerate(run.cables)}


def _mask(run: RunResult):
    from accbench.dsp.masks import load_mask

    name = run.plan["gates"].get("il_mask")
    if not name:
        return None
    try:
        return load_mask(name)
    except Exception:  # a mask file next to the plan may not be here; plot without it and say so
        return None


def il_figures(run: RunResult, curves: dict, colour: dict, folder: Path) -> list[ReportFigure]:
    """IL (SDD21) vs frequency of the cables of each lot: limit line, Nyquist markers, verdicts in the legend."""
    plt = pyplot()
    mask = _mask(run)
    rates = sorted(run.plan["rates_gbd"])
    f_max = max(rates) / 2 * 1.2
    drawn = [c for c in run.cables if c.serial in curves]
    if not drawn:
        return []
    y_max = max(float(np.nanmax(curves[c.serial][1][curves[c.serial][0] <= f_max * 1e9])) for c in drawn)
    if mask is not None:
        y_max = max(y_max, float(mask.max_il_db.max()))
    y_max = float(np.ceil(y_max * 1.08 / 5) * 5)
    out = []
    for lot in run.plan["lots"]:
        cables = [c for c in drawn if c.wire_lot == lot["id"]]
        if not cables:
            continue
        fig, ax = plt.subplots(figsize=(8, 4.6))
        for c in cables:
            freq, il = curves[c.serial]
            bad_il = c.verdict("il_mask") is not None and c.verdict("il_mask").outcome != "pass"
            col, style = colour[c.serial]
            ax.plot(freq / 1e9, il, style, lw=2.2 if bad_il else 1.3, color=col, label=il_legend_label(c))
            for r in c.rates:
                ax.plot(r.nyquist_hz / 1e9, r.il_db, "o", ms=4, color=col)
        for r in rates:
            ax.axvline(r / 2, color="grey", lw=0.8, ls=":")
            ax.text(r / 2, y_max * 0.99, f" Nyquist of {r:g} GBd\n {r / 2:g} GHz", fontsize=7, va="top",
                    color="dimgrey")
        if mask is not None:
            if mask.freq_hz.size > 1:
                ax.plot(mask.freq_hz / 1e9, mask.max_il_db, "r-", lw=1.5, label=f"IL limit {mask.name}")
            else:
                ax.axhline(mask.max_il_db[0], color="r", ls="--", lw=1.2,
                           label=f"IL limit {mask.name}: {mask.max_il_db[0]:g} dB (defined at "
                                 f"{mask.freq_hz[0] / 1e9:g} GHz)")
                ax.plot(mask.freq_hz / 1e9, mask.max_il_db, "rv", ms=9)
        ax.set_xlim(0, f_max)
        ax.set_ylim(0, y_max)
        ax.set_xlabel("frequency (GHz)")
        ax.set_ylabel("differential insertion loss SDD21 (dB)")
        title = f"IL vs frequency, lot {lot['id']} ({lot['carbon_mg_m2']:g} mg/m² carbon)"
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        path = save(fig, folder, f"il_{safe_name(lot['id'])}.png")
        out.append(ReportFigure(path, "il", title, _il_caption(lot, cables, mask, rates)))
    return out


def _fails(v) -> str:
    return "fails" if v.outcome == "fail" else "is marginal on"


def _il_caption(lot: dict, cables: list[CableResult], mask, rates: list[float]) -> str:
    nyq = ", ".join(f"{r / 2:g} GHz for {r:g} GBd" for r in rates)
    shows = (f"Measured differential insertion loss (SDD21, positive dB) of the {len(cables)} cable(s) of lot "
             f"{lot['id']} ({lot['carbon_mg_m2']:g} mg/m²), one colour per cable; dots mark each cable's IL at each "
             f"rate's Nyquist frequency ({nyq}), the figure the gates read. The vertical scale is the same for "
             "every lot. ")
    if mask is None:
        limit = "The plan has no IL limit that can be drawn here. "
        judged = []
    else:
        limit = (f"Red: the IL limit {mask.name}" + (f", which its clause defines at {mask.freq_hz[0] / 1e9:g} GHz "
                 "only (triangle); the dashed line carries that value across the band for reading, it is not a "
                 "limit at other frequencies. " if mask.freq_hz.size == 1 else ". "))
        judged = [c for c in cables if c.verdict("il_mask") is not None]
    fails = [c for c in judged if c.verdict("il_mask").outcome != "pass"]
    words = []
    if fails:
        words.append("; ".join(f"{c.serial} {_fails(c.verdict('il_mask'))} the IL mask by "
                               f"{-c.verdict('il_mask').margin:.2f} dB" if c.verdict("il_mask").margin is not None
                               else f"{c.serial} has no IL-mask value" for c in fails))
    elif judged:
        worst = min(judged, key=lambda c: c.verdict("il_mask").margin if c.verdict("il_mask").margin is not None
                    else -np.inf)
        margin = worst.verdict("il_mask").margin
        words.append(f"every cable is within the IL limit (smallest margin {margin:.2f} dB, {worst.serial})"
                     if margin is not None else "the IL limit could not be read")
    others = [(c, [v for v in not_passing(c) if v.name != "il_mask"]) for c in cables]
    others = [(c, vs) for c, vs in others if vs and (c.verdict("il_mask") is None
                                                     or c.verdict("il_mask").outcome == "pass")]
    if others:
        words.append("; ".join(f"{c.serial} {'passes IL but not' if c.verdict('il_mask') else 'does not pass'} "
                               f"{', '.join(gate_label(v.name) for v in vs)}"
                               for c, vs in others))
    return shows + limit + "Conclusion: " + ("; ".join(words) or "no verdicts to report") + "."


def _jitter(run: RunResult, cables: list[CableResult], span: float) -> dict[str, float]:
    """A small horizontal offset per cable within its lot, so cables of one carbon value do not overlap."""
    out = {}
    for lot in run.plan["lots"]:
        members = [c for c in cables if c.wire_lot == lot["id"]]
        for i, c in enumerate(members):
            out[c.serial] = (i - (len(members) - 1) / 2) * span
    return out


def reach_figure(run: RunResult, folder: Path) -> ReportFigure | None:
    """Reach vs carbon: every cable (jittered, outliers marked), lot means, the fit with its band, limits, gates."""
    summary = run.summary or {}
    cables = [c for c in run.cables if c.reach_m is not None]
    if not cables:
        return None
    plt = pyplot()
    gates = run.plan["gates"]
    top = max(run.plan["rates_gbd"])
    inference = summary.get("inference") if isinstance(summary.get("inference"), dict) else None
    limits = summary.get("limits") if isinstance(summary.get("limits"), list) else None
    carbon = np.array([c.carbon_mg_m2 for c in cables])
    x_hi = max(carbon.max() * 1.15, 1.0)
    for lim in limits or []:
        for v in [lim.get("carbon_mg_m2"), *(lim.get("ci95") or [None, None])]:
            if v is not None:
                x_hi = max(x_hi, v * 1.05)
    jitter = _jitter(run, cables, x_hi * 0.015)
    flagged = outliers(run)
    fig, ax = plt.subplots(figsize=(8, 5))
    xs = [c.carbon_mg_m2 + jitter[c.serial] for c in cables]
    ax.plot(xs, [c.reach_m for c in cables], "o", ms=5, color="tab:blue", alpha=0.75, label="cable (jittered)")
    for c, x in zip(cables, xs, strict=True):
        if c.serial in flagged:
            ax.plot(x, c.reach_m, "o", ms=12, mfc="none", mec="red", mew=1.5)
            ax.annotate(c.serial, (x, c.reach_m), xytext=(6, 6), textcoords="offset points", fontsize=7, color="red")
    if flagged & {c.serial for c in cables}:
        ax.plot([], [], "o", ms=10, mfc="none", mec="red", label="model outlier")
    lots = [lot for lot in summary.get("lots", []) if lot.get("reach_m") is not None]
    if lots:
        ax.plot([lot["carbon_mg_m2"] for lot in lots], [lot["reach_m"] for lot in lots], "_", ms=22, color="black",
                mew=2, label="lot mean (the unit of inference)")
    band = (inference or {}).get("band")
    fit_words = _draw_fit(ax, band, summary, x_hi)
    for length, name, col in ((gates["reach_m"], "reach", "tab:red"), (gates["stretch_m"], "stretch", "tab:purple")):
        ax.axhline(length, color=col, ls=":", lw=1.2, label=f"{length:g} m {name} gate")
    rows, with_ci = limits_view(run)
    raw = limits if limits else [{"carbon_mg_m2": summary.get(k)} for k in ("carbon_limit_mg_m2",
                                                                              "carbon_limit_stretch_mg_m2")]
    for row, lim, col in zip(rows, raw, ("tab:red", "tab:purple"), strict=False):
        value = lim.get("carbon_mg_m2")
        if value is None:
            continue
        extrapolated = bool(lim.get("extrapolated"))
        label = f"carbon limit for {row['reach']}: {row['carbon']}"
        label += f" (95 % CI {row['ci']})" if with_ci else " (no interval in this record)"
        if lim.get("status") and lim["status"] != "estimated":
            label += f", {lim['status']}"
        ax.axvline(value, color=col, ls=":" if extrapolated else "--", lw=1.4,
                   label=label + (", extrapolated" if extrapolated else ""))
        line = lim.get("line")
        if isinstance(line, dict) and line.get("carbon_mg_m2"):
            seg = np.asarray(line["carbon_mg_m2"], dtype=float)
            ax.plot(seg, line["intercept_m"] + line["slope_m_per_mg_m2"] * seg, "-", color=col, lw=0.9, alpha=0.8,
                    label=f"local line of the {row['reach']} limit ({line.get('lots', '?')} lots)")
        ci = lim.get("ci95")
        if ci and not (ci[0] is None and ci[1] is None):  # an unbounded interval is said in the label, not shaded
            lo = 0.0 if ci[0] is None else ci[0]
            hi = x_hi if ci[1] is None else ci[1]
            ax.axvspan(lo, hi, color=col, alpha=0.10, hatch="//" if extrapolated else None, lw=0)
    if inference and inference.get("status") == "insufficient data":
        import textwrap

        words = "insufficient data for a carbon limit" + (" (what is needed: see the caption)"
                                                           if inference.get("needed") else "")
        ax.text(0.98, 0.97, textwrap.fill(words, 48), transform=ax.transAxes, fontsize=8, color="darkred",
                ha="right", va="top", bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "darkred"})
    reach_max = max(c.reach_m for c in cables)
    ax.set_xlim(0, x_hi)
    ax.set_ylim(0, max(reach_max, gates["stretch_m"]) * 1.18)
    ax.set_xlabel("surface carbon on the wire (mg/m²)")
    ax.set_ylabel(f"reach of the link model at {top:g} GBd (m)")
    title = f"Reach at {top:g} GBd vs surface carbon: cables, lot means, fit and carbon limits"
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    path = save(fig, folder, "reach_vs_carbon.png")
    return ReportFigure(path, "carbon", title, _reach_caption(run, inference, rows, with_ci, fit_words, top))


def _draw_fit(ax, band, summary: dict, x_hi: float) -> str:
    """The fitted curve: the lot-level fit with its 95 % band, else the older per-cable hinge without one."""
    if isinstance(band, dict) and band.get("carbon_mg_m2"):
        x = np.asarray(band["carbon_mg_m2"], dtype=float)
        ax.plot(x, np.asarray(band["reach_m"], dtype=float), "-", color="tab:green", lw=1.6, label="lot-level fit")
        if band.get("lo") and band.get("hi"):
            ax.fill_between(x, np.asarray(band["lo"], dtype=float), np.asarray(band["hi"], dtype=float),
                            color="tab:green", alpha=0.2, lw=0, label="95 % confidence band of the fit")
        return "the green curve is the lot-level fit with its 95 % confidence band"
    if isinstance(summary.get("inference"), dict):
        return (f"no fitted curve is drawn: the lot-level fit is not available "
                f"({summary['inference'].get('status') or 'no band in the summary'})")
    fit = (summary.get("regressions") or {}).get("reach_m")
    if fit:
        x = np.linspace(0, x_hi, 200)
        ax.plot(x, fit["intercept"] + fit["slope_per_mg_m2"] * np.maximum(0, x - fit["threshold_mg_m2"]), "-",
                color="tab:green", lw=1.2, label="per-cable hinge fit (no confidence band in this record)")
        return ("the green line is the older per-cable hinge fit; this record has no confidence band (not "
                "available), and that fit counts cables of one lot as independent")
    return "no fitted curve is available in this record"


def _reach_caption(run: RunResult, inference, rows, with_ci: bool, fit_words: str, top: float) -> str:
    shows = (f"Each blue dot is one cable's reach (the longest length at which the link model meets the target BER "
             f"at {top:g} GBd, from its measured S-parameters) against its wire lot's surface carbon, spread "
             f"sideways a little so cables of one lot do not overlap; black bars are the lot means; {fit_words}. "
             "Dotted horizontal lines are the reach gates; vertical lines the carbon limits (shaded: their 95 % "
             "intervals; a dotted line and hatching mark an extrapolation beyond the measured carbon range). "
             "Each limit comes from a local straight line through the lots either side of its gate crossing (thin "
             "line of the limit's colour, Fieller's interval), not from the green curve, so the curve's band need "
             "not cross a gate exactly where its limit sits. ")
    lims = "; ".join(f"for {r['reach']}: {r['carbon']}" + (f" (95 % CI {r['ci']})" if with_ci else "") for r in rows)
    if inference is None:
        concl = ("the lot-level inference is not available in this record, so the limits (" + lims + ") come "
                 "without intervals and overstate their certainty.")
    elif inference.get("status") == "insufficient data":
        concl = ("insufficient data: the run cannot support a carbon limit"
                 + (f" — {inference['needed']}" if inference.get("needed") else "") + f". Limits as computed: {lims}.")
    elif inference.get("status") == "no significant effect":
        p = (inference.get("change_point") or {}).get("p_value")
        concl = ("no significant effect of carbon on reach" + (f" (change-point test p = {p:.3g})" if p is not None
                                                                else "") + f"; limits: {lims}.")
    else:
        concl = f"carbon limits {lims}."
    return shows + "Conclusion: " + concl


def _ber_bounds(run: RunResult) -> dict:
    return {(c.serial, r.gbd, lane.lane): lane.ber_upper_95 for c in run.cables for r in c.rates for lane in r.lanes}


def model_figure(run: RunResult, folder: Path) -> ReportFigure | None:
    """Measured vs fitted-model BER of every counted gate (zero-error gates as upper bounds) and measured vs model
    watts, serials as labels, identity lines, outliers in red."""
    model = (run.summary or {}).get("model_vs_measurement")
    if not model:
        return None
    plt = pyplot()
    bounds = _ber_bounds(run)
    fig, (ax_ber, ax_w) = plt.subplots(1, 2, figsize=(11, 4.8))
    rows = model.get("ber", {}).get("rows", [])
    pts, lost, groups = [], [], {}
    for r in rows:
        if r.get("errors") is None or r.get("measured_ber") is None:
            lost.append(r["serial"])
            continue
        x = max(r["fitted_ber"], BER_AXIS_FLOOR)
        bound = r["errors"] == 0
        y = bounds.get((r["serial"], r["gbd"], r["lane"]), 3.0 / max(r["bits"], 1)) if bound else r["measured_ber"]
        key = (round(float(np.log10(x)), 1), round(float(np.log10(y)), 1), bound, bool(r["outlier"]))
        groups.setdefault(key, []).append((x, y, f"{r['serial']} {r['gbd']:g}G L{r['lane']}"))
        pts += [x, y]
    for (_, _, bound, outlier), members in groups.items():
        colour = "red" if outlier else "tab:blue"
        for x, y, _ in members:
            ax_ber.plot(x, y, "v" if bound else "o", color=colour, ms=7, mfc="none" if bound else colour)
        x, y, _ = members[0]
        ax_ber.annotate(_label([m[2] for m in members]), (x, y), xytext=(7, 3 if outlier else -3),
                        textcoords="offset points", fontsize=6, color=colour, va="bottom" if outlier else "top")
    if pts:
        lo = 10 ** np.floor(np.log10(min(pts)) - 1)
        hi = min(10 ** np.ceil(np.log10(max(pts)) + 1), 1.0)
        ax_ber.loglog([lo, hi], [lo, hi], "k:", lw=0.8, label="measured = model")
        ax_ber.set_xlim(lo, hi)
        ax_ber.set_ylim(lo, hi)
    ax_ber.plot([], [], "o", color="tab:blue", label="errors counted")
    ax_ber.plot([], [], "v", color="tab:blue", mfc="none", label="no errors: 95 % upper bound")
    ax_ber.plot([], [], "o", color="red", label="outlier")
    ax_ber.set_xscale("log")
    ax_ber.set_yscale("log")
    ax_ber.set_xlabel(f"fitted link-model BER (floor {BER_AXIS_FLOOR:.0e})")
    ax_ber.set_ylabel("measured BER (BERT)")
    ax_ber.set_title("BER of every counted gate", fontsize=9)
    ax_ber.legend(fontsize=7, loc="lower right")
    prow = model.get("power", {}).get("rows", [])
    watts = [v for r in prow for v in (r["model_w"], r["measured_w"])]
    spread = max((max(watts) - min(watts)) * 0.04, 0.01) if watts else 1.0
    wgroups = {}
    for r in prow:
        key = (round(r["model_w"] / spread), round(r["measured_w"] / spread), bool(r["outlier"]))
        wgroups.setdefault(key, []).append(r)
    for (_, _, outlier), members in wgroups.items():
        colour = "red" if outlier else "tab:blue"
        ax_w.plot([r["model_w"] for r in members], [r["measured_w"] for r in members], "o", color=colour)
        ax_w.annotate(_label([r["serial"] for r in members]), (members[0]["model_w"], members[0]["measured_w"]),
                      xytext=(7, -3), textcoords="offset points", fontsize=6, color=colour, va="top")
    if prow:
        vals = [v for r in prow for v in (r["model_w"], r["measured_w"])]
        lo, hi = min(vals) * 0.9, max(vals) * 1.1
        ax_w.plot([lo, hi], [lo, hi], "k:", lw=0.8, label="measured = model")
        ax_w.set_xlim(lo, hi)
        ax_w.set_ylim(lo, hi)
        ax_w.legend(fontsize=7, loc="upper left")
    ax_w.set_xlabel("power model (W)")
    ax_w.set_ylabel("measured supply power (W)")
    ax_w.set_title("supply power of every cable", fontsize=9)
    for ax in (ax_ber, ax_w):
        ax.grid(True, which="major", alpha=0.3)
    title = "Model vs measurement: BER of every counted gate and supply power"
    fig.suptitle(title, fontsize=10)
    path = save(fig, folder, "model_vs_measurement.png")
    return ReportFigure(path, "model", title, _model_caption(model, rows, lost))


def _label(names: list[str], most: int = 4) -> str:
    """Labels of points drawn at one place: the first few, then how many more."""
    head = "\n".join(names[:most])
    return head + (f"\n+{len(names) - most} more" if len(names) > most else "")


def _model_caption(model: dict, rows: list, lost: list) -> str:
    fit = model.get("ber", {}).get("fit") or {}
    power = model.get("power", {})
    counted = sum(1 for r in rows if r.get("errors"))
    shows = (f"Left: each of the {len(rows)} BERT gates (cable, rate, lane) against the link model's BER after the "
             f"noise/jitter fit; {counted} counted errors (dots), the others counted none and are drawn at their "
             "95 % upper bound (open triangles: the true BER is below). Right: measured supply power against the "
             "power model. Dotted: measured = model; red: outliers. ")
    if lost:
        shows += f"Gates that lost sync are not drawn ({', '.join(sorted(set(lost)))}). "
    words = []
    if fit.get("note"):
        note = str(fit["note"])
        if fit.get("left_out"):  # the note is about the refit without the outliers' gates
            note = (f"after leaving out the {fit['left_out']} gate(s) of the outliers, "
                    + note.replace("no measurement counted errors", "no remaining measurement counted errors"))
        words.append(note)
    if power.get("scale") is not None:
        ci = power.get("scale_ci95")
        words.append(f"measured power is {power['scale']:.3f} × the model" + (
            f" (95 % CI {ci[0]:.3f} to {ci[1]:.3f})" if ci else ""))
    out = model.get("outliers", [])
    words.append(f"outliers: {', '.join(out)}" if out else "no outliers")
    return shows + "Conclusion: " + "; ".join(words) + "."
