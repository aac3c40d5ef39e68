"""The greedy floating-tap placement of ``mmse.solve``, compiled, with one Schur complement per placement.

With the DFE unclipped (b = Hb w) the MMSE of 178A-32..36 reduces to MSE / sigma_X^2 = 1 / q - 1 with
q = h0^T R'^-1 h0 and R' = R - Hb^T Hb over the FFE's tap positions. The fixed taps F are common to
every placement of a floating group G, so q(F u G) = q(F) + g_G^T T_GG^-1 g_G with the residuals
g = h0 - R'_.F R'_FF^-1 h0_F and T = R' - R'_.F R'_FF^-1 R'_F. : a 4 x 4 solve per placement
instead of a 25 x 25 one. A placement whose taps reach a limit (DFE tap, FFE tap relative to the
cursor) is evaluated by the full clipped solve, exactly as ``mmse._foms`` does, so the result is the
same as the direct computation (tests hold the two together).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def toeplitz_of(r: np.ndarray) -> np.ndarray:
    """The symmetric Toeplitz matrix of first row ``r`` (compiled: a fast score builds one per offset)."""
    n = r.size
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = r[abs(i - j)]
    return out


@njit(cache=True, nogil=True, inline="always")
def _spd_solve(a: np.ndarray, b: np.ndarray, out: np.ndarray, lo: np.ndarray) -> None:
    """Solve a x = b for a small symmetric positive definite ``a`` by Cholesky into ``out`` (``lo``: scratch)."""
    _cholesky(a, lo)
    _cho_solve(lo, b, out)


@njit(cache=True, nogil=True)
def clipped_mse(h_rows: np.ndarray, r: np.ndarray, cols: np.ndarray, pre: int, b_min: np.ndarray,
                b_max: np.ndarray, w_min: np.ndarray, w_max: np.ndarray) -> float:
    """MSE / sigma_X^2 of the FFE at ``cols`` with the DFE, tap limits applied as ``mmse._foms`` does."""
    n, nb = cols.size, b_max.size
    m = n + nb + 1
    a = np.zeros((m, m))
    y = np.zeros(m)
    for i in range(n):
        ci = cols[i]
        for j in range(n):
            a[i, j] = r[ci, cols[j]]
        for k in range(nb):
            a[i, n + k] = -h_rows[1 + k, ci]
            a[n + k, i] = -h_rows[1 + k, ci]
        a[i, m - 1] = -h_rows[0, ci]
        a[m - 1, i] = h_rows[0, ci]
        y[i] = h_rows[0, ci]
    for k in range(nb):
        a[n + k, n + k] = 1.0
    y[m - 1] = 1.0
    x = np.linalg.solve(a, y)
    w = x[:n].copy()
    b = x[n:n + nb].copy()
    b_lim = np.minimum(np.maximum(b, b_min), b_max)
    if np.any(b_lim != b):
        a2 = np.zeros((n + 1, n + 1))
        y2 = np.zeros(n + 1)
        for i in range(n):
            ci = cols[i]
            for j in range(n):
                a2[i, j] = r[ci, cols[j]]
            a2[i, n] = -h_rows[0, ci]
            a2[n, i] = h_rows[0, ci]
            y2[i] = h_rows[0, ci]
            for k in range(nb):
                y2[i] += h_rows[1 + k, ci] * b_lim[k]
        y2[n] = 1.0
        w = np.linalg.solve(a2, y2)[:n].copy()
    cursor = w[pre]
    w_lim = np.empty(n)
    for i in range(n):
        w_lim[i] = min(w_max[cols[i]] * cursor, max(w_min[cols[i]] * cursor, w[i]))
    if np.any(w_lim != w):
        s = 0.0
        for i in range(n):
            s += h_rows[0, cols[i]] * w_lim[i]
        w_lim /= s
        for k in range(nb):
            acc = 0.0
            for i in range(n):
                acc += h_rows[1 + k, cols[i]] * w_lim[i]
            b_lim[k] = min(max(acc, b_min[k]), b_max[k])
    mse = 1.0
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += r[cols[i], cols[j]] * w_lim[j]
        mse += w_lim[i] * acc - 2.0 * w_lim[i] * h_rows[0, cols[i]]
        for k in range(nb):
            mse -= 2.0 * w_lim[i] * h_rows[1 + k, cols[i]] * b_lim[k]
    for k in range(nb):
        mse += b_lim[k] ** 2
    return mse


@njit(cache=True, nogil=True, inline="always")
def _cholesky(a: np.ndarray, lo: np.ndarray) -> None:
    """Lower Cholesky factor of the small symmetric positive definite ``a`` into ``lo``."""
    n = a.shape[0]
    for i in range(n):
        for j in range(i + 1):
            acc = a[i, j]
            for k in range(j):
                acc -= lo[i, k] * lo[j, k]
            lo[i, j] = np.sqrt(acc) if i == j else acc / lo[j, j]


@njit(cache=True, nogil=True, inline="always")
def _cho_solve(lo: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """Solve L L^T x = b into ``out`` with the factor ``lo`` of ``_cholesky``."""
    n = b.size
    for i in range(n):
        acc = b[i]
        for k in range(i):
            acc -= lo[i, k] * out[k]
        out[i] = acc / lo[i, i]
    for i in range(n - 1, -1, -1):
        acc = out[i]
        for k in range(i + 1, n):
            acc -= lo[k, i] * out[k]
        out[i] = acc / lo[i, i]


@njit(cache=True, nogil=True)
def _band(rfa: np.ndarray, mm: np.ndarray, gt: int) -> np.ndarray:
    """(span, gt): P[k, k + d] of P = R_.F R_FF^-1 R_F. (the Schur complement's correction) near its diagonal."""
    nf, span = rfa.shape
    out = np.zeros((span, gt))
    for f in range(nf):
        for k in range(span):
            r = rfa[f, k]
            for d in range(min(gt, span - k)):
                out[k, d] += r * mm[f, k + d]
    return out


@njit(cache=True, nogil=True, inline="always")
def _schur(r_row, s, gt, phi_f, g, band, y, phi, t, lo, p, ip, sol) -> float:
    """Fill ``y`` (R_SS^-1 applied to each residual) and ``phi`` (the quadratic forms u^T R_SS^-1 v) of the
    placement at ``s``; return its MSE / sigma_X^2 with no limit applied, a lower bound of the clipped one."""
    nu = phi_f.shape[0]
    nb = nu - 1
    for i in range(gt):
        for j in range(i, gt):
            acc = r_row[j - i] - band[s + i, j - i]
            t[i, j] = acc
            t[j, i] = acc
    _cholesky(t, lo)
    for u in range(nu):
        _cho_solve(lo, g[u, s:s + gt], y[u])
    for u in range(nu):
        for v in range(nu):
            acc = phi_f[u, v]
            for i in range(gt):
                acc += g[u, s + i] * y[v, i]
            phi[u, v] = acc
    a = phi[0, 0]
    if not nb:
        return 1.0 / a - 1.0
    for k in range(nb):
        p[k] = phi[1 + k, 0]
        for j in range(nb):
            ip[k, j] = (1.0 if k == j else 0.0) - phi[1 + k, 1 + j]
    _spd_solve(ip, p, sol, lo)
    acc = a
    for k in range(nb):
        acc += p[k] * sol[k]
    return 1.0 / acc - 1.0


@njit(cache=True, nogil=True, inline="always")
def _dfe_fixed(phi, sol, p, b_min, b_max, alpha, b) -> bool:
    """The DFE of a placement (after ``_schur``), clipped to its limits with the FFE re-solved for it, as the
    weights ``alpha`` (cursor multiplier, DFE taps) of R^-1 u; True when a DFE limit binds."""
    nu = phi.shape[0]
    nb = nu - 1
    a = phi[0, 0]
    if nb:
        acc = a
        for k in range(nb):
            p[k] = phi[1 + k, 0]
            acc += p[k] * sol[k]
        one_l = 1.0 / acc
        for k in range(nb):
            b[k] = one_l * sol[k]
    else:
        one_l = 1.0 / a
    b_clip = False
    for k in range(nb):
        lim = min(max(b[k], b_min[k]), b_max[k])
        if lim != b[k]:
            b_clip = True
    if b_clip:
        acc = 1.0
        for k in range(nb):
            b[k] = min(max(b[k], b_min[k]), b_max[k])
            acc -= p[k] * b[k]
        one_l = acc / a
    alpha[0] = one_l
    for k in range(nb):
        alpha[1 + k] = b[k]
    return b_clip


@njit(cache=True, nogil=True, inline="always")
def _free_mse(phi, alpha, b) -> float:
    """MSE / sigma_X^2 of the FFE R^-1 u alpha (no FFE limit applied) with the DFE ``b``."""
    nu = phi.shape[0]
    mse = -1.0
    for u in range(nu):
        for v in range(nu):
            mse += alpha[u] * phi[u, v] * alpha[v]
    for k in range(nu - 1):
        acc = 0.0
        for v in range(nu):
            acc += phi[1 + k, v] * alpha[v]
        mse += b[k] ** 2 - 2.0 * b[k] * acc
    return mse


@njit(cache=True, nogil=True, inline="always")
def _clipped(h_rows, r_row, f_idx, s, gt, pre, zf, mm, b_min, b_max, w_min, w_max, y, phi, p, sol, ws):
    """MSE / sigma_X^2 of the placement at ``s`` (after ``_schur``) with the limits applied as ``mmse._foms``."""
    w_f, w_g, alpha, b = ws
    nu, nf = zf.shape[0], f_idx.size
    nb = nu - 1
    _dfe_fixed(phi, sol, p, b_min, b_max, alpha, b)
    for i in range(gt):
        acc = 0.0
        for u in range(nu):
            acc += alpha[u] * y[u, i]
        w_g[i] = acc
    for f in range(nf):
        acc = 0.0
        for u in range(nu):
            acc += alpha[u] * zf[u, f]
        for i in range(gt):
            acc -= mm[f, s + i] * w_g[i]
        w_f[f] = acc
    cursor = w_f[pre]
    clip = False
    for f in range(nf):
        c = f_idx[f]
        lim = min(w_max[c] * cursor, max(w_min[c] * cursor, w_f[f]))
        if lim != w_f[f]:
            clip = True
            w_f[f] = lim
    for i in range(gt):
        c = s + i
        lim = min(w_max[c] * cursor, max(w_min[c] * cursor, w_g[i]))
        if lim != w_g[i]:
            clip = True
            w_g[i] = lim
    if not clip:
        return _free_mse(phi, alpha, b)
    norm = 0.0
    for f in range(nf):
        norm += h_rows[0, f_idx[f]] * w_f[f]
    for i in range(gt):
        norm += h_rows[0, s + i] * w_g[i]
    for f in range(nf):
        w_f[f] /= norm
    for i in range(gt):
        w_g[i] /= norm
    for k in range(nb):
        acc = 0.0
        for f in range(nf):
            acc += h_rows[1 + k, f_idx[f]] * w_f[f]
        for i in range(gt):
            acc += h_rows[1 + k, s + i] * w_g[i]
        b[k] = min(max(acc, b_min[k]), b_max[k])
    mse = 1.0
    for k in range(nb):
        mse += b[k] ** 2
    for f in range(nf + gt):
        ci = f_idx[f] if f < nf else s + f - nf
        wi = w_f[f] if f < nf else w_g[f - nf]
        acc = 0.0
        for j in range(nf + gt):
            cj = f_idx[j] if j < nf else s + j - nf
            acc += r_row[abs(ci - cj)] * (w_f[j] if j < nf else w_g[j - nf])
        mse += wi * acc - 2.0 * wi * h_rows[0, ci]
        for k in range(nb):
            mse -= 2.0 * wi * h_rows[1 + k, ci] * b[k]
    return mse


BOUND_SLACK = 1e-12  # relative: a placement is solved in full unless its bound exceeds the best by more


@njit(cache=True, nogil=True)
def greedy_mse(h_rows: np.ndarray, r_row: np.ndarray, pre: int, fixed: int, groups: int, group_taps: int,
               b_min: np.ndarray, b_max: np.ndarray, w_min: np.ndarray, w_max: np.ndarray):
    """(MSE / sigma_X^2, tap positions) of the MMSE FFE/DFE with floating groups placed greedily.

    ``h_rows`` (1 + N_b, span): the cursor row and the DFE rows of the pulse against the FFE's tap
    positions; ``r_row``: first row of R = toeplitz(r_hh) + toeplitz(r_n) / sigma_X^2.
    Each placement is bounded from below first: by its MSE with the DFE clipped and the FFE re-solved
    for it (no FFE limit), which for one DFE tap is the least MSE any FFE and DFE within the DFE's
    limits reach (the MSE is convex in that tap); with more DFE taps, by the unclipped MSE. Only
    placements whose bound does not exceed the best clipped MSE so far are solved with the limits.
    """
    span = r_row.size
    nu = h_rows.shape[0]
    gt = group_taps
    in_set = np.zeros(span, dtype=np.bool_)
    in_set[:fixed] = True
    best_mse = np.inf
    nb = nu - 1
    n_lo = max(gt, nb)
    t = np.empty((gt, gt))
    lo = np.empty((n_lo, n_lo))
    p = np.empty(nb)
    ip = np.empty((nb, nb))
    n_max = max(span - gt + 1 - fixed, 0)
    bound = np.empty(n_max)
    starts = np.empty(n_max, dtype=np.int64)
    ys = np.empty((n_max, nu, gt))
    phis = np.empty((n_max, nu, nu))
    sols = np.empty((n_max, nb))
    alpha, b = np.empty(nu), np.empty(nb)
    for _ in range(groups):
        f_idx = np.nonzero(in_set)[0]
        nf = f_idx.size
        rff = np.empty((nf, nf))
        rfa = np.empty((nf, span))
        for i in range(nf):
            for j in range(span):
                rfa[i, j] = r_row[abs(f_idx[i] - j)]
            for j in range(nf):
                rff[i, j] = r_row[abs(f_idx[i] - f_idx[j])]
        inv = np.linalg.inv(rff)
        mm = inv @ rfa
        uf = np.empty((nu, nf))
        for u in range(nu):
            uf[u] = h_rows[u, f_idx]
        zf = uf @ inv  # rows: R_FF^-1 u_F (inv is symmetric)
        g = h_rows - zf @ rfa
        phi_f = uf @ zf.T
        band = _band(rfa, mm, gt)
        ws = (np.empty(nf), np.empty(gt), np.empty(nu), np.empty(nb))
        n = 0
        for k in range(fixed, span - gt + 1):
            if not np.any(in_set[k:k + gt]):
                starts[n] = k
                n += 1
        for k in range(n):
            free = _schur(r_row, starts[k], gt, phi_f, g, band, ys[k], phis[k], t, lo, p, ip, sols[k])
            if _dfe_fixed(phis[k], sols[k], p, b_min, b_max, alpha, b) and nb > 1:
                bound[k] = free
            else:
                bound[k] = _free_mse(phis[k], alpha, b)
        best_mse, best_start = np.inf, -1
        for k in np.argsort(bound[:n], kind="mergesort"):
            if bound[k] > best_mse + BOUND_SLACK * abs(best_mse):
                break
            mse = _clipped(h_rows, r_row, f_idx, starts[k], gt, pre, zf, mm, b_min, b_max, w_min, w_max, ys[k],
                           phis[k], p, sols[k], ws)
            if mse < best_mse or (mse == best_mse and starts[k] < best_start):
                best_mse, best_start = mse, starts[k]
        if best_start < 0:
            break
        in_set[best_start:best_start + gt] = True
    cols = np.nonzero(in_set)[0]
    if not np.isfinite(best_mse):
        best_mse = clipped_mse(h_rows, toeplitz_of(r_row), cols, pre, b_min, b_max, w_min, w_max)
    return best_mse, cols


@njit(cache=True, nogil=True)
def mse_floor(h_rows: np.ndarray, r_row: np.ndarray, b_min: np.ndarray, b_max: np.ndarray) -> float:
    """A lower bound of ``greedy_mse`` for the same rows: every FFE position free and unlimited.

    The greedy result is the MSE of one feasible equaliser (cursor 1, taps at the placed positions within
    their limits, the DFE within its limits), so it is never below the least MSE over the relaxed set. With
    one DFE tap b that least MSE is exact in closed form: for a given b the best free FFE (cursor 1) gives
    f(b) = b^2 - 1 + (1 - b c)^2 / a - b^2 d with a = h0' R^-1 h0, c = h0' R^-1 h1, d = h1' R^-1 h1, a
    convex quadratic whose minimum over [b_min, b_max] is at its vertex clipped to the limits. With more
    DFE taps, the unclipped DFE: 1 / q - 1, q = h0' R'^-1 h0, R' = R - Hb' Hb. Adding noise (the
    quantization step) only raises the bound and the MSE alike. -inf when the system is not positive
    definite (no bound).
    """
    span = r_row.size
    nb = h_rows.shape[0] - 1
    lo = np.empty((span, span))
    z = np.zeros((nb + 1, span))
    downdate = nb != 1  # one DFE tap: factor R itself and clip b; else R' = R - Hb' Hb
    for i in range(span):
        for j in range(i + 1):
            acc = r_row[i - j]
            if downdate:
                for k in range(nb):
                    acc -= h_rows[1 + k, i] * h_rows[1 + k, j]
            for k in range(j):
                acc -= lo[i, k] * lo[j, k]
            if i == j:
                if acc <= 0.0:
                    return -np.inf
                lo[i, i] = np.sqrt(acc)
            else:
                lo[i, j] = acc / lo[j, j]
        for u in range(nb + 1 if not downdate else 1):
            acc = h_rows[u, i]
            for k in range(i):
                acc -= lo[i, k] * z[u, k]
            z[u, i] = acc / lo[i, i]
    a = 0.0
    for i in range(span):
        a += z[0, i] * z[0, i]
    if a <= 0.0:
        return -np.inf
    if downdate:
        return 1.0 / a - 1.0
    c, d = 0.0, 0.0
    for i in range(span):
        c += z[0, i] * z[1, i]
        d += z[1, i] * z[1, i]
    curvature = a * (1.0 - d) + c * c
    if curvature <= 0.0:
        return -np.inf
    b = min(max(c / curvature, b_min[0]), b_max[0])
    return b * b - 1.0 + (1.0 - b * c) ** 2 / a - b * b * d
