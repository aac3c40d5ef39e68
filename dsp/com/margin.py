"""COM itself: the amplitude of noise and interference at the detector error ratio, for the chosen equaliser.

With the chosen transmitter FFE, CTLE and receiver FFE applied, the victim's pulse is sampled at the
cursor; A_s = R_LM h(0) / (L - 1); the residual ISI (DFE taps re-derived by zero forcing within their
limits, 93A-26, 93A-27), every aggressor at its phase, the dual-Dirac jitter A_DD h_J and the Gaussian
noise (transmitter, receiver, random jitter) each give a distribution (93A-39..43), quantization a
uniform one per FFE tap (178A-43..46); their convolution's quantile at DER_0 is A_ni (93A-45) and
COM = 20 log10(A_s / A_ni). The MLSD reference receiver of 178A.1.10 adds its advantage over the DFE.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from accbench.dsp.com import noise as nz
from accbench.dsp.com.evaluate import Fom, Setup, candidate_pulses
from numba import njit
from scipy import fft as sfft
from scipy.signal import fftconvolve

PMF_BIN_V = 1e-5  # largest PMF bin (MATLAB COM's default PDF bin size)
FILTER_SHARE = 1e-3  # pulse samples below this share of A_s are dropped (93A.1.7.1, note 2)


@dataclass(frozen=True)
class Margin:
    """COM and its parts (volts; COM in dB)."""

    com_db: float
    com_dfe_db: float
    a_s: float
    a_ni: float
    sigma_tx: float
    sigma_n: float
    sigma_j: float
    sigma_isi: float
    sigma_xt: float
    sigma_q: float
    dfe: list[float]
    mlsd_delta_db: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.maximum(fftconvolve(a, b, mode="same"), 0.0)
    return out / out.sum()


def _boxes(halves: list[int], npts: int) -> np.ndarray:
    """The PMF (``npts`` points, centred) of a sum of independent uniform errors, the k-th over 2 h_k + 1 bins
    (178A-33's quantization noise through each FFE tap): every box's transform multiplied in one FFT
    instead of one convolution per tap. A half width of zero is a unit impulse and changes nothing."""
    halves = [h for h in halves if h > 0]
    out = np.zeros(npts)
    reach = sum(halves)
    if not halves:
        out[npts // 2] = 1.0
        return out
    n = sfft.next_fast_len(2 * reach + 1, real=True)
    spectrum = np.ones(n // 2 + 1, dtype=complex)
    for h in halves:
        box = np.zeros(n)
        box[: 2 * h + 1] = 1.0 / (2 * h + 1)
        spectrum *= sfft.rfft(box)
    full = sfft.irfft(spectrum, n)[: 2 * reach + 1]  # centred on index ``reach``
    keep = min(reach, npts // 2)
    out[npts // 2 - keep: npts // 2 + keep + 1] = full[reach - keep: reach + keep + 1]
    out = np.maximum(out, 0.0)
    return out / out.sum()


def _filtered(samples: np.ndarray, a_s: float) -> np.ndarray:
    return samples[np.abs(samples) > FILTER_SHARE * a_s]


def _pmf(samples: np.ndarray, step: float, npts: int, levels: int) -> np.ndarray:
    return nz._delta_pmf(np.ascontiguousarray(samples, dtype=float), step, npts, levels)


def _ffe(pulse: np.ndarray, taps: np.ndarray, spu: int) -> np.ndarray:
    """``pulse`` through an FFE of ``taps`` spaced one UI (tap j delays by j UI)."""
    out = np.zeros(pulse.size + spu * taps.size)
    for j, t in enumerate(taps):
        if t:
            out[j * spu: j * spu + pulse.size] += t * pulse
    return out


@njit(cache=True, nogil=True)
def _ffe_at(pulse: np.ndarray, taps: np.ndarray, spu: int, idx: np.ndarray) -> np.ndarray:
    """``_ffe(pulse, taps, spu)[idx]`` for indices ``idx`` (zero outside the output), compiled: only the samples
    COM reads of the equalised pulses (a phase or two of them) are computed, with ``_ffe``'s arithmetic."""
    size = pulse.size + spu * taps.size
    out = np.zeros(idx.size)
    for j in range(taps.size):
        t = taps[j]
        if t != 0.0:
            for k in range(idx.size):
                src = idx[k] - j * spu
                if 0 <= idx[k] < size and 0 <= src < pulse.size:
                    out[k] += t * pulse[src]
    return out


def _ffe_phase(pulse: np.ndarray, taps: np.ndarray, spu: int, phase: int) -> np.ndarray:
    """``_ffe(pulse, taps, spu)[phase::spu]``."""
    size = pulse.size + spu * taps.size
    return _ffe_at(pulse, taps, spu, np.arange(phase, size, spu))


def _ffe_slope(pulse: np.ndarray, taps: np.ndarray, spu: int, index: int) -> np.ndarray:
    """``noise.slope_samples(_ffe(pulse, taps, spu), index, spu)``."""
    size = pulse.size + spu * taps.size
    ixs = index % spu + spu * np.arange(size // spu)
    return (_ffe_at(pulse, taps, spu, ixs + 1) - _ffe_at(pulse, taps, spu, ixs - 1)) * (spu / 2.0)


def com_178a(s: Setup, f: Fom) -> Margin:
    """COM of the candidate ``f`` (from ``evaluate.fom_178a``) per 178A.1.9 and 178A.1.10."""
    p, m, lim = s.p, s.spu, s.lim
    w_ctle, vic, htn, aggs = candidate_pulses(s, f.g_dc_db, f.g_dc2_db, f.taps)
    rx = f.rx_ffe / f.rx_ffe[lim.pre]
    cursor = f.ts + lim.pre * m
    phase, cui = cursor % m, cursor // m
    vic_eq = _ffe_phase(vic, rx, m, phase)  # the equalised pulse at the cursor's phase
    curs = vic_eq[cui]
    a_s = p.r_lm * curs / (p.levels - 1)
    var_x = s.var_x
    # Gaussian noise: receiver (93A-35 through the FFE), transmitter (178A-17 through the FFE), random jitter
    rx_taps_corr = nz.autocorr(rx, rx.size)
    r_rn = s.rx_noise(w_ctle, rx.size)
    var_n = float(rx_taps_corr[0] * r_rn[0] + 2 * rx_taps_corr[1:] @ r_rn[1:])
    var_tx = 10 ** (-p.snr_tx_db / 10) * float(np.sum(_ffe_phase(htn, rx, m, phase) ** 2))
    h_j = _ffe_slope(vic, rx, m, cursor)
    var_j = p.sigma_rj_ui**2 * var_x * float(np.sum(h_j**2))
    var_g = var_tx + var_j + var_n
    h_dd = _filtered(p.a_dd_ui * h_j, a_s)
    # residual ISI: every UI at the cursor phase, the DFE by zero forcing within its limits
    h_isi = vic_eq.copy()
    h_isi[cui] = 0.0
    nb = p.b_max.size
    post = h_isi[cui + 1: cui + 1 + nb]
    b = np.clip(post / curs, p.b_min[: post.size], p.b_max[: post.size])
    h_isi[cui + 1: cui + 1 + post.size] -= b * curs
    var_isi = var_x * float(np.sum(h_isi**2))
    h_isi_f = _filtered(h_isi, a_s)
    # crosstalk: each aggressor at the phase of its largest energy at the FFE input (178A-20)
    h_xts = []
    for agg in aggs:
        n = (agg.size // m) * m
        ph = int(np.argmax(np.sum(agg[:n].reshape(-1, m) ** 2, axis=0)))
        h_xts.append(_filtered(_ffe_phase(agg, rx, m, ph), a_s))
    # quantization (178A.1.9): the step from the noisy signal at the quantizer
    step_q = 0.0
    if p.n_qb:
        pre_vic = vic
        xts_pre = [nz.aggressor_samples(a, m) for a in aggs]
        hdd_pre = p.a_dd_ui * nz.slope_samples(pre_vic, f.ts, m)
        r_tn = 10 ** (-p.snr_tx_db / 10) * float(np.sum(nz.phase_samples(htn, f.ts, m) ** 2))
        var_gn = r_rn[0] + r_tn + var_x * p.sigma_rj_ui**2 * float(np.sum(nz.slope_samples(pre_vic, f.ts, m) ** 2))
        step_q = nz.quantization_step(p, nz.phase_samples(pre_vic, f.ts, m), var_gn, [*xts_pre, hdd_pre], 8001)
    var_q = float(np.sum(rx**2)) * step_q**2 / 12
    y, ystep, p_isi, p_j, _p_n, p_xt, p_q, total = _distributions(p, a_s, var_g, h_isi_f, h_dd, h_xts, step_q, rx)
    var_xt = float(np.sum(y**2 * p_xt))
    a_ni = _a_ni(y, total, p.der_0)
    com = 20 * np.log10(a_s / a_ni)
    delta = None
    com_dfe = com
    if p.mlsd:
        p_rest = _conv(_conv(_conv(p_isi, p_j), p_xt), p_q)
        delta = _mlsd_delta(s, f, w_ctle, p_rest, ystep, var_g, a_s, a_ni, b, rx, h_isi, htn, vic, aggs)
        com = max(com, com + delta)
    return Margin(float(com), float(com_dfe), float(a_s), float(a_ni), float(np.sqrt(var_tx)), float(np.sqrt(var_n)),
                  float(np.sqrt(var_j)), float(np.sqrt(var_isi)), float(np.sqrt(var_xt)), float(np.sqrt(var_q)),
                  [float(x) for x in b], None if delta is None else float(delta))


def _through_ffe(r: np.ndarray, taps_corr: np.ndarray, lags: int) -> np.ndarray:
    """Autocorrelation at the FFE output (lags 0 .. lags - 1) of noise with autocorrelation ``r`` at its input."""
    two_sided = np.concatenate([r[:0:-1], r])
    taps_two = np.concatenate([taps_corr[:0:-1], taps_corr])
    full = np.convolve(two_sided, taps_two)
    mid = full.size // 2
    return full[mid: mid + lags]


MLSD_LAGS = 256


def _mlsd_delta(s: Setup, f: Fom, w_ctle, p_rest, ystep, var_g, a_s, a_ni, b, rx, h_isi, htn, vic, aggs) -> float:
    """The MLSD's advantage over the DFE (178A-49..56) from the noise and residual ISI at the FFE output."""
    from accbench.dsp.com import mlsd

    p, m = s.p, s.spu
    var_x = s.var_x
    n_in = MLSD_LAGS + rx.size
    r_rn = s.rx_noise(w_ctle, n_in)
    r_n = r_rn.copy()
    for agg in aggs:
        r_n += var_x * nz.autocorr(nz.aggressor_samples(agg, m), n_in)
    r_n += 10 ** (-p.snr_tx_db / 10) * nz.autocorr(nz.phase_samples(htn, f.ts, m), n_in)
    r_n += var_x * (p.a_dd_ui**2 + p.sigma_rj_ui**2) * nz.autocorr(nz.slope_samples(vic, f.ts, m), n_in)
    r_n[0] += f.quant_step**2 / 12
    taps_corr = nz.autocorr(rx, rx.size)
    r_rn_out = _through_ffe(r_rn, taps_corr, MLSD_LAGS)
    pad = int(np.ceil(4 * a_ni * 10 ** (p.dcom_an_db / 20) / ystep))
    g_an, p_an = mlsd.added_noise(np.pad(p_rest, pad), ystep, var_g, float(r_rn_out[0]), p.der_0, p.dcom_an_db)
    r_ni = _through_ffe(r_n, taps_corr, MLSD_LAGS) + g_an * r_rn_out + var_x * nz.autocorr(h_isi, MLSD_LAGS)
    der = mlsd.der_mlsd(p_an, ystep, a_s, float(b[0]) if b.size else 0.0, r_ni / r_ni[0], p.levels)
    return 20 * np.log10(-mlsd.quantile(p_an, ystep, der) / a_s)


def _distributions(p, a_s, var_g, h_isi_f, h_dd, h_xts, step_q: float = 0.0, rx: np.ndarray | None = None):
    """(y, step, P_ISI, P_J, P_N, P_XT, P_Q, P_total) on one grid wide enough for all of them (93A-39..45)."""
    ystep = min(a_s / 1000, PMF_BIN_V)
    support = np.abs(h_isi_f).sum() + sum(np.abs(h).sum() for h in h_xts) + np.abs(h_dd).sum()
    if rx is not None:
        support += np.abs(rx).sum() * step_q / 2
    ymax = max(1.1 * a_s, support + 10 * np.sqrt(var_g) + 2 * ystep)
    npts = 2 * int(np.ceil(ymax / ystep)) + 1
    y = (np.arange(npts) - npts // 2) * ystep
    p_j = _pmf(h_dd, ystep, npts, p.levels)
    p_g = np.exp(-(y**2) / (2 * var_g)) * ystep / np.sqrt(2 * np.pi * var_g)
    p_n = _conv(p_g, p_j)
    p_isi = _pmf(h_isi_f, ystep, npts, p.levels)
    p_xt = np.zeros(npts)
    p_xt[npts // 2] = 1.0
    for h in h_xts:
        p_xt = _conv(p_xt, _pmf(h, ystep, npts, p.levels))
    halves = [round(abs(t) * step_q / 2 / ystep) for t in rx] if step_q and rx is not None else []
    p_q = _boxes(halves, npts)
    total = _conv(_conv(_conv(p_isi, p_n), p_xt), p_q)
    return y, ystep, p_isi, p_j, p_n, p_xt, p_q, total


def _a_ni(y: np.ndarray, total: np.ndarray, der_0: float) -> float:
    cdf = np.cumsum(total)
    cdf /= cdf[-1]
    return float(-y[int(np.argmax(cdf >= der_0))])


def com_93a(s: Setup, f) -> Margin:
    """COM of the 93A candidate ``f`` (from ``fom93a.fom_93a``): the DFE limits of its FOM reused (93A.1.7)."""
    from accbench.dsp.com.fom93a import cancel

    p, m = s.p, s.spu
    w_ctle, h, _htn, aggs = candidate_pulses(s, f.g_dc_db, f.g_dc2_db, f.taps)
    ic = f.cursor
    c = h[ic]
    a_s = p.r_lm * c / (p.levels - 1)
    seq = h[ic % m::m].copy()
    cu = ic // m
    post = seq[cu + 1:]
    sub = cancel(s, post, c, f.limits)
    seq[cu] = 0.0
    seq[cu + 1: cu + 1 + sub.size] -= sub
    var_x = s.var_x
    sigma_isi = float(np.sqrt(var_x * np.sum(seq**2)))
    h_isi_f = _filtered(seq, a_s)
    h_j = nz.slope_samples(h, ic, m)
    var_tx = (c * 10 ** (-p.snr_tx_db / 20)) ** 2
    var_n = float(s.rx_noise(w_ctle, 1)[0])
    var_j = p.sigma_rj_ui**2 * var_x * float(np.sum(h_j**2))
    var_g = var_tx + var_j + var_n
    h_dd = _filtered(p.a_dd_ui * h_j, a_s)
    h_xts = [_filtered(nz.aggressor_samples(agg, m), a_s) for agg in aggs]
    y, _, _, _, _, p_xt, _, total = _distributions(p, a_s, var_g, h_isi_f, h_dd, h_xts)
    a_ni = _a_ni(y, total, p.der_0)
    com = 20 * np.log10(a_s / a_ni)
    var_xt = float(np.sum(y**2 * p_xt))
    n = f.limits.b_max.size
    return Margin(float(com), float(com), float(a_s), float(a_ni), float(np.sqrt(var_tx)), float(np.sqrt(var_n)),
                  float(np.sqrt(var_j)), sigma_isi, float(np.sqrt(var_xt)), 0.0,
                  [float(x) for x in (sub[:n] / c)])
