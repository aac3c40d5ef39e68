"""Plot of an analysis: IL, fitted IL and mask; ILD; return loss (matplotlib, file output only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from accbench.dsp.analysis import AnalysisResult
from accbench.dsp.masks import load_mask


def plot_analysis(result: AnalysisResult, path: str | Path, mask: str | None = None) -> Path:
    """Draw the result's curves to ``path`` (PNG/PDF/SVG by extension) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = result.curves
    if curves is None:
        raise ValueError("the result carries no curves to plot")
    f_ghz = curves.freq_hz / 1e9
    lo, hi = curves.fit_band_hz
    band = (curves.freq_hz >= lo) & (curves.freq_hz <= hi)
    fig, (ax_il, ax_ild, ax_rl) = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    ax_il.plot(f_ghz, curves.il_db, label="IL (SDD21)")
    ax_il.plot(f_ghz[band], curves.il_fitted_db[band], "--", label="fitted IL")
    if mask:
        m = load_mask(mask)
        style = "rv" if m.freq_hz.size == 1 else "r-"
        ax_il.plot(m.freq_hz / 1e9, m.max_il_db, style, label=f"mask {m.name}")
    ax_il.axvline(result.nyquist_hz / 1e9, color="grey", lw=0.8, ls=":", label="Nyquist")
    ax_il.set_ylabel("loss (dB)")
    ax_il.set_ylim(0, min(np.nanmax(curves.il_db[band]) * 1.3 + 1, 100))
    ax_il.legend(loc="upper left")
    ax_il.set_title(f"{Path(result.file).name}: IL {result.il_db:.2f} dB at "
                    f"{result.nyquist_hz / 1e9:g} GHz")
    ax_ild.plot(f_ghz[band], curves.il_db[band] - curves.il_fitted_db[band])
    ax_ild.set_ylabel("ILD (dB)")
    ax_ild.axhline(0, color="grey", lw=0.5)
    ax_rl.plot(f_ghz, -curves.sdd11_db, label="RL (SDD11)")
    ax_rl.plot(f_ghz, -curves.sdd22_db, label="RL (SDD22)")
    ax_rl.set_ylabel("return loss (dB)")
    ax_rl.set_xlabel("frequency (GHz)")
    ax_rl.set_ylim(0, 40)
    ax_rl.legend(loc="upper right")
    for ax in (ax_il, ax_ild, ax_rl):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
