"""Statistical PAM4 error rates from an equalised pulse, noise, jitter and crosstalk.

The distribution of interference at the slicer is built by convolving the distributions of
every cursor (each a 4-point distribution of PAM4 levels times the cursor), crosstalk
cursors likewise, a dual-Dirac for deterministic jitter, and a Gaussian for all random noise.
For equiprobable PAM4 with decision distance d = main/3, SER = 1.5 P(X < -d) (outer levels
have one neighbouring threshold, inner levels two) and BER = SER / 2 with Gray coding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.signal import fftconvolve
from scipy.special import ndtr

from accbench.errors import InputError

BINS_PER_HALF_EYE = 600


@njit(cache=True)
def _add_cursors(pdf: np.ndarray, cursors: np.ndarray, dv: float, levels: np.ndarray) -> np.ndarray:
    """Convolve ``pdf`` (grid step dv) with the 4-level distribution of each cursor.

    Each level moves the distribution by ``c * level / dv`` bins, split linearly between the two
    bins either side. Written as a gather over the target bins (each adds its two sources in the
    order a scatter over the sources would), so the loop has no carried dependency; the
    distribution's support is tracked to skip the empty grid.
    """
    n = pdf.size
    tmp = np.zeros(n)
    lo, hi = 0, n - 1
    while lo < n and pdf[lo] == 0.0:
        lo += 1
    while hi > lo and pdf[hi] == 0.0:
        hi -= 1
    if lo > hi:
        return pdf
    for c in cursors:
        if abs(c) < 1e-3 * dv:
            continue
        tmp[:] = 0.0
        new_lo, new_hi = n - 1, 0
        for lvl in levels:
            shift = c * lvl / dv
            i0 = int(np.floor(shift))
            frac = shift - i0
            w_here, w_next = 0.25 * (1.0 - frac), 0.25 * frac
            # source i adds w_here * p to bin i + i0 and w_next * p to bin i + i0 + 1, for 0 <= i + i0 < n - 1
            first, last = max(lo, -i0), min(hi, n - 2 - i0)
            if first > last:
                continue
            j = first + i0
            tmp[j] += w_here * pdf[first]
            for i in range(first + 1, last + 1):
                j = i + i0
                tmp[j] = (tmp[j] + w_next * pdf[i - 1]) + w_here * pdf[i]
            tmp[last + i0 + 1] += w_next * pdf[last]
            new_lo = min(new_lo, first + i0)
            new_hi = max(new_hi, last + i0 + 1)
        pdf, tmp = tmp, pdf
        lo, hi = new_lo, new_hi
    return pdf


@dataclass(frozen=True)
class StatResult:
    """Error rates and eye opening from the statistical engine (amplitudes: peak level = 1)."""

    ser: float
    ber: float
    eye_height: float  # at the target BER; negative when closed
    margin_db: float  # 20 log10((main/3) / A_ni), A_ni read at DER0 (the ACC model's margin, not IEEE COM)
    main: float
    sigma: float


def interference_pdf(cursors: np.ndarray, main_index: int, crosstalk: list[np.ndarray] | None = None,
                     dfe: bool = False, margin: float = 0.0) -> tuple[np.ndarray, np.ndarray, float]:
    """(v, pdf, main): the distribution of ISI and crosstalk at the slicer on a grid of step main/3/600.

    ``margin`` widens the grid for the noise and jitter added later.
    """
    main = float(cursors[main_index])
    if main <= 0:
        raise InputError("the main cursor of the equalised pulse is not positive: the link is closed")
    isi = np.delete(np.asarray(cursors, dtype=float), main_index)
    if dfe and main_index < cursors.size - 1:
        isi = np.delete(isi, main_index)  # the first post-cursor sits where main was removed
    xt = [np.asarray(x, dtype=float) for x in (crosstalk or [])]
    dv = main / 3.0 / BINS_PER_HALF_EYE
    reach = np.abs(isi).sum() + sum(np.abs(x).sum() for x in xt) + margin + main
    half = int(np.ceil(reach / dv)) + 4
    pdf = np.zeros(2 * half + 1)
    pdf[half] = 1.0
    levels = np.array([-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0])
    pdf = _add_cursors(pdf, isi, dv, levels)
    for x in xt:
        pdf = _add_cursors(pdf, x, dv, levels)
    return (np.arange(pdf.size) - half) * dv, pdf, main


def ber_given_noise(v: np.ndarray, pdf: np.ndarray, main: float, sigma: float, dd_amplitude: float) -> float:
    """BER (Gray PAM4) for an interference distribution plus dual-Dirac jitter and Gaussian noise.

    Evaluated in closed form over the interference grid (no noise grid), so a fit can call it
    for many noise and jitter values: SER = 1.5 sum_v pdf(v) (Phi((-d-v-A)/s) + Phi((-d-v+A)/s)) / 2.
    """
    d = main / 3.0
    s = max(sigma, 1e-12)
    return 0.75 * min(_tail_sum(np.ascontiguousarray(v, dtype=float), np.ascontiguousarray(pdf, dtype=float), d,
                                s, float(dd_amplitude)), 1.0)


@njit(cache=True)
def _tail_sum(v: np.ndarray, pdf: np.ndarray, d: float, s: float, dd: float) -> float:
    """sum_v pdf(v) (Phi((-d-v-A)/s) + Phi((-d-v+A)/s)) / 2 over the grid points the distribution holds
    (a fit calls it very often: one pass, no arrays, the zeros of the wide grid skipped)."""
    k = 1.0 / (s * math.sqrt(2.0))  # Phi(-x / s) = erfc(x / (s sqrt 2)) / 2
    total = 0.0
    for i in range(pdf.size):
        p = pdf[i]
        if p != 0.0:
            total += p * (math.erfc((d + v[i] + dd) * k) + math.erfc((d + v[i] - dd) * k))
    return 0.25 * total


def ber_batch(v: np.ndarray, pdf: np.ndarray, starts: np.ndarray, main: np.ndarray, sigma: np.ndarray,
              dd_amplitude: np.ndarray, derivatives: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``ber_given_noise`` of many distributions at once, with its derivatives by sigma and by the jitter amplitude.

    Distribution ``j`` is ``v[starts[j]:starts[j + 1]]``, ``pdf[...]`` on an ascending grid (zeros may be
    dropped: they add nothing). Returns (BER, dBER/dsigma, dBER/dA) per distribution (the derivatives
    zero where the BER is capped at 0.75, or when not asked for). The sum stops where every term left
    is below 1e-17 of it (the tail factor falls along the grid and the probability left is at most 1),
    so each BER is ``ber_given_noise``'s to within 1e-16. A fit of noise and jitter scales calls this
    once per likelihood evaluation instead of once per measurement.
    """
    n = starts.size - 1
    ber, by_sigma, by_dd = np.empty(n), np.zeros(n), np.zeros(n)
    _tail_sums(np.ascontiguousarray(v, dtype=float), np.ascontiguousarray(pdf, dtype=float),
               np.ascontiguousarray(starts, dtype=np.int64), np.asarray(main, dtype=float) / 3.0,
               np.maximum(np.asarray(sigma, dtype=float), 1e-12), np.asarray(dd_amplitude, dtype=float),
               derivatives, ber, by_sigma, by_dd)
    return ber, by_sigma, by_dd


