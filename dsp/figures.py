"""Loss figures of a differential channel from its mixed-mode S-parameters (plain functions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from accbench.dsp.weighting import power_weight


def db(x: np.ndarray) -> np.ndarray:
    """20 log10 |x|, floored at -300 dB."""
    return 20 * np.log10(np.maximum(np.abs(x), 1e-15))


def loss_at(freq_hz: np.ndarray, s: np.ndarray, f_hz: float) -> float:
    """Loss -20log10|s| at ``f_hz`` (positive dB), interpolated linearly in dB between points."""
    return float(np.interp(f_hz, freq_hz, -db(s)))


@dataclass(frozen=True)
class IlFit:
    """Least-squares IL_fitted(f) = a0 + a1 sqrt(f) + a2 f + a4 f^2, f in GHz, over a band."""

    coeffs_db: tuple[float, float, float, float]  # a0, a1, a2, a4 (dB, dB/sqrt(GHz), dB/GHz, dB/GHz^2)
    f_min_hz: float
    f_max_hz: float

    def __call__(self, freq_hz: np.ndarray) -> np.ndarray:
        return _basis(np.asarray(freq_hz, dtype=float)) @ np.asarray(self.coeffs_db)


def _basis(freq_hz: np.ndarray) -> np.ndarray:
    g = freq_hz / 1e9
    return np.column_stack([np.ones_like(g), np.sqrt(g), g, g * g])


def fit_il(freq_hz: np.ndarray, il_db: np.ndarray, f_min_hz: float, f_max_hz: float) -> IlFit:
    """Fit IL (positive dB) over [f_min, f_max] as in IEEE 802.3 (a0 + a1 sqrt f + a2 f + a4 f^2)."""
    band = (freq_hz >= f_min_hz) & (freq_hz <= f_max_hz)
    coeffs, *_ = np.linalg.lstsq(_basis(freq_hz[band]), il_db[band], rcond=None)
    return IlFit(tuple(float(c) for c in coeffs), f_min_hz, f_max_hz)


@dataclass(frozen=True)
class IldFigures:
    """Insertion loss deviation over the fit band: peak |ILD|, rms ILD, and weighted FOM_ILD."""

    ild_peak_db: float
    ild_rms_db: float
    fom_ild_db: float


def ild_figures(freq_hz: np.ndarray, il_db: np.ndarray, fit: IlFit, baud: float,
                transition_s: float, rx_bw_ratio: float = 0.75) -> IldFigures:
    """ILD = IL - IL_fitted on the fit band; FOM_ILD = sqrt(mean(W * ILD^2)) (IEEE 802.3 93A-56)."""
    band = (freq_hz >= fit.f_min_hz) & (freq_hz <= fit.f_max_hz)
    f = freq_hz[band]
    ild = il_db[band] - fit(f)
    weight = power_weight(f, baud, transition_s, rx_bw_ratio)
    return IldFigures(
        ild_peak_db=float(np.max(np.abs(ild))),
        ild_rms_db=float(np.sqrt(np.mean(ild**2))),
        fom_ild_db=float(np.sqrt(np.mean(weight * ild**2))),
    )


def impulse_peak_delay_s(freq_hz: np.ndarray, s21: np.ndarray, f_max_hz: float) -> float:
    """Time of the largest sample of the (Hann-windowed) impulse response of ``s21``."""
    f = freq_hz
    step = float(np.median(np.diff(f)))
    grid = np.arange(0.0, min(f[-1], f_max_hz) + step / 2, step)
    mag = np.interp(grid, f, np.abs(s21))
    phase = np.interp(grid, f, np.unwrap(np.angle(s21)))
    spectrum = mag * np.exp(1j * phase)
    n_fft = 8 * 2 * (grid.size - 1)
    impulse = np.fft.irfft(spectrum * np.hanning(2 * grid.size)[grid.size:], n=n_fft)
    dt = 1.0 / (n_fft * step)
    return int(np.argmax(np.abs(impulse[: n_fft // 2]))) * dt


def propagation_delay_s(freq_hz: np.ndarray, s21: np.ndarray, f_max_hz: float) -> float:
    """Phase delay of ``s21``: a coarse peak of the impulse response, refined by the phase slope.

    The impulse peak (inverse FFT on the uniform grid) is free of phase-unwrapping errors;
    the residual phase after removing that delay is then smooth, and its least-squares
    slope below ``f_max_hz`` gives the delay to a fraction of a picosecond.
    """
    f = freq_hz
    coarse = impulse_peak_delay_s(f, s21, f_max_hz)
    band = (f > 0) & (f <= f_max_hz) & (np.abs(s21) > 1e-6)
    residual = np.unwrap(np.angle(s21[band] * np.exp(2j * np.pi * f[band] * coarse)))
    w = 2 * np.pi * f[band]
    weights = np.abs(s21[band])
    slope = np.sum(weights * w * residual) / np.sum(weights * w * w)
    return float(coarse - slope)
