"""``accbench report``: a self-contained HTML page of a run, its figures also written as PNG files.

Figures (``accbench.bench.reportfigures``, ``accbench.bench.reporteye``): IL vs frequency per lot
with the limit and each rate's Nyquist, the link model's eye of every cable at the top rate, a
bathtub per rate, reach vs carbon with the fit, its band and the carbon limits with their
intervals, and model vs measurement (BER of every counted gate, supply power). Tables: cables,
gates not passed with their margins, BER per lane with its bound, COM/ERL, the lot-level carbon
inference and the unit defects apart from it. The page comes from a jinja2 template that escapes
every value (``accbench.bench.reportpage``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from accbench.bench import reportdata, reporteye, reportfigures
from accbench.bench.record import read_run, read_sparameters
from accbench.bench.reportpage import render_page
from accbench.bench.results import RunResult

from accbench.errors import AccbenchError, InputError

_safe = reportdata.safe_name  # the names earlier code and tests used
_com_cells = reportdata.com_cells


def _channels(run: RunResult, sparameters: Callable, notes: list[str]) -> tuple[dict, dict]:
    """Per cable: the IL curve (freq_hz, il_db) and the measured channel, built as the run built them."""
    import skrf as rf
    from accbench.dsp.analysis import AnalysisOptions, analyze
    from accbench.dsp.channel import MeasuredChannel

    low = min(run.plan["rates_gbd"]) * 1e9
    curves, channels = {}, {}
    for c in run.cables:
        freq, s = sparameters(c.serial)
        if not np.asarray(freq).size:  # a cable an instrument error stopped has none
            continue
        try:
            net = rf.Network(frequency=rf.Frequency.from_f(freq, unit="Hz"), s=s)
            result = analyze(net, AnalysisOptions(baud=low), name=c.serial)
            curves[c.serial] = (result.curves.freq_hz, result.curves.il_db)
            channels[c.serial] = MeasuredChannel.from_analysis(result, c.length_m, name=c.serial)
        except (AccbenchError, ValueError) as exc:
            notes.append(f"{c.serial}: its S-parameters could not be drawn ({exc})")
    return curves, channels


def _link_figures(run: RunResult, channels: dict, colour: dict, folder: Path, notes: list[str]) -> list:
    """The eye of every cable at the top rate (one vertical scale) and one bathtub per rate."""
    from accbench.dsp.linkconfig import LinkConfig

    rates = sorted(run.plan["rates_gbd"])
    target = run.plan["target_ber"]
    views = {}
    for c in run.cables:
        if c.serial in channels:
            try:
                views[c.serial] = reporteye.link_views(c, channels[c.serial], rates, target)
            except (AccbenchError, ValueError) as exc:
                notes.append(f"{c.serial}: the link model could not be run on it ({exc})")
    swing = LinkConfig().tx_amplitude_v
    top = max(rates)
    for serial, v in views.items():
        recorded = next((r.link.eye_height for r in run.cable(serial).rates if r.gbd == top), None)
        if recorded is not None and abs(v[top].eye_height - recorded) > max(0.002, 0.05 * abs(recorded)):
            notes.append(f"{serial}: the eye drawn from the record's S-parameters has a height of "
                         f"{v[top].eye_height * swing * 1e3:.1f} mV, the run judged {recorded * swing * 1e3:.1f} mV "
                         "(the record may hold its S-parameters thinned out)")
    half = reporteye.eye_scale_mv([v[top] for v in views.values()], swing)
    out = [reporteye.eye_figure(run.cable(s), v[top], folder, swing, half, target) for s, v in views.items()]
    for gbd in rates:
        items = [(run.cable(s), v[gbd]) for s, v in views.items()]
        if items:
            out.append(reporteye.bathtub_figure(gbd, items, colour, folder, target))
    return out


def build_report(run: RunResult, sparameters: Callable, folder: str | Path) -> Path:
    """Write ``index.html`` and the PNGs of ``run`` into ``folder``; ``sparameters(serial)`` gives (freq_hz, s)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    colour = reportfigures.colours(run)
    curves, channels = _channels(run, sparameters, notes)
    figures = reportfigures.il_figures(run, curves, colour, folder)
    figures += _link_figures(run, channels, colour, folder, notes)
    figures += [f for f in (reportfigures.reach_figure(run, folder), reportfigures.model_figure(run, folder)) if f]
    path = folder / "index.html"
    path.write_text(render_page(run, figures, notes), encoding="utf-8")
    return path


def write_report(record: str | Path, folder: str | Path) -> Path:
    """Write ``index.html`` (figures embedded) and the PNGs into ``folder``; the page's path."""
    record = Path(record)
    run = read_run(record)
    try:
        return build_report(run, lambda serial: read_sparameters(record, serial), folder)
    except (KeyError, IndexError, TypeError) as exc:
        # the record opened and its JSON parsed, but an entry the figures need is missing or of another type:
        # the file was altered after the run (HDF5 has no checksum on these attributes)
        raise InputError(f"cannot draw the report of {record}: damaged run record, an entry of its summary or "
                         f"figures is missing or malformed ({type(exc).__name__} {str(exc)[:80]}); "
                         "use the original record") from exc
