"""The 93A figure of merit (802.3ck): Mueller-Mueller cursor, a DFE with floating taps, FOM of 93A-36.

As MATLAB COM v4.50 computes it (the reference implementation behind the 802.3ck configuration sheets):
the cursor minimises |h(i - M) - max(h(i + M) - b_max(1) h(i), 0)| over two UIs from the last upward
crossing of 1 % of the peak before it (93A-25); post-cursors 1..N_b are cancelled within
[b_min, b_max] h(0), and N_bg banks of N_bf floating taps within N_f UI are placed where they remove
the most ISI (each tap within +-bmaxg h(0); taps from N_tail_start on share an RSS limit); what is not
cancelled is residual ISI. FOM = 20 log10(A_s / sqrt(sigma_TX^2 + sigma_ISI^2 + sigma_J^2 + sigma_XT^2
+ sigma_N^2)) with sigma_TX = h(0) 10^(-SNR_TX/20) (93A-30..36).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from accbench.dsp.com import pulses as pu
from accbench.dsp.com.evaluate import NO_TX_FFE, Setup
from accbench.dsp.com.folded import energy, head_range, live_range, samples_range, tap_autocorr
from numba import njit

PEAK_WINDOW_UI = 20
CROSSING_SHARE = 0.01
XT_SHARE = 1e-3  # crosstalk samples below this share of A_s are left out of sigma_XT


@njit(cache=True, nogil=True)
def _cursor(h: np.ndarray, off: int, size: int, anchor: int, spu: int, b1_max: float) -> int:
    """``cursor_index`` on a window ``h`` holding samples off .. of a pulse of ``size`` samples."""
    lo, hi = max(anchor - PEAK_WINDOW_UI * spu, 0), min(anchor + PEAK_WINDOW_UI * spu, size)
    i_pk = lo
    for i in range(lo, hi):
        if h[i - off] > h[i_pk - off]:
            i_pk = i
    h_pk = h[i_pk - off]
    start = max(i_pk - 4 * spu, 1)
    z = i_pk - spu
    for j in range(i_pk - start, -1, -1):  # the last upward crossing of 1 % of the peak before it
        if h[start + j - off] >= CROSSING_SHARE * h_pk and not h[start + j - 1 - off] >= CROSSING_SHARE * h_pk:
            z = start + j
            break
    best, best_metric = -1, np.inf
    for i in range(z, min(z + 2 * spu + 1, size - spu)):
        metric = abs(h[i - spu - off] - max(h[i + spu - off] - b1_max * h[i - off], 0.0))
        if metric < best_metric:
            best, best_metric = i, metric
    return best


def cursor_index(h: np.ndarray, anchor: int, spu: int, b1_max: float) -> int:
    """The Mueller-Mueller cursor of pulse ``h`` near ``anchor`` (the unequalised pulse's peak).

    The built-in cursor rule; ``fom_93a`` runs it compiled. To use another rule, set ``Setup.cursor_rule``
    (a function with this signature); rebinding this module attribute has no effect on ``fom_93a``."""
    return int(_cursor(np.ascontiguousarray(h, dtype=float), 0, h.size, anchor, spu, b1_max))


@njit(cache=True, nogil=True)
def _banks(post: np.ndarray, c: float, nb: int, banks: int, bank_taps: int, span: int, b_float: float) -> np.ndarray:
    """``floating_banks``, compiled: the DFE tap numbers of the floating banks, ascending."""
    nc = span - nb
    a = np.abs(post[nb:span])
    r = np.zeros(a.size)
    if c >= 0:
        for i in range(a.size):
            r[i] = max(0.0, a[i] - b_float * c)
    starts = nc - bank_taps + 1
    gain = np.empty(starts)
    for s in range(starts):
        acc = 0.0
        for i in range(s, s + bank_taps):
            acc += a[i] ** 2 - r[i] ** 2
        gain[s] = acc
    chosen = np.zeros(nc + 3 * bank_taps, dtype=np.bool_)
    pending = -1
    left = np.empty(2, dtype=np.int64)
    for k in range(banks):
        rank = np.argsort(-gain, kind="mergesort")
        lead = (banks - 1) * bank_taps + 1
        if k == 0 and lead <= starts and rank[:lead].max() < lead:
            chosen[:banks * bank_taps] = True
            break
        if pending >= 0:
            s = pending
            chosen[s:s + bank_taps] = True
            for x in range(max(0, s - 2), s + bank_taps):
                if x < starts:
                    gain[x] = -np.inf
            pending = -1
            continue
        s = rank[0]
        if k == banks - 1:
            chosen[s:s + bank_taps] = True
            break
        n_left = 0
        for attempt in range(nc):
            n_left = 0
            for x in (s - 2, s - 1):
                if x >= 0 and not chosen[x]:
                    left[n_left] = x
                    n_left += 1
            adj = s - 3
            if n_left == 0:
                break
            if attempt:
                rank = np.argsort(-gain, kind="mergesort")
            found, first_out = False, -1
            for i in range(rank.size):
                x = rank[i]
                if x == adj:
                    found = True
                    break
                if not (s <= x < s + bank_taps or (n_left > 0 and x == left[0]) or (n_left > 1 and x == left[1])):
                    first_out = i
                    break
            if not found and first_out >= 0:
                ahead = False
                for i in range(first_out):
                    for m in range(n_left):
                        if rank[i] == left[m]:
                            ahead = True
                if ahead:
                    gain[s] = -np.inf
                    s = rank[1]
                    continue
            if found:
                pending = adj
            break
        chosen[s:s + bank_taps] = True
        for x in range(s, s + bank_taps):
            if 0 <= x < starts:
                gain[x] = -np.inf
        for m in range(n_left):
            if left[m] < starts:
                gain[left[m]] = -np.inf
    return nb + 1 + np.nonzero(chosen[:nc])[0]


def floating_banks(post: np.ndarray, c: float, nb: int, banks: int, bank_taps: int, span: int, b_float: float
                   ) -> list[int]:
    """DFE tap numbers (nb+1 .. span) of the floating banks (MATLAB COM ``findbankloc``): greedy by the ISI
    energy a bank removes; a bank whose left neighbours rank high is followed by the bank just left of it."""
    post = np.ascontiguousarray(post, dtype=float)
    return [int(n) for n in _banks(post, float(c), nb, banks, bank_taps, span, float(b_float))]


@dataclass
class DfeLimits:
    """Per-tap limits (relative to h(0)) of the fixed and floating DFE taps 1 .. span."""

    b_min: np.ndarray
    b_max: np.ndarray


def dfe_limits(s: Setup, post: np.ndarray, c: float) -> DfeLimits:
    """Limits of DFE taps 1..N_f: the clause's fixed taps, floating banks where placed, zero elsewhere."""
    p = s.p
    nb = p.b_max.size
    fl = p.floating_dfe
    if not fl:
        return DfeLimits(p.b_min.copy(), p.b_max.copy())
    span = int(fl["span_ui"])
    taps = floating_banks(post, c, nb, int(fl["groups"]), int(fl["taps"]), span, float(fl["b_max"]))
    b_max = np.concatenate([p.b_max, np.zeros(span - nb)])
    b_min = np.concatenate([p.b_min, np.zeros(span - nb)])
    for n in taps:
        b_max[n - 1], b_min[n - 1] = fl["b_max"], -fl["b_max"]
    return DfeLimits(b_min, b_max)


@njit(cache=True, nogil=True)
def _cancel(d: np.ndarray, c: float, b_min: np.ndarray, b_max: np.ndarray, tail_t0: int, rss_max: float
            ) -> np.ndarray:
    """``cancel``, compiled: ``d`` clipped to [c b_min, c b_max]; the tail's limits rescaled in place."""
    n = b_max.size
    sub = np.empty(n)
    for i in range(n):
        sub[i] = min(max(d[i], c * b_min[i]), c * b_max[i])
    if 0 <= tail_t0 < n:
        rss = 0.0
        if c != 0.0:
            acc = 0.0
            for i in range(tail_t0, n):
                acc += (sub[i] / c) ** 2
            rss = np.sqrt(acc)
        if rss != 0.0 and rss >= rss_max:
            for i in range(tail_t0, n):
                scale = rss_max * abs(sub[i] / c) / rss
                b_max[i], b_min[i] = scale, -scale
            for i in range(n):
                sub[i] = min(max(d[i], c * b_min[i]), c * b_max[i])
    return sub


def _tail_limit(p) -> tuple[int, float]:
    """(index of the first DFE tap under the tail's RSS limit, that limit), or (-1, 0) where the clause has none."""
    fl = p.floating_dfe
    if fl and fl.get("tail_start_ui"):
        return int(fl["tail_start_ui"]) - 1, float(fl["rss_max"])
    return -1, 0.0


def cancel(s: Setup, post: np.ndarray, c: float, lim: DfeLimits) -> np.ndarray:
    """What the DFE subtracts from post-cursors 1..len(lim): clipped to the limits, the tail's RSS capped."""
    d = np.ascontiguousarray(post[:lim.b_max.size], dtype=float)
    return _cancel(d, float(c), lim.b_min, lim.b_max, *_tail_limit(s.p))


@njit(cache=True, nogil=True)
def _thru_93a(q: np.ndarray, x: np.ndarray, xs: np.ndarray, w: np.ndarray, taps: np.ndarray, acc: np.ndarray,
              anchor: int, head_uis: int, b1_max: float, b_min0: np.ndarray, b_max0: np.ndarray, banks: int,
              bank_taps: int, span: int, b_float: float, tail_t0: int, rss_max: float, ic_given: int, c_given: float):
    """The victim's part of the 93A FOM: (cursor index, h(0), DFE limits, residual ISI energy, slope energy).

    Only the samples the cursor search and the DFE touch are computed; the energy of every UI at the
    cursor phase comes from the cross-correlations (``folded.energy``), the DFE's share is taken out.
    ``ic_given`` >= 0: the cursor (with h(0) = ``c_given``) of another rule than the built-in one.
    """
    spu = q.shape[0]
    if ic_given >= 0:
        ic, c = ic_given, c_given
    else:
        size = head_uis * spu
        lo, hi = max(anchor - PEAK_WINDOW_UI * spu, 0), min(anchor + PEAK_WINDOW_UI * spu, size)
        u0 = max(lo - 4 * spu - 1, 0) // spu
        u1 = min((hi + 3 * spu) // spu + 1, head_uis)
        h = head_range(q, w, taps, u0, u1)
        ic = _cursor(h, u0 * spu, size, anchor, spu, b1_max)
        c = h[ic - u0 * spu]
    phase, cu = ic % spu, ic // spu
    nb = b_max0.size
    n = span if banks else nb
    post = samples_range(q, w, taps, phase, cu + 1, cu + 1 + n)
    b_min, b_max = np.zeros(n), np.zeros(n)
    b_min[:nb], b_max[:nb] = b_min0, b_max0
    if banks:
        for tap in _banks(post, c, nb, banks, bank_taps, span, b_float):
            b_max[tap - 1], b_min[tap - 1] = b_float, -b_float
    sub = _cancel(post, c, b_min, b_max, tail_t0, rss_max)
    resid = energy(x, w, acc, phase) - c * c
    for i in range(n):
        resid += (post[i] - sub[i]) ** 2 - post[i] ** 2
    return ic, c, b_min, b_max, max(resid, 0.0), energy(xs, w, acc, phase)


@njit(cache=True, nogil=True)
def _xt_power(q: np.ndarray, x: np.ndarray, prefix: np.ndarray, suffix: np.ndarray, w: np.ndarray, taps: np.ndarray,
              acc: np.ndarray, threshold: float) -> float:
    """Sum of squares of an aggressor's samples above ``threshold`` at the phase of its largest energy (93A-33);
    only the UIs where the envelope allows a sample above it are computed."""
    best, best_energy = 0, -np.inf
    for s in range(q.shape[0]):
        e = energy(x, w, acc, s)
        if e > best_energy:
            best, best_energy = s, e
    k0, k1 = live_range(prefix, suffix, w, taps, threshold)
    total = 0.0
    for v in samples_range(q, w, taps, best, k0, k1):
        if abs(v) > threshold:
            total += v * v
    return total


@dataclass
class Fom93a:
    fom_db: float
    g_dc_db: float
    g_dc2_db: float
    taps: np.ndarray
    cursor: int
    limits: DfeLimits
    sigma: dict


def _floating(p) -> tuple[int, int, int, float, int, float]:
    """The clause's floating DFE as the compiled FOM takes it: (banks, taps, span, limit, tail start, RSS max)."""
    fl = p.floating_dfe
    if not fl:
        return 0, 0, 0, 0.0, -1, 0.0
    return int(fl["groups"]), int(fl["taps"]), int(fl["span_ui"]), float(fl["b_max"]), *_tail_limit(p)


@dataclass(frozen=True)
class _Consts:
    """What ``fom_93a`` takes of a setup and its clause on every candidate, gathered once per setup."""

    b1_max: float
    floating: tuple
    sx: float  # sigma_X
    jitter: float  # sqrt(A_DD^2 + sigma_RJ^2)
    tx_share: float  # 10^(-SNR_TX/20)
    r_lm: float
    steps: int  # L - 1
    rx0: np.ndarray  # (4, 4) receiver noise basis at lag 0


def _consts(s: Setup) -> _Consts:
    key = (s.p, s.rx_basis)  # held, so compared by identity
    got = s.__dict__.get("_fom93a_consts")
    if got is None or got[0][0] is not key[0] or got[0][1] is not key[1]:
        p = s.p
        got = (key, _Consts(float(p.b_max[0]) if p.b_max.size else 0.0, _floating(p), math.sqrt(s.var_x),
                            math.sqrt(p.a_dd_ui**2 + p.sigma_rj_ui**2), 10 ** (-p.snr_tx_db / 20),
                            p.r_lm, p.levels - 1, np.ascontiguousarray(s.rx_basis[:, :, 0])))
        s.__dict__["_fom93a_consts"] = got
    return got[1]


NO_TX_ACC = tap_autocorr(NO_TX_FFE)


@njit(cache=True, nogil=True)
def _quadratic(m: np.ndarray, w: np.ndarray) -> float:
    """w^T m w for the 4 x 4 ``m`` (``Setup.rx_noise(w, 1)[0]``)."""
    total = 0.0
    for a in range(4):
        for b in range(4):
            total += w[a] * m[a, b] * w[b]
    return total


def fom_93a(s: Setup, g_dc_db: float, g_dc2_db: float, taps: np.ndarray) -> Fom93a:
    """The 93A.1.6 FOM of one candidate (see the module docstring)."""
    p = s.p
    k = _consts(s)
    w = pu.ctle_weights(g_dc_db, g_dc2_db)
    acc = tap_autocorr(taps)
    ic_given, c_given = -1, 0.0
    if s.cursor_rule is not None:  # another rule than the built-in one: on the head, in Python
        head = s.folded.head(w, taps, s.head_uis)
        ic_given = int(s.cursor_rule(head, s.anchor, s.spu, k.b1_max))
        c_given = float(head[ic_given])
    ic, c, b_min, b_max, resid, slope = _thru_93a(s.folded.q, s.folded.x, s.slope.x, w, taps, acc, s.anchor,
                                                  s.head_uis, k.b1_max, p.b_min, p.b_max, *k.floating,
                                                  ic_given, c_given)
    a_s = k.r_lm * c / k.steps
    sx = k.sx
    sigma_isi = sx * math.sqrt(resid)
    sigma_j = sx * k.jitter * math.sqrt(slope)
    sigma_tx = c * k.tx_share
    var_xt = 0.0
    for agg in s.folded_aggressors:
        nxt = agg.kind == "next"
        var_xt += _xt_power(agg.q, agg.x, *agg.envelope, w, NO_TX_FFE if nxt else taps, NO_TX_ACC if nxt else acc,
                            XT_SHARE * a_s)
    sigma_xt = sx * math.sqrt(var_xt)
    sigma_n = math.sqrt(max(_quadratic(k.rx0, w), 0.0))
    total = math.sqrt(sigma_tx**2 + sigma_isi**2 + sigma_j**2 + sigma_xt**2 + sigma_n**2)
    fom = 20 * math.log10(a_s / total) if a_s > 0 else -math.inf
    return Fom93a(fom, g_dc_db, g_dc2_db, taps, int(ic), DfeLimits(b_min, b_max),
                  {"tx": sigma_tx, "isi": sigma_isi, "j": sigma_j, "xt": sigma_xt, "n": sigma_n})
