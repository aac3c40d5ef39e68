"""Feed-forward equaliser taps by MMSE (with noise) or zero forcing, with optional tap limits.

Taps are normalised to a main tap of 1; the target amplitude is a free variable, so the
MMSE solution is the unbiased-SNR optimum up to scale. With limits, scipy's bounded least
squares honours |c_k| <= limit for every tap but the main one.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import toeplitz
from scipy.optimize import lsq_linear

SYMBOL_VARIANCE = 5.0 / 9.0
"""Variance of equiprobable PAM4 levels -1, -1/3, 1/3, 1."""


def _conv_matrix(h: np.ndarray, n_taps: int) -> np.ndarray:
    col = np.concatenate([h, np.zeros(n_taps - 1)])
    row = np.zeros(n_taps)
    row[0] = h[0]
    return toeplitz(col, row)


def ffe_taps(cursors: np.ndarray, main: int, pre: int, post: int, noise_var: float = 0.0,
             method: str = "mmse", tap_limit: float | None = None) -> np.ndarray:
    """Taps c (length pre + 1 + post, c[pre] = 1) equalising ``cursors`` whose main is ``main``.

    MMSE minimises E|c * (h a + n) - A a_d|^2 over c and A; ZF forces the equalised
    response to zero on the cursors inside the FFE span around the main one.
    """
    n = pre + 1 + post
    if n == 1:
        return np.ones(1)
    big = _conv_matrix(cursors, n)
    d = main + pre
    others = [k for k in range(n) if k != pre]
    h_main, h_oth = big[:, pre], big[:, others]
    e = np.zeros(big.shape[0])
    e[d] = 1.0
    if method == "zf":
        rows = np.arange(max(d - pre, 0), min(d + post + 1, big.shape[0]))
        a_mat = np.column_stack([h_oth[rows], -e[rows]])
        b = -h_main[rows]
    else:
        sx = np.sqrt(SYMBOL_VARIANCE)
        sn = np.sqrt(max(noise_var, 1e-12))
        a_mat = np.vstack([np.column_stack([sx * h_oth, -sx * e]),
                           np.column_stack([sn * np.eye(n - 1), np.zeros((n - 1, 1))])])
        b = np.concatenate([-sx * h_main, np.zeros(n - 1)])
    if tap_limit is None:
        sol, *_ = np.linalg.lstsq(a_mat, b, rcond=None)
    else:
        lo = np.append(np.full(n - 1, -tap_limit), -np.inf)
        hi = np.append(np.full(n - 1, tap_limit), np.inf)
        sol = lsq_linear(a_mat, b, bounds=(lo, hi)).x
    taps = np.ones(n)
    taps[others] = sol[:-1]
    return taps
