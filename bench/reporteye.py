"""The report's link-model figures: an eye per cable at the top rate and a bathtub per rate.

Both come from the link model (``accbench.dsp.link``) on each cable's measured S-parameters, built
as the run built it (the channel from the lowest rate's analysis, the CTLE and FFE searched again),
so the eye height drawn is the one the run judged. They are model figures, not scope captures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from accbench.bench.reportdata import ReportFigure, il_outcome, safe_name
from accbench.bench.results import CableResult

EYE_SYMBOLS = 4000
BER_FLOOR = 1e-20  # the bathtub's lowest decade drawn; lower model BERs sit on it


@dataclass(frozen=True)
class LinkView:
    """The link model of one cable at one rate: BER vs sampling phase, eye height and width at the target BER."""

    serial: str
    gbd: float
    offsets_ui: np.ndarray
    ber: np.ndarray  # NaN where the phase has no positive main cursor
    eye_height: float  # at the target BER, launch peak level = 1; negative when closed
    open_ui: tuple[float, float] | None  # the open phases around the chosen one, in UI (None: closed)
    samples_per_ui: int
    gdc_db: float
    wave: np.ndarray | None = None  # oversampled waveform (top rate only), launch peak level = 1
    phase: int = 0  # sample of the chosen sampling instant within a UI
    sigma: float = 0.0  # Gaussian noise at the slicer, launch peak level = 1

    @property
    def eye_width_ui(self) -> float:
        return 0.0 if self.open_ui is None else self.open_ui[1] - self.open_ui[0]


def _open_range(offsets: np.ndarray, results: list, spu: int) -> tuple[float, float] | None:
    """The contiguous run of open phases (eye height > 0 at the target BER) containing the chosen phase."""
    is_open = np.array([r is not None and r.eye_height > 0 for r in results])
    centre = int(np.argmin(np.abs(offsets)))
    if not is_open[centre]:
        return None
    lo = hi = centre
    while lo > 0 and is_open[lo - 1]:
        lo -= 1
    while hi < is_open.size - 1 and is_open[hi + 1]:
        hi += 1
    return float(offsets[lo]), float(offsets[hi] + 1.0 / spu)


def link_views(cable: CableResult, channel, rates: list[float], target_ber: float, seed: int = 1) -> dict:
    """``{gbd: LinkView}`` of one cable (with the eye waveform at the top rate)."""
    from accbench.dsp.eyeplot import equalized_waveform
    from accbench.dsp.link import LinkModel, phase_scan
    from accbench.dsp.linkconfig import LinkConfig
    from accbench.dsp.statistical import stat_ber

    out = {}
    top = max(rates)
    for gbd in rates:
        cfg = LinkConfig(baud=gbd * 1e9, target_ber=target_ber)
        model = LinkModel(channel, cfg, cable.length_m)
        eq = model.equalize()
        stat = stat_ber(eq.equalized, eq.main, eq.sigma, cfg.target_ber, cfg.der0, eq.dd_amplitude, eq.crosstalk,
                        cfg.dfe_tap)
        offsets, results = phase_scan(model, eq, cfg)
        ber = np.array([np.nan if r is None else r.ber for r in results])
        wave = equalized_waveform(eq, cfg.samples_per_ui, EYE_SYMBOLS, seed) if gbd == top else None
        out[gbd] = LinkView(cable.serial, gbd, offsets, ber, float(stat.eye_height),
                            _open_range(offsets, results, cfg.samples_per_ui), cfg.samples_per_ui, float(eq.gdc_db),
                            wave, int(eq.cursors.phase), float(eq.sigma))
    return out


def _segments(view: LinkView, seed: int = 3) -> np.ndarray:
    """Two-UI traces starting at a sampling instant (so the eye is centred at 1 UI), noise of the slicer added."""
    spu = view.samples_per_ui
    w = view.wave[64 * spu + view.phase:]  # the pulse tails have settled after 64 UI
    n = (w.size - 2 * spu - 1) // spu
    seg = np.stack([w[k * spu: k * spu + 2 * spu + 1] for k in range(n)])
    return seg + view.sigma * np.random.default_rng(seed).standard_normal(seg.shape)


def eye_scale_mv(views: list[LinkView], swing_v: float) -> float:
    """One vertical half-range (mV) for every cable's eye: the largest trace, rounded up to 50 mV."""
    peak = max((float(np.max(np.abs(_segments(v)))) for v in views if v.wave is not None), default=1.0)
    return float(np.ceil(peak * swing_v * 1e3 * 1.05 / 50.0) * 50.0)


