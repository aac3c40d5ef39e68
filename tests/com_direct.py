"""The 178A and 93A figures of merit computed the direct way, for tests of the fast ones.

Full pulse responses (``evaluate.candidate_pulses``), every phase's autocorrelation by FFT of the
whole folded pulse, every noise term from the sampled sequences (``noise``), and the MMSE solved
by ``mmse.solve`` (dense solves, every floating-tap placement) at every sampling offset. No folded
correlations, no Schur complements, no hill-climb: what the fast path must reproduce.
"""

from __future__ import annotations

import numpy as np
from accbench.dsp.com import fom93a, mmse
from accbench.dsp.com import noise as nz
from accbench.dsp.com.evaluate import Setup, candidate_pulses


def _autocorr_full(x: np.ndarray, lags: int) -> np.ndarray:
    return np.array([float(x[: x.size - k] @ x[k:]) for k in range(lags)])


def fom_178a_direct(s: Setup, g_dc_db: float, g_dc2_db: float, taps: np.ndarray) -> tuple[float, int]:
    """(FOM dB, sampling offset from the peak) of one 178A candidate."""
    p, lim, m = s.p, s.lim, s.spu
    w, vic, htn, aggs = candidate_pulses(s, g_dc_db, g_dc2_db, taps)
    span = lim.span
    r_rn = s.rx_noise(w, span)
    r_xn = np.zeros(span)
    for agg in aggs:
        r_xn += s.var_x * _autocorr_full(nz.aggressor_samples(agg, m), span)
    var_j = s.var_x * (p.a_dd_ui**2 + p.sigma_rj_ui**2)
    var_rj = s.var_x * p.sigma_rj_ui**2
    peak = int(np.argmax(vic))
    best = (-np.inf, 0)
    for offset in range(-(m // 2), m // 2 + 1):
        ts = peak + offset
        h = nz.phase_samples(vic, ts, m)
        hj = nz.slope_samples(vic, ts, m)
        r_tn = 10 ** (-p.snr_tx_db / 10) * _autocorr_full(nz.phase_samples(htn, ts, m), span)
        r_jj = _autocorr_full(hj, span)
        rn = r_rn + r_xn + r_tn + var_j * r_jj
        if p.n_qb:
            var_g = r_rn[0] + r_xn[0] + r_tn[0] + var_rj * r_jj[0]
            rn[0] += nz.quantization_step(p, h, var_g) ** 2 / 12
        sol = mmse.solve(h, ts // m, _autocorr_full(h, span), rn, lim, p.b_min, p.b_max, s.var_x, p.r_lm,
                         p.levels)
        if sol.fom_db > best[0]:
            best = (sol.fom_db, offset)
    return best


def fom_93a_direct(s: Setup, g_dc_db: float, g_dc2_db: float, taps: np.ndarray) -> float:
    """FOM (dB) of one 93A candidate from its full pulses."""
    p, m = s.p, s.spu
    w, h, _htn, aggs = candidate_pulses(s, g_dc_db, g_dc2_db, taps)
    ic = fom93a.cursor_index(h, s.anchor, m, float(p.b_max[0]))
    c = h[ic]
    a_s = p.r_lm * c / (p.levels - 1)
    seq = h[ic % m::m]
    cu = ic // m
    post = seq[cu + 1:]
    lim = fom93a.dfe_limits(s, post, c)
    n = lim.b_max.size
    sub = fom93a.cancel(s, post, c, lim)
    resid = np.concatenate([seq[:cu], post[:n] - sub, post[n:]])
    var_isi = s.var_x * float(resid @ resid)
    var_j = s.var_x * (p.a_dd_ui**2 + p.sigma_rj_ui**2) * float(np.sum(nz.slope_samples(h, ic, m) ** 2))
    var_tx = (c * 10 ** (-p.snr_tx_db / 20)) ** 2
    var_xt = 0.0
    for agg in aggs:
        x = nz.aggressor_samples(agg, m)
        var_xt += s.var_x * float(np.sum(x[np.abs(x) > 1e-3 * a_s] ** 2))
    var_n = float(s.rx_noise(w, 1)[0])
    return float(20 * np.log10(a_s / np.sqrt(var_tx + var_isi + var_j + var_xt + var_n)))
