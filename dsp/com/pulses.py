"""Pulse responses of every equaliser setting from a few, using the linearity of COM's transfer functions.

The CTLE of 93A-22 / 178A-14 is (g1 + jf/fz)(g2 + jf/fLF) / D(f), i.e. g1 g2 B0 + g1 B1 + g2 B2 + B3 with
B0 = 1/D, B1 = (jf/fLF)/D, B2 = (jf/fz)/D and B3 = (jf/fz)(jf/fLF)/D; and the transmitter FFE is a sum
of UI-delayed copies. So the pulse response (93A-24) of any (g_DC, g_DC2, c) is a weighted sum of four
basis pulses, shifted by whole UIs: four inverse FFTs per path replace one per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.fft as sfft
from accbench.dsp.com import channel
from accbench.dsp.com.channel import Path, SystemGrid
from accbench.dsp.com.memo import CACHE_SIZE, Keyed, frozen, keyed
from accbench.dsp.com.params import ClauseParams
from accbench.dsp.com.threads import threads

TX_TAPS = (-3, -2, -1, 0, 1, 2, 3)  # c(-3) .. c(3); tap n delays by n + 3 UI, as 93A-21 with three pre-cursors
SUPPORT = 1e-12  # window edges: where every basis pulse is below this share of the largest


def ctle_basis(freq_hz: np.ndarray, p: ClauseParams) -> np.ndarray:
    """The four CTLE basis responses (4, F) whose weights ``ctle_weights`` give the CTLE."""
    jf = 1j * freq_hz
    den = (1 + jf / p.f_p1_hz) * (1 + jf / p.f_p2_hz) * (1 + jf / p.f_lf_hz)
    return np.stack([1 / den, (jf / p.f_lf_hz) / den, (jf / p.f_z_hz) / den, (jf / p.f_z_hz) * (jf / p.f_lf_hz) / den])


CTLE_FIELDS = ("f_z_hz", "f_p1_hz", "f_p2_hz", "f_lf_hz")


def system_ctle_basis(p: ClauseParams, grid: SystemGrid) -> np.ndarray:
    """``ctle_basis`` on the system grid, cached per clause and grid (read-only)."""
    return _system_ctle_basis(keyed(p, CTLE_FIELDS), grid)


@lru_cache(maxsize=CACHE_SIZE)
def _system_ctle_basis(p: Keyed, grid: SystemGrid) -> np.ndarray:
    return frozen(ctle_basis(grid.freq_hz, p.value))[0]


def pulse_shaping(p: ClauseParams, grid: SystemGrid) -> np.ndarray:
    """M sinc(f / fb) Ht Hr on the system grid: the 1-UI pulse's spectrum with the edge and receiver filter."""
    return _pulse_shaping(keyed(p, channel.FILTER_FIELDS), grid)


@lru_cache(maxsize=CACHE_SIZE)
def _pulse_shaping(p: Keyed, grid: SystemGrid) -> np.ndarray:
    xsinc = grid.samples_per_ui * np.sinc(grid.freq_hz / p.value.baud)
    return frozen(xsinc * channel.system_filters(p.value, grid)[0])[0]


def ctle_weights(g_dc_db: float, g_dc2_db: float) -> np.ndarray:
    g1, g2 = 10 ** (g_dc_db / 20), 10 ** (g_dc2_db / 20)
    return np.array([g1 * g2, g1, g2, 1.0])


def ctle(freq_hz: np.ndarray, p: ClauseParams, g_dc_db: float, g_dc2_db: float) -> np.ndarray:
    return ctle_weights(g_dc_db, g_dc2_db) @ ctle_basis(freq_hz, p)


def tx_taps(c: dict[int, float]) -> np.ndarray:
    """Seven taps c(-3..3) from the swept ones; c(0) = 1 - sum |c(k)| (93A-21)."""
    taps = np.array([c.get(k, 0.0) for k in TX_TAPS])
    taps[3] = 1.0 - np.abs(taps).sum()
    return taps


@dataclass(frozen=True)
class PathPulses:
    """The four basis pulses of one path, in a window of the system time axis, scaled by its amplitude."""

    kind: str
    name: str
    start: int  # index of the window's first sample on the system time axis
    basis: np.ndarray = field(repr=False)  # (4, W)
    spu: int = 32

    def pulse(self, weights: np.ndarray, taps: np.ndarray) -> np.ndarray:
        """The pulse response (W + 6 UI samples from ``start``) of CTLE ``weights`` and transmitter ``taps``."""
        q = weights @ self.basis
        m = self.spu
        out = np.zeros(q.size + 6 * m)
        for n, c in enumerate(taps):
            if c:
                out[n * m: n * m + q.size] += c * q
        return out


def path_pulses(p: ClauseParams, grid: SystemGrid, path: Path) -> PathPulses:
    """Basis pulses of ``path`` (amplitude A_v, A_fe or A_ne), cut to the window where they live."""
    m = grid.samples_per_ui
    amplitude = {"thru": p.a_v, "fext": p.a_fe, "next": p.a_ne}[path.kind]
    shaped = pulse_shaping(p, grid) * path.h21
    pulses = sfft.irfft(shaped * system_ctle_basis(p, grid), n=grid.n_time, axis=-1, workers=threads()) * amplitude
    lo, hi = support(np.abs(pulses).max(axis=0))
    start = max((lo // m - 2) * m, 0)  # whole UIs: a window sample's phase is its system phase
    stop = min(hi + 2 * m, grid.n_time)
    return PathPulses(path.kind, path.name, start, pulses[:, start:stop].copy(), m)


def support(level: np.ndarray) -> tuple[int, int]:
    """(first, last) sample of the pulse: the time axis is circular, so the pulse lives outside its longest
    run of samples at or below ``SUPPORT`` of the peak. Where that run lies after the peak, the samples
    past it (the circular wrap of the pulse's very start, below ``SUPPORT`` near the run and far below the
    peak) are left out as well; where it lies before the peak, the samples before it; otherwise the
    first and last samples above ``SUPPORT``."""
    quiet = level <= SUPPORT * level.max()
    live = np.nonzero(~quiet)[0]
    first, last = int(live[0]), int(live[-1])
    edges = np.diff(quiet.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    runs_lo, runs_hi = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    if runs_lo.size:
        k = int(np.argmax(runs_hi - runs_lo))
        peak = int(np.argmax(level))
        if runs_lo[k] > peak:
            last = int(runs_lo[k]) - 1
        elif runs_hi[k] <= peak:
            first = int(runs_hi[k])
    return first, last


def system_filters(p: ClauseParams, grid: SystemGrid) -> tuple[np.ndarray, np.ndarray]:
    """(Ht Hr, Hr) on the system grid (cached, read-only)."""
    return channel.system_filters(p, grid)
