"""The trend as files: control charts and the carbon fits as PNG (matplotlib), and one HTML page (jinja2).

``write_trend(trend, folder)`` writes, per metric, ``<metric>-individuals.png`` (I and MR charts in
the order measured) and ``<metric>-lots.png`` (X-bar and S or R per wire lot) with the Western
Electric flags marked and the gate drawn, ``carbon.png`` (the lots' means on carbon with the hinge
fits) and ``index.html``: the figures embedded, the limits, Cpk and Ppk, and every flag in a table.
The page escapes every value through the template and runs no script (as the run report).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np

from accbench.bench.reportfigures import pyplot, save
from accbench.bench.reportpage import TEMPLATES as REPORT_TEMPLATES
from accbench.db.spc import RULES, Chart, ChartPair
from accbench.db.trend import KINDS, MetricTrend, Trend
from accbench.errors import InputError

TEMPLATES = Path(__file__).parent / "templates"


def slug(name: str) -> str:
    """A metric's name as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)


def _draw(ax, chart: Chart, ylabel: str, gate: float | None = None) -> None:
    x = np.arange(chart.values.size)
    ax.plot(x, chart.values, "o-", color="#1f77b4", ms=4, lw=1)
    for line, style in ((chart.center, "-"), (chart.ucl, "--"), (chart.lcl, "--")):
        ax.step(x, line, where="mid", color="#555", ls=style, lw=1)
    flagged = sorted({v.index for v in chart.violations})
    if flagged:
        ax.plot(x[flagged], chart.values[flagged], "o", color="#d62728", ms=7, mfc="none", mew=1.5)
        for index in flagged:
            rules = ",".join(str(v.rule) for v in chart.violations if v.index == index)
            ax.annotate(rules, (index, chart.values[index]), textcoords="offset points", xytext=(4, 6), fontsize=7,
                        color="#d62728")
    if gate is not None:
        ax.axhline(gate, color="#d62728", lw=1, ls=":", label=f"gate {gate:g}")
        ax.legend(loc="best", fontsize=7)
    ax.set_ylabel(ylabel)
    if chart.values.size <= 30:
        ax.set_xticks(x, chart.labels, rotation=60, fontsize=6, ha="right")
    ax.grid(alpha=0.3)


