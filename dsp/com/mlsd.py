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
    conv = _SameConvolver(p_rest)
    memo: dict[float, np.ndarray] = {}  # the answer is the PMF of a scale already tried

    def p_an(g: float) -> np.ndarray:
        if g not in memo:
            memo[g] = _norm(conv(gaussian(n, step, var_g + g * var_rn)))
        return memo[g]

    target = quantile(p_an(0.0), step, der_0) * 10 ** (dcom_an_db / 20)
    low, high = 0.0, 1.0
    for _ in range(200):
        if quantile(p_an(high), step, der_0) <= target:
            break
        low, high = high, 2 * high
    else:
        raise ValueError("no added receiver noise gives the MLSD's noise penalty")
    while high - low > rel_tol * high:
        mid = (low + high) / 2
        if quantile(p_an(mid), step, der_0) <= target:
            high = mid
        else:
            low = mid
    return high, p_an(high)


def der_mlsd(p_an: np.ndarray, step: float, a_s: float, b: float, rho: np.ndarray, levels: int,
             rel_tol: float = 1e-4) -> float:
    """DER of the MLSD (178A-50): error events j = 1, 2, ... until a term adds under ``rel_tol`` of the sum."""
    p_1mb = _trim(scaled(p_an, 1 - b))
    p_j = _trim(_norm(fftconvolve(p_an, _trim(scaled(p_an, b)))))
    der = 0.0
    for j in range(1, rho.size):
        u = np.array([1.0] + [(-1) ** (i - 1) * (1 - b) for i in range(2, j + 1)] + [(-1) ** (j + 1) * b])
        v = toeplitz(rho[: j + 1])
        x = a_s * (u @ u) ** 1.5 / np.sqrt(u @ v @ u)
        term = ((levels - 1) / levels) ** (j - 1) * _cdf_at(p_j, step, -x)
        der += term
        if term <= rel_tol * der:
            break
        p_j = _trim(_norm(fftconvolve(p_j, p_1mb)))
    return der
