"""Effective return loss (IEEE 802.3 93A.5) as MATLAB COM computes it for a cable assembly.

For each end (SDD11, SDD22): the reflection, shaped by a Gaussian edge of T_r (93A-46) with a fixed
delay, a fourth-order Butterworth at f_r f_b and a Tukey taper from f_r f_b to f_b, goes to the time
domain on a grid of one M-th of a UI (the file's own frequency step; magnitude and phase extended as
for COM); the impulse response is truncated after its last sample above 1e-5 of its peak; the pulse
response to one UI (PTDR) is gated at the fixture delay T_fx + 3 T_r and weighted (rho_x, N_bx,
beta_x); at the sampling phase of largest RMS its samples v_n give the distribution of
sum v_n A_n (A_n PAM4 levels, 0.1 mV bins), and ERL = -20 log10 of its quantile at DER_0.
ERL is the lower of the two ends.
"""

from __future__ import annotations

import numpy as np
import skrf as rf
from accbench.dsp.com.channel import differential, interpolate_transfer, rx_filter
from accbench.dsp.com.params import ClauseParams

DELAY_NS = 0.5
TRUNCATION = 1e-5
BIN_V = 1e-4


def _matlab_round(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _effective_reflection(v: np.ndarray, levels: int, der_0: float) -> float:
    """The DER_0 lower quantile of sum v_n A_n (A_n equiprobable PAM levels), on BIN_V bins."""
    if v.max() > BIN_V:
        v = v[np.abs(v) > BIN_V]
    amps = np.abs(v)
    lv = np.array([-1.0 + 2.0 * j / (levels - 1) for j in range(levels)])
    shifts = _matlab_round(np.outer(amps, lv) / BIN_V).astype(np.int64)
    lo = int(shifts.min(axis=1).sum()) if shifts.size else 0
    hi = int(shifts.max(axis=1).sum()) if shifts.size else 0
    pmf = np.zeros(hi - lo + 1)
    pmf[-lo] = 1.0
    for row in shifts:
        nxt = np.zeros_like(pmf)
        for s in row:
            if s >= 0:
                nxt[s:] += pmf[: pmf.size - s] / levels
            else:
                nxt[: pmf.size + s] += pmf[-s:] / levels
        pmf = nxt
    cdf = np.cumsum(pmf)
    x = (np.arange(pmf.size) + lo) * BIN_V
    return float(-x[int(np.argmax(cdf >= der_0))])


def _ptdr(reflection: np.ndarray, f: np.ndarray, p: ClauseParams, fixture_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(t, weighted pulse TDR) of one reflection on its own grid (f, Hz)."""
    e = p.erl
    t_r = float(e["t_r_ns"])
    f9 = f / 1e9
    fb = p.baud
    edge = np.exp(-2 * (np.pi * f9 * t_r / 1.6832) ** 2) * np.exp(-2j * np.pi * f9 * (DELAY_NS + 3 * t_r))
    f1, f2 = p.f_r * fb, fb
    taper = np.where(f < f1, 1.0, np.where(f > f2, 0.0,
                                           0.5 * np.cos(2 * np.pi * (f - f2) / (2 * (f2 - f1)) - np.pi) + 0.5))
    if not e.get("tukey_window", True):
        taper = np.ones_like(f)
    shaped = reflection * edge * rx_filter(f, p.f_r * fb) * taper
    m = p.samples_per_ui
    dt = 1 / (fb * m)
    step = f[2] - f[1]
    f_max = 1 / (2 * dt)
    n_f = round(f_max / step)
    f_out = np.arange(n_f + 1) * (f_max / n_f)
    h = interpolate_transfer(shaped, f, f_out)
    ir = np.fft.irfft(h, n=2 * n_f)
    t = np.arange(ir.size) / (step * 2 * n_f)
    mag = np.abs(ir)
    last = int(np.nonzero(mag > TRUNCATION * mag.max())[0][-1])
    ir, t = ir[: last + 1], t[: last + 1] - DELAY_NS * 1e-9
    tb = 1 / fb
    n_ui = int(e["n_ui"])
    end = np.nonzero(t >= n_ui * tb + fixture_s)[0]
    n_end = int(end[0]) if end.size else t.size - 1
    n_start = int(np.nonzero(t >= t_r * 1e-9)[0][0])
    ir, t = ir[n_start: n_end + 1], t[n_start: n_end + 1]
    pulse = np.convolve(ir, np.ones(m))[: ir.size]
    t0 = fixture_s + 3 * t_r * 1e-9
    n_bx, rho, beta = int(e["n_bx"]), float(e["rho_x"]), float(e["beta_x"])
    gate = np.nonzero(t >= t0)[0]
    n_tx = int(gate[0]) if gate.size else t.size
    after = np.nonzero(t > (n_bx + 1) * tb + t0)[0]
    n_dfe = int(after[0]) if after.size else t.size - 1
    w = np.ones(t.size)
    w[:n_tx] = 0.0
    x = (t[n_tx: n_dfe + 1] - t0) / tb
    g_loss = 10 ** (beta * (t[n_tx: n_dfe + 1] - ((n_bx + 1) * tb + t0)) / 20) if (n_bx > 0 and beta) else 1.0
    w[n_tx: n_dfe + 1] = g_loss * (1 + rho) * rho * np.exp(-((x - n_bx - 1) ** 2) / (1 + n_bx) ** 2)
    return t, w * pulse


def erl(thru: rf.Network, port_map, p: ClauseParams) -> dict:
    """ERL of both ends of a 4-port cable assembly (dB), the worst, and the clause's limit."""
    sdd = differential(thru, port_map)
    m = p.samples_per_ui
    fixture_s = float(p.erl["fixture_delay_ns"]) * 1e-9
    out = {}
    for port, name in ((0, "erl11_db"), (1, "erl22_db")):
        _, pw = _ptdr(sdd[:, port, port], thru.f, p, fixture_s)
        phases = [pw[k::m] for k in range(m)]
        best = phases[int(np.argmax([np.linalg.norm(v) for v in phases]))]
        r_eff = _effective_reflection(best, p.levels, p.der_0)
        out[name] = float(-20 * np.log10(r_eff)) if r_eff > 0 else float("inf")
    out["erl_db"] = min(out["erl11_db"], out["erl22_db"])
    out["limit_db"] = p.limits.get("erl_min_db")
    out["source"] = p.sources.get("erl", p.sources.get("default"))
    return out