def chart_figure(pair: ChartPair, metric: MetricTrend, folder: Path, which: str) -> Path:
    """One PNG of a chart pair: the location chart above its dispersion chart."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=which == "lots", height_ratios=(3, 2))
    unit = metric.metric.unit
    gate = metric.capability.lsl if metric.capability and metric.capability.lsl is not None else (
        metric.capability.usl if metric.capability else None)
    label = "value" if which == "individuals" else "lot mean"
    _draw(top, pair.location, f"{label} ({unit})", gate)
    _draw(bottom, pair.dispersion, f"{pair.dispersion.kind} ({unit})")
    kind = "individuals" if which == "individuals" else f"X-bar / {pair.dispersion.kind.upper()} per lot"
    top.set_title(f"{metric.metric.title}: {kind}", fontsize=10)
    return save(fig, folder, f"{slug(metric.metric.name)}-{which}.png")


def carbon_figure(carbon: dict, folder: Path) -> Path | None:
    """Lot means on carbon (excess IL per rate, reach) with the hinge fits; None without lots."""
    lots = carbon["lots"]
    if not lots:
        return None
    keys = [f"excess_il_db_{g}" for g in carbon["rates_gbd"]] + ["reach_estimate_m"]
    plt = pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        have = [lot for lot in lots if lot.get(key) is not None]
        x = np.array([lot["carbon_mg_m2"] for lot in have], float)
        ax.plot(x, [lot[key] for lot in have], "o", color="#1f77b4")
        fit = carbon["regressions"].get("reach_m" if key == "reach_estimate_m" else key)
        if fit is not None and x.size:
            grid = np.linspace(0.0, x.max() * 1.05, 200)
            ax.plot(grid, fit["intercept"] + fit["slope_per_mg_m2"] * np.maximum(0.0, grid - fit["threshold_mg_m2"]),
                    color="#ff7f0e", label="hinge fit" + (" (significant)" if fit["significant"] else ""))
            ax.legend(fontsize=7)
        ax.set_xlabel("carbon (mg/m^2)")
        ax.set_ylabel("reach (m)" if key == "reach_estimate_m" else
                      f"excess IL at {key.removeprefix('excess_il_db_')} GBd (dB)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"lot means over the history ({len(lots)} lots)", fontsize=10)
    return save(fig, folder, "carbon.png")


def _embed(path: Path | None) -> dict | None:
    if path is None:
        return None
    return {"file": path.name, "data": base64.b64encode(path.read_bytes()).decode("ascii")}


def _num(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _gate_text(metric: MetricTrend) -> str:
    cap = metric.capability
    limit = None if cap is None else cap.lsl if cap.lsl is not None else cap.usl
    if limit is None:
        return "none recorded"
    return f"{'≥' if KINDS[metric.metric.kind][2] == 'lower' else '≤'} {limit:g} {metric.metric.unit}"


def metric_view(metric: MetricTrend, folder: Path) -> dict:
    """What the page shows of one metric."""
    cap = metric.capability
    pair = metric.individuals
    figures = [_embed(chart_figure(p, metric, folder, which)) for p, which in
               ((metric.individuals, "individuals"), (metric.lots, "lots")) if p is not None]
    return {
        "name": metric.metric.name, "title": metric.metric.title, "points": len(metric.points),
        "gate": _gate_text(metric),
        "mean": _num(cap.mean if cap else None), "sigma_within": _num(cap.sigma_within if cap else None),
        "sigma_overall": _num(cap.sigma_overall if cap else None), "sigma_from": metric.sigma_from or "-",
        "lcl": _num(float(pair.location.lcl[0]) if pair else None),
        "ucl": _num(float(pair.location.ucl[0]) if pair else None),
        "cpk": _num(cap.cpk if cap else None, 3), "ppk": _num(cap.ppk if cap else None, 3),
        "flags": [{"chart": chart, "rule": v.rule, "text": RULES[v.rule], "point": v.label, "side": v.side}
                  for chart, v in metric.violations],
        "notes": list(metric.notes) + (list(metric.lots.location.notes) if metric.lots else []),
        "figures": figures,
    }


def carbon_view(carbon: dict) -> dict:
    """The carbon section: the lot table and one line per fit."""
    fits = []
    for key, fit in carbon["regressions"].items():
        what = "reach" if key == "reach_m" else f"excess IL at {key.removeprefix('excess_il_db_')} GBd"
        if fit is None:
            fits.append({"what": what, "text": "too few lots at distinct carbon levels for the hinge fit"})
            continue
        fits.append({"what": what, "text": (
            f"slope {fit['slope_per_mg_m2']:.4g} per mg/m^2 (95 % CI {_num(fit['slope_ci95'][0])} to "
            f"{_num(fit['slope_ci95'][1])}) above {fit['threshold_mg_m2']:.4g} mg/m^2, change over the range "
            f"{fit['change_over_range']:.3g}, {'significant' if fit['significant'] else 'not significant'}"
            + (f", Davies p = {fit['effect_p_value']:.3g}" if fit.get("effect_p_value") is not None else "")
            + f"; {fit['points']} lots")})
    inference = carbon["inference"]
    return {"lots": carbon["lots"], "rates": carbon["rates_gbd"], "fits": fits, "status": inference["status"],
            "needed": inference.get("needed")}


def write_trend(trend: Trend, folder: str | Path) -> Path:
    """Write the PNGs and ``index.html`` of ``trend`` into ``folder`` (made if missing); the page's path."""
    import jinja2

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write the trend into {folder}: {exc.strerror or exc}", "output") from None
    metrics = [metric_view(m, folder) for m in trend.metrics]
    carbon = _embed(carbon_figure(trend.carbon, folder))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES),
                                                         jinja2.FileSystemLoader(REPORT_TEMPLATES)]),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    filters = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in vars(trend.filters).items()
               if v is not None}
    page = env.get_template("trend.html").render(
        database=trend.database, filters=filters, metrics=metrics, carbon=carbon_view(trend.carbon),
        carbon_figure=carbon, rules=RULES)
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