def eye_figure(cable: CableResult, view: LinkView, folder: Path, swing_v: float, half_mv: float,
               target_ber: float) -> ReportFigure:
    """The link model's eye of one cable at its top rate, eye height and width at the target BER drawn on it."""
    from accbench.bench.reportfigures import pyplot, save

    plt = pyplot()
    from matplotlib.colors import LogNorm

    spu = view.samples_per_ui
    seg = _segments(view) * swing_v * 1e3
    t = np.tile(np.arange(seg.shape[1]) / spu, seg.shape[0])
    fig, ax = plt.subplots(figsize=(7, 4.4))
    ax.set_facecolor("black")
    *_, image = ax.hist2d(t, seg.ravel(), bins=[seg.shape[1], 180], range=[[0, 2], [-half_mv, half_mv]],
                          cmap="inferno", norm=LogNorm(), cmin=1)
    fig.colorbar(image, ax=ax, label="traces per bin (log scale)")
    eh_mv = view.eye_height * swing_v * 1e3
    if view.eye_height > 0:
        ax.annotate("", xy=(1.0, eh_mv / 2), xytext=(1.0, -eh_mv / 2),
                    arrowprops={"arrowstyle": "<->", "color": "cyan", "lw": 1.6})
        height = f"eye height {eh_mv:.0f} mV ({view.eye_height:.3f} of the launch peak)"
    else:
        height = "eye closed at the target BER"
    if view.open_ui is not None:
        lo, hi = view.open_ui
        ax.annotate("", xy=(1.0 + lo, 0), xytext=(1.0 + hi, 0),
                    arrowprops={"arrowstyle": "<->", "color": "lime", "lw": 1.6})
    width = f"eye width {view.eye_width_ui:.2f} UI"
    ax.text(0.02, 0.97, f"{height}\n{width}  (at BER {target_ber:.1e})", transform=ax.transAxes, va="top",
            ha="left", fontsize=8, color="white", bbox={"facecolor": "black", "alpha": 0.6, "lw": 0})
    ax.set_xlim(0, 2)
    ax.set_ylim(-half_mv, half_mv)
    ax.set_xlabel("time (UI)")
    ax.set_ylabel(f"amplitude at the slicer (mV, {swing_v * 1e3:.0f} mV-peak launch)")
    title = f"{cable.serial}: link-model eye at {view.gbd:g} GBd (lot {cable.wire_lot})"
    ax.set_title(title, fontsize=10)
    path = save(fig, folder, f"eye_{safe_name(cable.serial)}.png")
    verdict = ("open at the target BER" if view.eye_height > 0 else "closed at the target BER: the link model "
               "cannot reach the target over this cable at this rate")
    caption = (f"The statistical link model's PAM4 eye of cable {cable.serial} (lot {cable.wire_lot}, "
               f"{cable.carbon_mg_m2:g} mg/m², {cable.length_m:g} m) at {view.gbd:g} GBd, computed from its "
               f"measured S-parameters with the CTLE ({view.gdc_db:g} dB) and FFE the model chose — a simulated "
               f"eye, not a scope capture. Colour: how many of {EYE_SYMBOLS} traces cross each bin. Amplitude in mV "
               f"at the model's launch swing ({swing_v * 1e3:.0f} mV peak, {2 * swing_v * 1e3:.0f} mV "
               f"peak-to-peak), on the same scale for every cable. Cyan: the eye height at the target BER "
               f"{target_ber:.1e} ({height.removeprefix('eye height ')}); green: the eye width at that BER "
               f"({view.eye_width_ui:.2f} UI). Conclusion: the eye is {verdict}"
               + (f"; the cable's IL-mask verdict is {il_outcome(cable)}." if cable.verdict("il_mask") else "."))
    return ReportFigure(path, "eyes", title, caption)


def bathtub_figure(gbd: float, items: list[tuple[CableResult, LinkView]], colours: dict, folder: Path,
                   target_ber: float) -> ReportFigure:
    """BER vs sampling instant of every cable at one rate, the target BER drawn."""
    from accbench.bench.reportfigures import pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.4))
    for cable, view in items:
        ber = np.where(np.isnan(view.ber), np.nan, np.maximum(view.ber, BER_FLOOR))
        col, style = colours[cable.serial]
        ax.semilogy(view.offsets_ui, ber, style, lw=1.3, color=col,
                    label=f"{cable.serial} ({view.eye_width_ui:.2f} UI)")
    ax.axhline(target_ber, color="r", ls="--", lw=1, label=f"target BER {target_ber:.1e}")
    ax.set_ylim(BER_FLOOR / 3, 1)
    ax.set_xlabel("sampling instant relative to the chosen one (UI)")
    ax.set_ylabel("BER (statistical link model)")
    title = f"Bathtub at {gbd:g} GBd: BER vs sampling instant, every cable"
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
              title="cable (eye width\nat the target BER)", title_fontsize=7)
    path = save(fig, folder, f"bathtub_{safe_name(f'{gbd:g}')}GBd.png")
    widths = sorted(((v.eye_width_ui, c.serial) for c, v in items))
    closed = [s for w, s in widths if w == 0]
    words = (f"narrowest {widths[0][1]} ({widths[0][0]:.2f} UI), widest {widths[-1][1]} ({widths[-1][0]:.2f} UI)"
             if widths else "no cable")
    caption = (f"The link model's BER at each sampling instant across one UI at {gbd:g} GBd, one colour per cable, "
               f"from the measured S-parameters (equalisation fixed at the chosen instant). The width of the tub "
               f"below the red target line is the eye width at the target BER, given in the legend; BERs below "
               f"{BER_FLOOR:.0e} are drawn on the floor. Conclusion: {words}"
               + (f"; closed at the target: {', '.join(closed)}." if closed else "; every cable opens at the target."))
    return ReportFigure(path, "bathtubs", title, caption)
