"""The MLSD reference receiver of 178A.1.10: its detector error ratio and its advantage over the DFE.

COM_MLSD = COM_DFE + 20 log10(-P_an^-1(DER_MLSD) / A_s) (178A-49). P_an is the distribution of noise
and interference with added receiver noise, scaled by g_an so that it alone costs dCOM_an (178A.1.10.1);
DER_MLSD sums, over error events of growing length j, the chance that the noise along the event's
direction exceeds half its distance (178A-50, 178A-51), with the noise's correlation from the FFE
output (178A-56) and the event's noise distribution built by scaling and convolving P_an (178A-54, 55).
All distributions are probability mass functions on zero-centred grids of odd length.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sp_fft
from accbench.dsp.com.noise import gaussian_quantile
from numba import njit
from scipy.linalg import toeplitz
from scipy.signal import fftconvolve


def _norm(p: np.ndarray) -> np.ndarray:
    p = np.maximum(p, 0.0)
    return p / p.sum()


def _trim(p: np.ndarray, tol: float = 1e-30) -> np.ndarray:
    """Drop tails holding less than ``tol`` symmetrically (the grid stays zero-centred)."""
    c = np.cumsum(p)
    lo = int(np.searchsorted(c, tol))
    hi = int(np.searchsorted(c[-1] - c[::-1], tol))
    n = min(lo, hi, (p.size - 1) // 2)
    return p[n: p.size - n] if n else p


def scaled(p: np.ndarray, a: float) -> np.ndarray:
    """PMF of a Y for Y of PMF ``p`` on the same grid, mass moved through the CDF (the note to 178A-54)."""
    n = p.size
    if a == 0:
        out = np.zeros(n)
        out[n // 2] = 1.0
        return out
    if a < 0:
        return scaled(p[::-1], -a)
    edges = np.arange(n + 1) - n / 2
    cdf = np.concatenate(([0.0], np.cumsum(p)))
    return _norm(np.diff(np.interp(edges / a, edges, cdf, left=0.0, right=cdf[-1])))


def gaussian(n: int, step: float, var: float) -> np.ndarray:
    if var <= 0:
        out = np.zeros(n)
        out[n // 2] = 1.0
        return out
    y = (np.arange(n) - n // 2) * step
    return _norm(np.exp(-(y**2) / (2 * var)))


def quantile(p: np.ndarray, step: float, prob: float) -> float:
    """Where the CDF of zero-centred ``p`` first reaches ``prob``."""
    return float((int(np.argmax(np.cumsum(p) >= prob)) - p.size // 2) * step)


def _cdf_at(p: np.ndarray, step: float, y: float) -> float:
    k = int(np.ceil(y / step - 1e-9)) + p.size // 2
    if k < 0:
        return 0.0
    if k >= p.size:
        return 1.0
    return float(np.cumsum(p)[k])


class _SameConvolver:
    """``fftconvolve(fixed, b, mode="same")`` for many ``b`` of the fixed one's length, the fixed one's
    spectrum computed once: the same transforms, lengths and slicing as scipy's ``fftconvolve`` (real
    1-D inputs of equal length), so the results are the same bit for bit."""

    def __init__(self, fixed: np.ndarray) -> None:
        self.n = fixed.size
        self.shape = 2 * self.n - 1
        self.fshape = [sp_fft.next_fast_len(self.shape, True)]
        self.spec = sp_fft.rfftn(fixed, self.fshape, axes=[0])

    def __call__(self, b: np.ndarray) -> np.ndarray:
        if b.size != self.n or self.n < 2:
            raise ValueError("the convolver takes arrays of its own length (at least 2)")
        spec = sp_fft.rfftn(b, self.fshape, axes=[0])  # named: numpy would multiply into a temporary, in the
        product = self.spec * spec                      # other operand order (not bit-identical with FMA)
        full = sp_fft.irfftn(product, self.fshape, axes=[0])
        start = (self.shape - self.n) // 2
        return full[start:start + self.n].copy()


def added_noise(p_rest: np.ndarray, step: float, var_g: float, var_rn: float, der_0: float,
                dcom_an_db: float, rel_tol: float = 1e-6) -> tuple[float, np.ndarray]:
    """(g_an, P_an): the scale of added receiver noise whose penalty is ``dcom_an_db`` (178A.1.10.1, 178A-53)."""
    n = p_rest.size

    def q_an(g: float) -> float:
        """quantile(P_an(g), step, der_0), from P_rest and the Gaussian's running sum without convolving them."""
        kernel_cdf = np.cumsum(gaussian(n, step, var_g + g * var_rn))
        return float((gaussian_quantile(p_rest, kernel_cdf, der_0) - n // 2) * step)

    target = q_an(0.0) * 10 ** (dcom_an_db / 20)
    low, high = 0.0, 1.0
    for _ in range(200):
        if q_an(high) <= target:
            break
        low, high = high, 2 * high
    else:
        raise ValueError("no added receiver noise gives the MLSD's noise penalty")
    while high - low > rel_tol * high:
        mid = (low + high) / 2
        if q_an(mid) <= target:
            high = mid
        else:
            low = mid
    return high, _norm(_SameConvolver(p_rest)(gaussian(n, step, var_g + high * var_rn)))


def der_mlsd(p_an: np.ndarray, step: float, a_s: float, b: float, rho: np.ndarray, levels: int,
             rel_tol: float = 1e-4) -> float:
    """DER of the MLSD (178A-50): error events j = 1, 2, ... until a term adds under ``rel_tol`` of the sum.

    The event of length j needs one value of its noise's CDF, and that noise's PMF is the first event's
    convolved j - 1 times with P_an scaled by 1 - b; so the PMFs stay spectra (``_EventSpectra``) and the CDF
    is read from the spectrum, instead of an inverse transform and a growing convolution per event.
    """
    p_1mb = _trim(scaled(p_an, 1 - b))
    events = _EventSpectra(_trim(_norm(fftconvolve(p_an, _trim(scaled(p_an, b))))), p_1mb)
    der = 0.0
    for j in range(1, rho.size):
        u = np.array([1.0] + [(-1) ** (i - 1) * (1 - b) for i in range(2, j + 1)] + [(-1) ** (j + 1) * b])
        v = toeplitz(rho[: j + 1])
        x = a_s * (u @ u) ** 1.5 / np.sqrt(u @ v @ u)
        term = ((levels - 1) / levels) ** (j - 1) * events.cdf_at(step, -x)
        der += term
        if term <= rel_tol * der:
            break
        events.advance()
    return der


class _EventSpectra:
    """The PMF p_1 * p_s^(*(j - 1)) of event j (zero-centred, linear convolutions) as its real spectrum on a
    grid long enough for ``EVENT_BLOCK`` more events, lengthened (and the spectrum rebuilt) as events go on."""

    def __init__(self, first: np.ndarray, step_pmf: np.ndarray) -> None:
        self.first, self.step_pmf = first, step_pmf
        self.j = 1
        self.n = 0
        self._build(EVENT_BLOCK)

    def size(self, j: int) -> int:
        return self.first.size + (j - 1) * (self.step_pmf.size - 1)

    def _build(self, events: int) -> None:
        n = sp_fft.next_fast_len(self.size(self.j + events), True)
        self.n = n
        self.spec_step = sp_fft.rfft(self.step_pmf, n)
        self.spec = sp_fft.rfft(self.first, n)
        for _ in range(self.j - 1):
            self.spec *= self.spec_step
        self.half_cot = np.zeros(n // 2 + 1)
        self.half_cot[1:] = 0.5 / np.tan(np.pi * np.arange(1, n // 2 + 1) / n)

    def advance(self) -> None:
        self.j += 1
        if self.size(self.j) > self.n:
            self._build(2 * EVENT_BLOCK)
        else:
            self.spec *= self.spec_step

    def cdf_at(self, step: float, y: float) -> float:
        """The CDF of event j's PMF at ``y`` (``_cdf_at`` of the PMF)."""
        size = self.size(self.j)
        k = int(np.ceil(y / step - 1e-9)) + size // 2
        if k < 0:
            return 0.0
        if k >= size:
            return 1.0
        return _spectral_cdf(self.spec, self.n, k, self.half_cot)


EVENT_BLOCK = 32  # events the spectra's grid holds before it is lengthened


@njit(cache=True, nogil=True)
def _unit(m: int, n: int) -> complex:
    """exp(-2 pi i m / n)."""
    angle = -2.0 * np.pi * (m % n) / n
    return complex(np.cos(angle), np.sin(angle))


@njit(cache=True, nogil=True)
def _spectral_cdf(spec: np.ndarray, n: int, k: int, half_cot: np.ndarray) -> float:
    """sum_(i <= k) p[i] of the real sequence p (length n) of ``spec`` = rfft(p), by Parseval: the DFT of the
    indicator of 0 .. k is (1 - W^(f (k + 1))) / (1 - W^f) with W = exp(-2 pi i / n), so one pass over the
    spectrum replaces an inverse transform. 1 / (1 - W^f) = 1/2 - i cot(pi f / n) / 2 (``half_cot``
    holds the cot(pi f / n) / 2 for f = 0 .. n // 2); the powers W^(f (k + 1)) go by rotation, recomputed
    every ``ROTATION_RUN`` frequencies (their rounding stays a few tens of eps)."""
    d = k + 1
    acc = spec[0].real * d
    half = n // 2
    rot = _unit(d, n)
    z = 1.0 + 0.0j
    for f in range(1, half + 1):
        if f % ROTATION_RUN == 1:
            z = _unit(f * d, n)
        else:
            z *= rot
        s = (1.0 - z) * complex(0.5, -half_cot[f])
        v = spec[f].real * s.real + spec[f].imag * s.imag
        acc += v if (n % 2 == 0 and f == half) else 2.0 * v
    return acc / n


ROTATION_RUN = 64
