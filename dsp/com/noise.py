"""Noise at the receiver FFE input as autocorrelations at whole-UI lags (178A-17..23, 178A-28..31).

Each term of the folded noise PSD of 178A-17 is, in time, the autocorrelation of a symbol-spaced
sequence or an integral of a PSD; accbench computes those directly at the lags the FFE needs:

* receiver noise (178A-19): eta_0 * int_0^fmax |Hr Hctf|^2 cos(2 pi f k T) df, a quadratic form in the
  CTLE weights over precomputed basis integrals;
* transmitter noise (178A-21, 178A-22): 10^(-SNR_TX/10) x the autocorrelation of the pulse of
  Ht H21 Hr Hctf A_v (no transmitter FFE) sampled at the cursor phase;
* jitter (178A-23): sigma_X^2 (A_DD^2 + sigma_RJ^2) x the autocorrelation of the pulse's slope (V/UI);
* crosstalk (178A-20): sigma_X^2 x the autocorrelation of each aggressor sampled at the phase of its
  largest energy;
* quantization (178A-28..31): Delta^2 / 12 at lag 0, Delta from the clipping level of the noisy signal.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft as sfft
from accbench.dsp.com import channel, pulses
from accbench.dsp.com.channel import SystemGrid
from accbench.dsp.com.memo import CACHE_SIZE, Keyed, frozen, keyed
from accbench.dsp.com.params import ClauseParams
from accbench.dsp.com.threads import threads
from numba import njit


def signal_variance(levels: int) -> float:
    """sigma_X^2 of equiprobable PAM levels -1..1 (93A-29)."""
    return (levels**2 - 1) / (3 * (levels - 1) ** 2)


def rx_noise_basis(p: ClauseParams, grid: SystemGrid, basis: np.ndarray, hr: np.ndarray) -> np.ndarray:
    """(4, 4, UIs): eta_0 int_0^fmax Re(B_a conj B_b) |Hr|^2 cos(2 pi f k T) df at every whole-UI lag k, so
    that the receiver noise autocorrelation is w^T C w for CTLE weights w (178A-19)."""
    f = grid.freq_hz
    scale = p.eta_0_v2_per_hz * (f[1] - f[0]) * grid.n_time / 2
    hr2 = np.abs(hr) ** 2
    m = grid.samples_per_ui
    pairs = [(a, b) for a in range(4) for b in range(a, 4)]
    spectra = np.stack([np.real(basis[a] * np.conj(basis[b])) * hr2 for a, b in pairs])
    series = sfft.irfft(spectra, n=grid.n_time, axis=-1, workers=threads())[:, ::m] * scale
    out = np.empty((4, 4, series.shape[1]))
    for k, (a, b) in enumerate(pairs):
        out[a, b] = out[b, a] = series[k]
    return out


RX_NOISE_FIELDS = (*channel.FILTER_FIELDS, "f_z_hz", "f_p1_hz", "f_p2_hz", "f_lf_hz", "eta_0_v2_per_hz")


def system_rx_noise_basis(p: ClauseParams, grid: SystemGrid) -> np.ndarray:
    """``rx_noise_basis`` of the clause's CTLE and receiver filter on the system grid (cached, read-only)."""
    return _system_rx_noise_basis(keyed(p, RX_NOISE_FIELDS), grid)


@lru_cache(maxsize=CACHE_SIZE)
def _system_rx_noise_basis(p: Keyed, grid: SystemGrid) -> np.ndarray:
    q = p.value
    return frozen(rx_noise_basis(q, grid, pulses.system_ctle_basis(q, grid), channel.system_filters(q, grid)[1]))[0]


@njit(cache=True, nogil=True)
def autocorr(x: np.ndarray, lags: int) -> np.ndarray:
    """sum_n x[n] x[n + k] for k < lags."""
    n = x.size
    out = np.zeros(lags)
    for k in range(min(lags, n)):
        acc = 0.0
        for i in range(n - k):
            acc += x[i] * x[i + k]
        out[k] = acc
    return out


def phase_samples(pulse: np.ndarray, index: int, spu: int) -> np.ndarray:
    """The symbol-spaced samples of ``pulse`` at the phase of sample ``index`` (every UI)."""
    return pulse[index % spu::spu]


