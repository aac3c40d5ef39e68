"""Pulse response of a linear channel and its symbol-spaced cursors.

The frequency grid is f_k = k baud / window_ui (k = 0 .. N/2, N = window_ui * samples_per_ui).
The channel's bulk delay is removed before the inverse FFT, so the pulse sits near the start
of a short window; the inverse FFT of a conjugate-symmetric spectrum is real by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRE_WINDOW_UI = 16
"""UI of window kept before the delay-compensated pulse (room for precursors)."""


def pulse_grid(baud: float, samples_per_ui: int, window_ui: int) -> np.ndarray:
    """Frequencies (Hz) of the one-sided spectrum used for pulse responses."""
    n = samples_per_ui * window_ui
    return np.arange(n // 2 + 1) * baud / window_ui


def pulse_from_response(h_f: np.ndarray, baud: float, samples_per_ui: int, window_ui: int,
                        delay_s: float = 0.0) -> np.ndarray:
    """Pulse response (one-UI rectangle in, amplitude 1 for a lossless channel) on the grid.

    ``h_f`` may be a stack of responses (last axis = frequency); ``delay_s`` is removed
    and the pulse shifted to start PRE_WINDOW_UI into the window.
    """
    n = samples_per_ui * window_ui
    f = pulse_grid(baud, samples_per_ui, window_ui)
    t_shift = delay_s - PRE_WINDOW_UI / baud
    rect = np.sinc(f / baud) * np.exp(-1j * np.pi * f / baud) / baud  # FT of a 1-UI rectangle
    spectrum = h_f * rect * np.exp(2j * np.pi * f * t_shift)
    df = baud / window_ui
    return np.fft.irfft(spectrum, n=n, axis=-1) * n * df


@dataclass(frozen=True)
class Cursors:
    """Symbol-spaced samples of a pulse at one phase, with their time slopes (per UI)."""

    values: np.ndarray
    slopes: np.ndarray
    main: int
    phase: int  # sample index within the UI


def sample_cursors(pulse: np.ndarray, samples_per_ui: int, phase_offset: int = 0) -> Cursors:
    """Sample ``pulse`` every UI at the phase of its peak (plus ``phase_offset`` samples)."""
    peak = int(np.argmax(pulse)) + phase_offset
    phase = peak % samples_per_ui
    values = pulse[phase::samples_per_ui]
    slope = (np.roll(pulse, -1) - np.roll(pulse, 1)) * (samples_per_ui / 2.0)
    return Cursors(values.copy(), slope[phase::samples_per_ui].copy(), peak // samples_per_ui, phase)
