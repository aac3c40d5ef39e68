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

from dataclasses import dataclass

import numpy as np
from accbench.dsp.com import pulses as pu
from accbench.dsp.com.evaluate import NO_TX_FFE, Setup

PEAK_WINDOW_UI = 20
CROSSING_SHARE = 0.01


def cursor_index(h: np.ndarray, anchor: int, spu: int, b1_max: float) -> int:
    """The Mueller-Mueller cursor of pulse ``h`` near ``anchor`` (the unequalised pulse's peak)."""
    lo, hi = max(anchor - PEAK_WINDOW_UI * spu, 0), min(anchor + PEAK_WINDOW_UI * spu, h.size)
    i_pk = lo + int(np.argmax(h[lo:hi]))
    h_pk = h[i_pk]
    start = max(i_pk - 4 * spu, 1)
    above = h[start - 1: i_pk + 1] >= CROSSING_SHARE * h_pk
    ups = np.nonzero(above[1:] & ~above[:-1])[0]
    z = start + int(ups[-1]) if ups.size else i_pk - spu
    cands = np.arange(z, min(z + 2 * spu + 1, h.size - spu))
    metric = np.abs(h[cands - spu] - np.maximum(h[cands + spu] - b1_max * h[cands], 0.0))
    return int(cands[int(np.argmin(metric))])


def floating_banks(post: np.ndarray, c: float, nb: int, banks: int, bank_taps: int, span: int, b_float: float
                   ) -> list[int]:
    """DFE tap numbers (nb+1 .. span) of the floating banks (MATLAB COM ``findbankloc``): greedy by the ISI
    energy a bank removes; a bank whose left neighbours rank high is followed by the bank just left of it."""
    nc = span - nb
    a = np.abs(post[nb:span])
    r = np.maximum(0.0, a - b_float * c) if c >= 0 else np.zeros(nc)
    starts = nc - bank_taps + 1
    energy = np.array([np.sum(a[s:s + bank_taps] ** 2 - r[s:s + bank_taps] ** 2) for s in range(starts)])
    energy = energy.astype(float)
    chosen: list[int] = []
    pending: int | None = None

    def ranking() -> list[int]:
        return sorted(range(starts), key=lambda k: -energy[k])

    for k in range(banks):
        rank = ranking()
        if k == 0 and set(rank[: (banks - 1) * bank_taps + 1]) == set(range((banks - 1) * bank_taps + 1)):
            chosen = list(range(banks * bank_taps))
            break
        if pending is not None:
            s = pending
            chosen += list(range(s, s + bank_taps))
            for x in list(range(s, s + bank_taps)) + list(range(max(0, s - 2), s)):
                if x < starts:
                    energy[x] = -np.inf
            pending = None
            continue
        s = rank[0]
        if k == banks - 1:
            chosen += list(range(s, s + bank_taps))
            break
        left: list[int] = []
        for attempt in range(nc):
            left = [x for x in (s - 2, s - 1) if x >= 0 and x not in chosen]
            adj = s - 3
            if not left:
                break
            if attempt:
                rank = ranking()
            window = set(left) | set(range(s, s + bank_taps))
            found, first_out = False, None
            for i, x in enumerate(rank):
                if x == adj:
                    found = True
                    break
                if x not in window:
                    first_out = i
                    break
            if not found and first_out is not None and any(rank.index(x) < first_out for x in left if x in rank):
                energy[s] = -np.inf
                s = rank[1]
                continue
            if found:
                pending = adj
            break
        chosen += list(range(s, s + bank_taps))
        for x in list(range(s, s + bank_taps)) + left:
            if 0 <= x < starts:
                energy[x] = -np.inf
    return sorted({nb + 1 + j for j in chosen if j < nc})


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


def cancel(s: Setup, post: np.ndarray, c: float, lim: DfeLimits) -> np.ndarray:
    """What the DFE subtracts from post-cursors 1..len(lim): clipped to the limits, the tail's RSS capped."""
    p = s.p
    n = lim.b_max.size
    d = post[:n]
    sub = np.clip(d, c * lim.b_min, c * lim.b_max)
    fl = p.floating_dfe
    if fl and fl.get("tail_start_ui") and n >= int(fl["tail_start_ui"]):
        t0 = int(fl["tail_start_ui"]) - 1
        rss = float(np.linalg.norm(sub[t0:] / c)) if c else 0.0
        if rss and rss >= fl["rss_max"]:
            scale = fl["rss_max"] * np.abs(sub[t0:] / c) / rss
            lim.b_max[t0:], lim.b_min[t0:] = scale, -scale
            sub = np.clip(d, c * lim.b_min, c * lim.b_max)
    return sub


@dataclass
class Fom93a:
    fom_db: float
    g_dc_db: float
    g_dc2_db: float
    taps: np.ndarray
    cursor: int
    limits: DfeLimits
    sigma: dict


def fom_93a(s: Setup, g_dc_db: float, g_dc2_db: float, taps: np.ndarray) -> Fom93a:
    """The 93A.1.6 FOM of one candidate (see the module docstring)."""
    p, m = s.p, s.spu
    w = pu.ctle_weights(g_dc_db, g_dc2_db)
    head = s.folded.head(w, taps, s.head_uis)
    ic = cursor_index(head, s.anchor, m, float(p.b_max[0]) if p.b_max.size else 0.0)
    c = head[ic]
    a_s = p.r_lm * c / (p.levels - 1)
    seq = s.folded.samples(w, taps, ic % m)
    cu = ic // m
    post = seq[cu + 1:]
    lim = dfe_limits(s, post, c)
    n = lim.b_max.size
    sub = cancel(s, post, c, lim)
    resid = np.concatenate([seq[:cu], post[:n] - sub, post[n:]])
    sx = np.sqrt(s.var_x)
    sigma_isi = sx * float(np.linalg.norm(resid))
    h_j = s.slope.samples(w, taps, ic % m)
    sigma_j = sx * np.sqrt(p.a_dd_ui**2 + p.sigma_rj_ui**2) * float(np.linalg.norm(h_j))
    sigma_tx = c * 10 ** (-p.snr_tx_db / 20)
    var_xt = 0.0
    for agg in s.folded_aggressors:
        agg_taps = NO_TX_FFE if agg.kind == "next" else taps
        x = agg.samples(w, agg_taps, int(np.argmax(agg.autocorr(w, agg_taps, 1)[:, 0])))
        var_xt += float(np.sum(x[np.abs(x) > 1e-3 * a_s] ** 2))
    sigma_xt = sx * np.sqrt(var_xt)
    sigma_n = float(np.sqrt(max(s.rx_noise(w, 1)[0], 0.0)))
    total = np.sqrt(sigma_tx**2 + sigma_isi**2 + sigma_j**2 + sigma_xt**2 + sigma_n**2)
    fom = 20 * np.log10(a_s / total) if a_s > 0 else -np.inf
    return Fom93a(float(fom), g_dc_db, g_dc2_db, taps, ic, lim,
                  {"tx": sigma_tx, "isi": sigma_isi, "j": sigma_j, "xt": sigma_xt, "n": sigma_n})
