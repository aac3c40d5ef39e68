"""Data hygiene of measured S-parameters: passivity, reciprocity, causality, step and usable band.

The three quality metrics follow IEEE 370-2020's frequency-domain definitions exactly as
scikit-rf's ``IEEEP370_FD_QM`` implements them (the tests compare against it), vectorised
because scikit-rf loops over frequencies in Python and would dominate the analysis time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d


def max_singular_value(s: np.ndarray) -> np.ndarray:
    """Largest singular value of S at each frequency (> 1 means the data creates energy).

    Computed as sqrt of the largest eigenvalue of S^H S (closed form for 2x2), which is
    the matrix 2-norm at a third of the cost of a full SVD.
    """
    gram = np.conj(np.swapaxes(s, 1, 2)) @ s
    if s.shape[1] == 2:
        a, d, b = gram[:, 0, 0].real, gram[:, 1, 1].real, gram[:, 0, 1]
        top = 0.5 * (a + d) + np.sqrt(0.25 * (a - d) ** 2 + np.abs(b) ** 2)
    else:
        top = np.linalg.eigvalsh(gram)[:, -1]
    return np.sqrt(np.maximum(top, 0.0))


def passivity_percent(s: np.ndarray) -> float:
    """IEEE 370 passivity quality metric PQMi, %: 100 when ||S||_2 <= 1.00001 everywhere."""
    pm = max_singular_value(s)
    weight = np.where(pm > 1.00001, (pm - 1.00001) / 0.1, 0.0)
    return float(max(s.shape[0] - weight.sum(), 0.0) / s.shape[0] * 100.0)


def reciprocity_percent(s: np.ndarray) -> float:
    """IEEE 370 reciprocity quality metric RQMi, %: mean |Sij - Sji| against 1e-6 with 0.1 scale."""
    n = s.shape[1]
    rm = np.abs(s - np.swapaxes(s, 1, 2)).sum(axis=(1, 2)) / (n * (n - 1))
    weight = np.where(rm > 1e-6, (rm - 1e-6) / 0.1, 0.0)
    return float(max(s.shape[0] - weight.sum(), 0.0) / s.shape[0] * 100.0)


def causality_percent(s: np.ndarray) -> float:
    """IEEE 370 causality quality metric CQMi, %: share of clockwise rotation, worst element."""
    dv = np.diff(s, axis=0)
    r = dv[1:].real * dv[:-1].imag - dv[1:].imag * dv[:-1].real
    total = np.abs(r).sum(axis=0)
    positive = np.where(r > 0, r, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cqm = np.where(total > 0, positive / total * 100.0, 100.0)
    constant = np.ptp(s.real, axis=0) + np.ptp(s.imag, axis=0) == 0
    cqm = np.where(constant, 100.0, np.maximum(cqm, 0.0))
    return float(cqm.min())


def recommended_step_hz(delay_s: float) -> float:
    """Largest frequency step that keeps the phase of a ``delay_s`` line under 90 deg per point."""
    return 1.0 / (4.0 * delay_s) if delay_s > 0 else np.inf


@dataclass(frozen=True)
class UsableBand:
    """Upper end of the trustworthy data and why it ends there."""

    f_max_hz: float
    reason: str  # "full band", "noise floor", "SDD11 -> 0 dB"
    noise_floor_db: float | None


def _window(freq_hz: np.ndarray, width_hz: float) -> int:
    step = float(np.median(np.diff(freq_hz)))
    return max(5, round(width_hz / step) | 1)


def usable_band(freq_hz: np.ndarray, sdd21: np.ndarray, sdd11: np.ndarray,
                sdd22: np.ndarray) -> UsableBand:
    """Find where the data stops being a measurement of the channel.

    Noise floor: a channel's SDD21 keeps a coherent phase from point to point, even in a
    deep resonance; a VNA noise floor does not. Where the windowed phase coherence drops
    below 0.9, the floor level is the median |SDD21| beyond; the band ends where SDD21
    first comes within 20 dB of that floor (error under 1 dB). Reflection: the band also
    ends where the smoothed SDD11 or SDD22 rises above -3 dB (a band-limited model).
    """
    f = freq_hz
    win = _window(f, 0.5e9)
    u = sdd21[1:] * np.conj(sdd21[:-1])
    u = u / np.maximum(np.abs(u), 1e-300)
    u2 = u[1:] * np.conj(u[:-1])
    coherence = np.abs(uniform_filter1d(u2.real, win) + 1j * uniform_filter1d(u2.imag, win))
    mag_db = 20 * np.log10(np.maximum(np.abs(sdd21), 1e-15))
    smooth_db = uniform_filter1d(mag_db, win)
    f_max, reason, floor = float(f[-1]), "full band", None

    incoherent = np.flatnonzero(coherence < 0.9)
    if incoherent.size:
        first = int(incoherent[0]) + 1
        floor = float(np.median(mag_db[first:]))
        below = np.flatnonzero(smooth_db[:first + 1] < floor + 20.0)
        end = int(below[0]) if below.size else first
        f_max, reason = float(f[max(end - 1, 0)]), "noise floor"

    refl_db = uniform_filter1d(20 * np.log10(np.maximum(np.maximum(np.abs(sdd11), np.abs(sdd22)),
                                                        1e-15)), _window(f, 1e9))
    reflective = np.flatnonzero((refl_db > -3.0) & (f > 1e9))
    if reflective.size and f[reflective[0]] < f_max:
        f_max, reason = float(f[max(int(reflective[0]) - 1, 0)]), "SDD11 -> 0 dB"
    return UsableBand(f_max, reason, floor)
