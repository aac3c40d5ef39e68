"""The MMSE receiver FFE and DFE of Annex 178A (178A-32..36) and its floating taps (178A.1.8.1).

For one sampling phase: with h the symbol-spaced victim pulse, R = H^T H + R_n / sigma_X^2 (a Toeplitz
matrix from the autocorrelations of h and of the noise), the FFE w and DFE b minimise the mean square
error under the constraint that the cursor's response is one:
    [R  -Hb^T -h0] [w]   [h0]
    [-Hb  I    0 ] [b] = [ 0]
    [h0^T 0    0 ] [l]   [ 1]
The DFE taps are clipped to their limits (the FFE re-solved with them fixed), the FFE taps to theirs
relative to the cursor tap (then renormalised to a unit cursor and the DFE recomputed), and
FOM = 20 log10(R_LM / (L - 1) / sqrt(MSE)). Floating tap groups are placed one at a time, each where it
gives the best FOM with the groups already placed (as MATLAB COM's FOM_rxffe_floating_taps).
All candidate placements of a group are solved at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import toeplitz


@dataclass(frozen=True)
class FfeLimits:
    """Receiver FFE structure and limits of a clause (178A.1.8)."""

    pre: int  # d_w: pre-cursor taps
    fixed: int  # N_fix: fixed-position taps (0 .. fixed - 1)
    span: int  # N_max: positions the floating taps may use
    groups: int
    group_taps: int
    w_min: np.ndarray  # (span,) relative to the cursor tap
    w_max: np.ndarray

    @classmethod
    def from_table(cls, table: dict) -> FfeLimits:
        pre, fixed, span = int(table["pre_taps"]), int(table["fixed_taps"]), int(table["span"])
        lim = np.concatenate([np.full(fixed, float(table["fixed_limit"])),
                              np.full(span - fixed, float(table["float_limit"]))])
        w_min, w_max = -lim.copy(), lim.copy()
        w_min[pre] = w_max[pre] = 1.0
        return cls(pre, fixed, span, int(table["float_groups"]), int(table["float_taps"]), w_min, w_max)


@dataclass
class MmseSolution:
    fom_db: float
    mse: float
    w: np.ndarray  # taps at ``cols``
    b: np.ndarray
    cols: list[int]


def _foms(h_rows: np.ndarray, r_all: np.ndarray, cols: np.ndarray, pre: int, b_min: np.ndarray, b_max: np.ndarray,
          w_min: np.ndarray, w_max: np.ndarray, var_x: float, rlm: float, levels: int,
          want_taps: bool = False):
    """FOM (and optionally taps) of the MMSE FFE/DFE for each row of ``cols`` (tap positions), at once."""
    k, n = cols.shape
    nb = b_max.size
    h0 = h_rows[0][cols]  # (K, n)
    hb = h_rows[1:1 + nb][:, cols].transpose(1, 0, 2)  # (K, nb, n)
    r = r_all[cols[:, :, None], cols[:, None, :]]  # (K, n, n)
    m = n + nb + 1
    a = np.zeros((k, m, m))
    a[:, :n, :n] = r
    a[:, :n, n:n + nb] = -hb.transpose(0, 2, 1)
    a[:, :n, -1] = -h0
    a[:, n:n + nb, :n] = -hb
    a[:, n:n + nb, n:n + nb] = np.eye(nb)
    a[:, -1, :n] = h0
    y = np.concatenate([h0, np.zeros((k, nb)), np.ones((k, 1))], axis=1)
    x = np.linalg.solve(a, y[..., None])[..., 0]
    w, b = x[:, :n], x[:, n:n + nb]
    b_lim = np.clip(b, b_min, b_max)
    hit = (b_lim != b).any(axis=1)
    if hit.any():
        a2 = np.zeros((k, n + 1, n + 1))
        a2[:, :n, :n] = r
        a2[:, :n, -1] = -h0
        a2[:, -1, :n] = h0
        y2 = np.concatenate([h0 + np.einsum("kbn,kb->kn", hb, b_lim), np.ones((k, 1))], axis=1)
        w[hit] = np.linalg.solve(a2[hit], y2[hit][..., None])[..., 0][:, :n]
    cursor = w[:, pre:pre + 1]
    w_lim = np.minimum(w_max[cols] * cursor, np.maximum(w_min[cols] * cursor, w))
    clipped = (w_lim != w).any(axis=1)
    if clipped.any():
        w_lim[clipped] /= (h0 * w_lim).sum(axis=1)[clipped, None]
        b_lim[clipped] = np.clip(np.einsum("kbn,kn->kb", hb, w_lim), b_min, b_max)[clipped]
    wrw = np.einsum("kn,knm,km->k", w_lim, r, w_lim)
    mse = var_x * (wrw + 1 + (b_lim**2).sum(axis=1) - 2 * (w_lim * h0).sum(axis=1)
                   - 2 * np.einsum("kn,kbn,kb->k", w_lim, hb, b_lim))
    fom = 20 * np.log10(rlm / (levels - 1) / np.sqrt(np.maximum(mse, 1e-300)))
    if want_taps:
        return fom, mse, w_lim, b_lim
    return fom


def solve(h: np.ndarray, dh: int, r_hh: np.ndarray, rn: np.ndarray, lim: FfeLimits, b_min: np.ndarray,
          b_max: np.ndarray, var_x: float, rlm: float, levels: int) -> MmseSolution:
    """MMSE FFE/DFE for symbol-spaced pulse ``h`` with its cursor at ``dh``, its autocorrelation ``r_hh`` and
    the noise autocorrelation ``rn`` (lags 0 .. span - 1), floating tap groups placed greedily."""
    span, pre = lim.span, lim.pre
    n_h = h.size
    lags = np.arange(span)
    r_all = toeplitz(r_hh) + toeplitz(rn[:span]) / var_x
    d = dh + pre
    rows = (d + np.arange(b_max.size + 1))[:, None] - lags[None, :]
    h_rows = np.where((rows >= 0) & (rows < n_h), h[np.clip(rows, 0, n_h - 1)], 0.0)
    args = (pre, b_min, b_max, lim.w_min, lim.w_max, var_x, rlm, levels)
    chosen: list[int] = []
    for _ in range(lim.groups):
        starts = [s for s in range(lim.fixed, span - lim.group_taps + 1)
                  if not any(c in chosen for c in range(s, s + lim.group_taps))]
        if not starts:
            break
        cands = np.array([list(range(lim.fixed)) + sorted(chosen + list(range(s, s + lim.group_taps)))
                          for s in starts])
        best = starts[int(np.argmax(_foms(h_rows, r_all, cands, *args)))]
        chosen += list(range(best, best + lim.group_taps))
    cols = list(range(lim.fixed)) + sorted(chosen)
    fom, mse, w, b = _foms(h_rows, r_all, np.array([cols]), *args, want_taps=True)
    return MmseSolution(float(fom[0]), float(mse[0]), w[0], b[0], cols)