@njit(cache=True, nogil=True)  # a fit's threads evaluate several likelihoods at once
def _tail_sums(v: np.ndarray, pdf: np.ndarray, starts: np.ndarray, d: np.ndarray, s: np.ndarray, dd: np.ndarray,
               derivatives: bool, ber: np.ndarray, by_sigma: np.ndarray, by_dd: np.ndarray) -> None:
    """``_tail_sum`` per distribution, with d/ds and d/dA of each: d erfc(x k)/ds = 2/sqrt(pi) exp(-(xk)^2) xk/s,
    d erfc((d+v+-A) k)/dA = -+2/sqrt(pi) exp(-(...)^2) k."""
    two_over_root_pi = 2.0 / math.sqrt(math.pi)
    for j in range(starts.size - 1):
        k = 1.0 / (s[j] * math.sqrt(2.0))
        total, slope_s, slope_a = 0.0, 0.0, 0.0
        for i in range(starts[j], starts[j + 1]):
            p = pdf[i]
            if p != 0.0:
                a = (d[j] + v[i] + dd[j]) * k
                b = (d[j] + v[i] - dd[j]) * k
                ea, eb = math.erfc(a), math.erfc(b)
                if 2.0 * max(ea, eb) <= 1e-17 * total:  # every later term is smaller still: the sum is done
                    break
                total += p * (ea + eb)
                if derivatives:
                    ga, gb = math.exp(-a * a), math.exp(-b * b)
                    slope_s += p * (ga * a + gb * b)
                    slope_a += p * (gb - ga)
        tail = 0.25 * total
        if tail < 1.0:
            ber[j] = 0.75 * tail
            by_sigma[j] = 0.75 * 0.25 * two_over_root_pi * slope_s / s[j]
            by_dd[j] = 0.75 * 0.25 * two_over_root_pi * k * slope_a
        else:
            ber[j], by_sigma[j], by_dd[j] = 0.75, 0.0, 0.0


def stat_ber(cursors: np.ndarray, main_index: int, sigma: float, target_ber: float = 2.4e-4,
             der0: float = 2e-4, dd_amplitude: float = 0.0, crosstalk: list[np.ndarray] | None = None,
             dfe: bool = False) -> StatResult:
    """SER/BER, eye height at ``target_ber`` and the margin of an equalised pulse.

    ``cursors`` are symbol-spaced samples (main at ``main_index``), ``sigma`` the rms of all
    Gaussian noise at the slicer, ``dd_amplitude`` the dual-Dirac jitter amplitude, and
    ``crosstalk`` symbol-spaced aggressor responses at the slicer. A 1-tap DFE removes the
    first post-cursor (error propagation ignored).
    """
    v, pdf, main = interference_pdf(cursors, main_index, crosstalk, dfe, dd_amplitude + 9.0 * sigma)
    dv = v[1] - v[0]
    if dd_amplitude > 0:
        k = round(dd_amplitude / dv)
        pdf = 0.5 * (np.roll(pdf, k) + np.roll(pdf, -k))
    if sigma > 0:
        k = int(np.ceil(9.0 * sigma / dv))
        edges = (np.arange(-k, k + 2) - 0.5) * dv / sigma
        kernel = np.diff(ndtr(edges))
        pdf = np.maximum(fftconvolve(pdf, kernel, mode="same"), 0.0)
    cdf = np.cumsum(pdf)

    def tail_below(x: float) -> float:  # P(X < x)
        return float(np.interp(x, v, cdf))

    def amplitude_at(p: float) -> float:  # smallest a with P(X < -a) <= p
        idx = int(np.searchsorted(cdf, p, side="right"))
        return float(-v[min(idx, v.size - 1)])

    d = main / 3.0
    ser = min(1.5 * tail_below(-d), 0.75)
    a_target = amplitude_at(2.0 * target_ber / 1.5)
    a_ni = max(amplitude_at(der0), dv / 2)  # resolution floor: a noiseless eye reads ~62 dB, not infinity
    return StatResult(ser=ser, ber=ser / 2.0, eye_height=2.0 * (d - a_target),
                      margin_db=float(20 * np.log10(d / a_ni)), main=main, sigma=sigma)
