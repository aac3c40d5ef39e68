"""Pulse responses folded by sampling phase, so a candidate's FOM touches only the samples it needs.

A path's pulse for CTLE weights w and transmitter taps c is sum_a w_a sum_n c_n q_a(t - n UI)
(``pulses``). Stored as ``q[s, a, k]`` (phase s of UI k), the symbol-spaced samples of one phase
are a 4-term weighted sum convolved with c, and the autocorrelation of those samples at any lag is a
quadratic form over the basis cross-correlations X[s, a, b, L] = sum_k q[s, a, k] q[s, b, k + L]:
    r_s(lag) = sum_ab w_a w_b sum_d A_c(d) X[s, a, b, lag + d],  A_c(d) = sum_n c_(n+d) c_n.
The cross-correlations are computed once per channel (FFTs along the UI axis); each candidate then
needs a few thousand multiply-adds instead of inverse FFTs of the whole pulse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft
from accbench.dsp.com.threads import threads
from numba import njit

N_TX = 7  # transmitter taps c(-3) .. c(3): delays 0 .. 6 UI


def fold(pulses: np.ndarray, spu: int) -> np.ndarray:
    """(spu, 4, UIs): ``pulses`` (4, W) cut into whole UIs (the last one zero-padded), phase-major and contiguous."""
    return _fold(np.ascontiguousarray(pulses, dtype=float), spu)


@njit(cache=True, nogil=True)
def _fold(pulses: np.ndarray, spu: int) -> np.ndarray:
    n, width = pulses.shape
    uis = -(-width // spu)
    out = np.zeros((spu, n, uis))
    for a in range(n):
        row = pulses[a]
        for k in range(uis):
            base = k * spu
            for s in range(min(spu, width - base)):
                out[s, a, k] = row[base + s]
    return out


def slope_basis(pulses: np.ndarray, spu: int) -> np.ndarray:
    """The central-difference slope (V/UI) of each basis pulse, zero beyond its window (178A-23)."""
    padded = np.pad(pulses, ((0, 0), (1, 1)))
    return (padded[:, 2:] - padded[:, :-2]) * (spu / 2.0)


PAIRS = tuple((a, b) for a in range(4) for b in range(a, 4))  # the basis pairs of a symmetric X


DIRECT_LAGS = 16  # up to this lmax the lags are summed directly (fewer operations than the FFTs)


@njit(cache=True, nogil=True)
def _direct_cross(q: np.ndarray, lmax: int) -> np.ndarray:
    """``cross_correlations`` by direct sums over the UI axis (for a few lags)."""
    spu, nb, uis = q.shape
    width = 2 * lmax + 1
    out = np.empty((spu, nb, nb, width))
    padded = np.zeros(uis + 2 * lmax)
    acc = np.empty(width)
    for s in range(spu):
        for b in range(nb):
            padded[lmax:lmax + uis] = q[s, b]
            for a in range(b + 1):
                qa = q[s, a]
                acc[:] = 0.0
                for k in range(uis):
                    v = qa[k]
                    for i in range(width):  # lag i - lmax: q[s, b, k + lag]
                        acc[i] += v * padded[k + i]
                for i in range(width):
                    out[s, a, b, i] = acc[i]
                    out[s, b, a, width - 1 - i] = acc[i]
    return out


def cross_correlations(q: np.ndarray, lmax: int) -> np.ndarray:
    """(spu, 4, 4, 2 lmax + 1): X[s, a, b, L] = sum_k q[s, a, k] q[s, b, k + L] for L = -lmax .. lmax.

    By FFTs along the UI axis, zero-padded to the smallest fast length that keeps the lags unwrapped;
    for at most ``DIRECT_LAGS`` lags either side, by direct sums.
    """
    if lmax <= DIRECT_LAGS:
        return _direct_cross(np.ascontiguousarray(q, dtype=float), lmax)
    uis = q.shape[-1]
    n = sfft.next_fast_len(uis + lmax + 1, real=True)
    spec = sfft.rfft(q, n=n, axis=-1, workers=threads())
    conj = np.conj(spec)
    cross = np.empty((q.shape[0], len(PAIRS), spec.shape[-1]), dtype=complex)
    for k, (a, b) in enumerate(PAIRS):
        np.multiply(conj[:, a], spec[:, b], out=cross[:, k])
    x = sfft.irfft(cross, n=n, axis=-1, workers=threads(), overwrite_x=True)
    out = np.empty((q.shape[0], 4, 4, 2 * lmax + 1))
    for k, (a, b) in enumerate(PAIRS):
        out[:, a, b, :lmax] = x[:, k, n - lmax:]
        out[:, a, b, lmax:] = x[:, k, :lmax + 1]
        out[:, b, a] = out[:, a, b, ::-1]
    return out


def tap_autocorr(taps: np.ndarray) -> np.ndarray:
    """A_c(d) for d = -6 .. 6."""
    return np.correlate(taps, taps, mode="full")


@dataclass
class FoldedPath:
    """One path's basis pulses by phase, and (on demand) their cross-correlations at whole-UI lags."""

    kind: str
    name: str
    spu: int
    q: np.ndarray = field(repr=False)  # (spu, 4, UIs)
    x: np.ndarray = field(repr=False)  # (spu, 4, 4, 2 L + 1) cross-correlations, L = lags + 5
    envelope: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # ``envelopes(q)``

    @classmethod
    def of(cls, kind: str, name: str, pulses: np.ndarray, spu: int, lags: int) -> FoldedPath:
        """Fold ``pulses`` (4, W) and correlate them for autocorrelations at lags 0 .. lags - 1."""
        q = fold(pulses, spu)
        return cls(kind, name, spu, q, cross_correlations(q, lags + N_TX - 2), envelopes(q))

    def live(self, weights: np.ndarray, taps: np.ndarray, threshold: float) -> tuple[int, int]:
        """UIs (k0, k1) outside which no sample of any phase can exceed ``threshold`` in magnitude."""
        return live_range(*self.envelope, weights, taps, threshold)

    def autocorr(self, weights: np.ndarray, taps: np.ndarray, lags: int) -> np.ndarray:
        """(spu, lags): autocorrelation of every phase's symbol-spaced samples at lags 0 .. lags - 1."""
        spu, n, _, width = self.x.shape
        z = np.outer(weights, weights).ravel() @ self.x.reshape(spu, n * n, width)  # (spu, width), by BLAS
        acc = tap_autocorr(taps)
        centre = self.x.shape[-1] // 2
        out = np.zeros((self.spu, lags))
        for i, a in enumerate(acc):
            if a:
                d = i - (N_TX - 1)
                out += a * z[:, centre + d: centre + d + lags]
        return out

    def samples(self, weights: np.ndarray, taps: np.ndarray, phase: int) -> np.ndarray:
        """The symbol-spaced samples (UIs + 6) of the pulse at ``phase``."""
        return np.convolve(weights @ self.q[phase], taps)

    def head(self, weights: np.ndarray, taps: np.ndarray, uis: int) -> np.ndarray:
        """The first ``uis`` UIs of the pulse (all phases), as a plain sample sequence."""
        base = np.einsum("a,sak->ks", weights, self.q[:, :, :uis])
        out = np.zeros((uis + N_TX - 1, self.spu))
        for n, c in enumerate(taps):
            if c:
                out[n:n + base.shape[0]] += c * base
        return out[:uis].ravel()


def envelopes(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(4, UIs) running maxima of |q| over every phase: up to each UI (prefix) and from it on (suffix)."""
    env = np.abs(q).max(axis=0)
    return np.maximum.accumulate(env, axis=1), np.maximum.accumulate(env[:, ::-1], axis=1)[:, ::-1].copy()


BOUND_MARGIN = 1.0 + 1e-9  # the bound's own rounding: a sample at the threshold stays computed


@njit(cache=True, nogil=True)
def live_range(prefix: np.ndarray, suffix: np.ndarray, w: np.ndarray, taps: np.ndarray, threshold: float
               ) -> tuple[int, int]:
    """UIs (k0, k1) of the symbol-spaced samples (UIs + 6 of them) outside which |sample| <= ``threshold``
    is proved: |sum_n c_n sum_a w_a q[a, k - n]| <= sum |c| sum_a |w_a| max_k' |q[a, k']| over the k' reached."""
    n_ui = prefix.shape[1]
    total = len(taps) + n_ui - 1
    scale = 0.0
    for c in taps:
        scale += abs(c)
    scale *= BOUND_MARGIN

    def bound(env: np.ndarray, j: int) -> float:
        acc = 0.0
        for a in range(4):
            acc += abs(w[a]) * env[a, j]
        return scale * acc

    lo, hi = 0, total  # k0: the first k whose samples may exceed (k - n <= k, prefix bound at min(k, n_ui - 1))
    while lo < hi:
        mid = (lo + hi) // 2
        if bound(prefix, min(mid, n_ui - 1)) > threshold:
            hi = mid
        else:
            lo = mid + 1
    k0 = lo
    lo, hi = k0, total  # k1: one past the last k whose samples may exceed (k - n >= k - 6, suffix bound)
    while lo < hi:
        mid = (lo + hi) // 2
        if bound(suffix, min(max(mid - len(taps) + 1, 0), n_ui - 1)) > threshold:
            lo = mid + 1
        else:
            hi = mid
    return k0, lo


@njit(cache=True, nogil=True)
def bound_before(prefix: np.ndarray, w: np.ndarray, taps: np.ndarray, j: int) -> float:
    """A bound on |sample| of every symbol-spaced sample (any phase) in UIs 0 .. j (``live_range``'s bound)."""
    scale = 0.0
    for c in taps:
        scale += abs(c)
    acc = 0.0
    for a in range(4):
        acc += abs(w[a]) * prefix[a, min(j, prefix.shape[1] - 1)]
    return scale * BOUND_MARGIN * acc


@njit(cache=True, nogil=True)
def samples_range(q: np.ndarray, w: np.ndarray, taps: np.ndarray, phase: int, k0: int, k1: int) -> np.ndarray:
    """Samples k0 .. k1 - 1 of the symbol-spaced pulse at ``phase`` (``FoldedPath.samples``, compiled):
    sum_n c_n sum_a w_a q[phase, a, k - n]; zero beyond the pulse's UIs + 6."""
    n_ui = q.shape[2]
    lo = max(k0 - taps.size + 1, 0)
    hi = min(k1, n_ui)
    base = np.zeros(max(hi - lo, 0))
    q0, q1, q2, q3 = q[phase, 0], q[phase, 1], q[phase, 2], q[phase, 3]
    for j in range(lo, hi):
        base[j - lo] = w[0] * q0[j] + w[1] * q1[j] + w[2] * q2[j] + w[3] * q3[j]
    out = np.zeros(k1 - k0)
    for n in range(taps.size):
        c = taps[n]
        if c != 0.0:
            first, last = max(k0, lo + n), min(k1, hi + n)  # k with lo <= k - n < hi
            for k in range(first, last):
                out[k - k0] += c * base[k - n - lo]
    return out


@njit(cache=True, nogil=True)
def head_range(q: np.ndarray, w: np.ndarray, taps: np.ndarray, u0: int, u1: int) -> np.ndarray:
    """UIs u0 .. u1 - 1 of the pulse, every phase, as a plain sample sequence (part of ``FoldedPath.head``);
    each phase's samples as ``samples_range`` computes them."""
    spu, _, n_ui = q.shape
    lo = max(u0 - taps.size + 1, 0)
    hi = min(u1, n_ui)
    out = np.zeros((u1 - u0) * spu)
    base = np.zeros(max(hi - lo, 0))
    seq = np.empty(u1 - u0)
    for s in range(spu):
        q0, q1, q2, q3 = q[s, 0], q[s, 1], q[s, 2], q[s, 3]
        for j in range(lo, hi):
            base[j - lo] = w[0] * q0[j] + w[1] * q1[j] + w[2] * q2[j] + w[3] * q3[j]
        seq[:] = 0.0
        for n in range(taps.size):
            c = taps[n]
            if c != 0.0:
                first, last = max(u0, lo + n), min(u1, hi + n)
                for k in range(first, last):
                    seq[k - u0] += c * base[k - n - lo]
        for k in range(u1 - u0):
            out[k * spu + s] = seq[k]
    return out


@njit(cache=True, nogil=True)
def energy(x: np.ndarray, w: np.ndarray, acc: np.ndarray, phase: int) -> float:
    """Sum of squares of the samples at ``phase`` (lag 0 of ``FoldedPath.autocorr``) from the cross-correlations
    ``x`` (spu, 4, 4, 2 L + 1), CTLE weights ``w`` and the transmitter taps' autocorrelation ``acc``."""
    centre = x.shape[-1] // 2
    half = acc.size // 2
    total = 0.0
    for i in range(acc.size):
        if acc[i] != 0.0:
            d = centre + i - half
            z = 0.0
            for a in range(4):
                for b in range(4):
                    z += w[a] * w[b] * x[phase, a, b, d]
            total += acc[i] * z
    return total


@njit(cache=True, nogil=True)
def phase_autocorr(x: np.ndarray, w: np.ndarray, acc: np.ndarray, phase: int, lags: int) -> np.ndarray:
    """One phase's row of ``FoldedPath.autocorr`` (lags 0 .. lags - 1), compiled: the quadratic form of the CTLE
    weights over the cross-correlations, then the transmitter taps' autocorrelation ``acc`` applied."""
    width = x.shape[-1]
    z = np.zeros(width)
    for a in range(4):
        for b in range(4):
            wab = w[a] * w[b]
            row = x[phase, a, b]
            for k in range(width):
                z[k] += wab * row[k]
    centre = width // 2
    half = acc.size // 2
    out = np.zeros(lags)
    for i in range(acc.size):
        c = acc[i]
        if c != 0.0:
            d = centre + i - half
            for k in range(lags):
                out[k] += c * z[d + k]
    return out


@njit(cache=True, nogil=True)
def loudest_phase(x: np.ndarray, w: np.ndarray, acc: np.ndarray) -> int:
    """The phase whose symbol-spaced samples carry the most energy (first of equals)."""
    best, best_energy = 0, -np.inf
    for s in range(x.shape[0]):
        e = energy(x, w, acc, s)
        if e > best_energy:
            best, best_energy = s, e
    return best
