"""Eye diagram of an oversampled PAM4 waveform (matplotlib, file output)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_eye(wave: np.ndarray, samples_per_ui: int, sigma: float, path: str | Path, title: str,
             seed: int = 3) -> Path:
    """Two-UI density eye of ``wave`` (noise of rms ``sigma`` added) written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    skip = 64 * samples_per_ui  # let the pulse tails settle
    w = wave[skip:]
    n_traces = (w.size - samples_per_ui) // samples_per_ui - 1
    span = 2 * samples_per_ui
    segments = np.stack([w[k * samples_per_ui: k * samples_per_ui + span] for k in range(n_traces)])
    segments = segments + sigma * rng.standard_normal(segments.shape)
    t = np.tile(np.arange(span) / samples_per_ui, n_traces)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist2d(t, segments.ravel(), bins=[span, 200], cmap="inferno", density=True, norm="log")
    ax.set_xlabel("time (UI)")
    ax.set_ylabel("amplitude (peak level = 1)")
    ax.set_title(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def equalized_waveform(eq, samples_per_ui: int, n_symbols: int = 4000, seed: int = 1) -> np.ndarray:
    """Oversampled waveform of ``n_symbols`` random PAM4 symbols through an ``Equalized`` link (FFE applied).

    Amplitudes in launch peak level = 1; the sampling instants fall at ``eq.cursors.phase`` modulo
    ``samples_per_ui`` (what ``plot_eye`` and the report's eye start their traces from).
    """
    from accbench.dsp.link import _equalized_pulse
    from accbench.dsp.patterns import get_pattern, pattern_symbols
    from accbench.dsp.tdsim import oversampled_waveform

    symbols = pattern_symbols(get_pattern("random"), n_symbols, seed)
    return np.asarray(oversampled_waveform(symbols, _equalized_pulse(eq, samples_per_ui), samples_per_ui), dtype=float)