def slope_samples(pulse: np.ndarray, index: int, spu: int) -> np.ndarray:
    """Central-difference slope (V/UI) of ``pulse`` at every UI of the phase of ``index`` (178A-23)."""
    padded = np.concatenate(([0.0], pulse, [0.0]))
    ixs = index % spu + spu * np.arange(pulse.size // spu)
    return (padded[ixs + 2] - padded[ixs]) * (spu / 2.0)


def aggressor_samples(pulse: np.ndarray, spu: int) -> np.ndarray:
    """An aggressor sampled at the phase of its largest energy (178A-20, 93A-33)."""
    n = (pulse.size // spu) * spu
    grid = pulse[:n].reshape(-1, spu)
    return grid[:, int(np.argmax(np.sum(grid**2, axis=0)))].copy()


@njit(cache=True, nogil=True)
def _delta_pmf(samples: np.ndarray, step: float, npts: int, levels: int) -> np.ndarray:
    """PMF of sum_n h_n a_n (a_n equiprobable PAM levels) on a zero-centred grid (93A-39, 93A-40)."""
    pmf = np.zeros(npts)
    tmp = np.zeros(npts)
    mid = npts // 2
    pmf[mid] = 1.0
    lo, hi = mid, mid + 1
    shifts = np.empty(levels, dtype=np.int64)
    for h in samples:
        for j in range(levels):
            shifts[j] = int(np.round(h * (-1.0 + 2.0 * j / (levels - 1)) / step))
        new_lo, new_hi = lo, hi
        for j in range(levels):
            new_lo = min(new_lo, lo + shifts[j])
            new_hi = max(new_hi, hi + shifts[j])
        new_lo, new_hi = max(new_lo, 0), min(new_hi, npts)
        tmp[new_lo:new_hi] = 0.0
        for j in range(levels):
            s = shifts[j]
            for i in range(lo, hi):
                k = i + s
                if 0 <= k < npts:
                    tmp[k] += pmf[i]
        total = tmp[new_lo:new_hi].sum()
        for i in range(new_lo, new_hi):
            pmf[i] = tmp[i] / total
        lo, hi = new_lo, new_hi
    return pmf


def convolve_same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.convolve(a, b, "same")`` for two equal odd lengths, by one power-of-two FFT."""
    n = 1 << int(np.ceil(np.log2(a.size + b.size - 1)))
    full = np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)
    start = (b.size - 1) // 2
    return full[start:start + a.size]


def _ascending(samples: np.ndarray, step: float) -> np.ndarray:
    """The samples a PMF of bin ``step`` can see, smallest first (the PMF stays narrow for longest)."""
    kept = samples[np.abs(samples) > step / 2]
    return kept[np.argsort(np.abs(kept), kind="stable")]


def quantization_step(p: ClauseParams, signal: np.ndarray, var_noise: float, extra: list[np.ndarray] | None = None,
                      npts: int = 2001) -> float:
    """Delta = 2 V_qc / (2^N_qb - 1), V_qc where the noisy signal's CDF reaches P_qc / 2 (178A-29, 178A-30)."""
    if not p.n_qb:
        return 0.0
    extra = extra or []
    sigma = np.sqrt(var_noise)
    support = np.abs(signal).sum() + sum(np.abs(h).sum() for h in extra) + 10 * sigma
    npts |= 1
    step = 2 * support / (npts - 1)
    y = (np.arange(npts) - npts // 2) * step
    pmf = _delta_pmf(_ascending(signal, step), step, npts, p.levels)
    for h in extra:
        pmf = convolve_same(pmf, _delta_pmf(_ascending(h, step), step, npts, p.levels))
    if sigma > 0:
        index = gaussian_quantile(np.clip(pmf, 0, None), np.cumsum(np.exp(-(y**2) / (2 * var_noise))), p.p_qc / 2)
    else:
        cdf = np.cumsum(np.clip(pmf, 0, None))
        cdf /= cdf[-1]
        index = int(np.argmax(cdf >= p.p_qc / 2))
    v_qc = -y[index]
    return 2 * v_qc / (2**p.n_qb - 1)


@njit(cache=True, nogil=True)
def gaussian_quantile(pmf: np.ndarray, kernel_cdf: np.ndarray, share: float) -> int:
    """The first index where the CDF of ``convolve_same(pmf, kernel)`` reaches ``share`` of its total, without
    the convolution: with ``kernel_cdf`` the kernel's running sum (the kernel centred on its middle sample),
    CDF[i] = sum_j pmf[j] (K[i - j + c] - K[c - j - 1]), K clamped to 0 below its start and to its total
    above its end; the CDF is non-decreasing, so a bisection finds the crossing."""
    n = pmf.size
    c = kernel_cdf.size // 2
    top = kernel_cdf[-1]
    lo_j, hi_j = 0, n
    while lo_j < hi_j and pmf[lo_j] == 0.0:
        lo_j += 1
    while hi_j > lo_j and pmf[hi_j - 1] == 0.0:
        hi_j -= 1

    def kcdf(k: int) -> float:
        if k < 0:
            return 0.0
        if k >= kernel_cdf.size:
            return top
        return kernel_cdf[k]

    def cdf(i: int) -> float:
        acc = 0.0
        for j in range(lo_j, hi_j):
            acc += pmf[j] * (kcdf(i - j + c) - kcdf(c - j - 1))
        return acc

    target = share * cdf(n - 1)
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cdf(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo
