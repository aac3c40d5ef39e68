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

N_TX = 7  # transmitter taps c(-3) .. c(3): delays 0 .. 6 UI


def fold(pulses: np.ndarray, spu: int) -> np.ndarray:
    """(spu, 4, UIs): ``pulses`` (4, W) cut into whole UIs, phase-major and contiguous."""
    uis = -(-pulses.shape[-1] // spu)
    padded = np.pad(pulses, ((0, 0), (0, uis * spu - pulses.shape[-1])))
    return np.ascontiguousarray(padded.reshape(pulses.shape[0], uis, spu).transpose(2, 0, 1))


def slope_basis(pulses: np.ndarray, spu: int) -> np.ndarray:
    """The central-difference slope (V/UI) of each basis pulse, zero beyond its window (178A-23)."""
    padded = np.pad(pulses, ((0, 0), (1, 1)))
    return (padded[:, 2:] - padded[:, :-2]) * (spu / 2.0)


def cross_correlations(q: np.ndarray, lmax: int) -> np.ndarray:
    """(spu, 4, 4, 2 lmax + 1): X[s, a, b, L] = sum_k q[s, a, k] q[s, b, k + L] for L = -lmax .. lmax."""
    uis = q.shape[-1]
    n = 1 << int(np.ceil(np.log2(uis + lmax + 1)))
    spec = sfft.rfft(q, n=n, axis=-1, workers=-1)
    pairs = [(a, b) for a in range(4) for b in range(a, 4)]
    cross = np.stack([np.conj(spec[:, a]) * spec[:, b] for a, b in pairs], axis=1)
    x = sfft.irfft(cross, n=n, axis=-1, workers=-1)
    out = np.empty((q.shape[0], 4, 4, 2 * lmax + 1))
    for k, (a, b) in enumerate(pairs):
        two_sided = np.concatenate([x[:, k, n - lmax:], x[:, k, :lmax + 1]], axis=-1)
        out[:, a, b] = two_sided
        out[:, b, a] = two_sided[:, ::-1]
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

    @classmethod
    def of(cls, kind: str, name: str, pulses: np.ndarray, spu: int, lags: int) -> FoldedPath:
        """Fold ``pulses`` (4, W) and correlate them for autocorrelations at lags 0 .. lags - 1."""
        q = fold(pulses, spu)
        return cls(kind, name, spu, q, cross_correlations(q, lags + N_TX - 2))

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
