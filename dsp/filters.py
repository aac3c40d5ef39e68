"""Frequency responses of the link's linear blocks: TX launch filter, RX filter, CTLE, PCB loss.

Plain functions of a frequency array (Hz); all are causal rational or transmission-line forms.
"""

from __future__ import annotations

import numpy as np
from accbench.dsp.dielectric import complex_permittivity
from accbench.dsp.tline import line_s2p

_BT4 = np.array([1.0, 10.0, 45.0, 105.0, 105.0])  # s^4 + 10 s^3 + 45 s^2 + 105 s + 105
_BT4_3DB = 2.1139176749042
_BW4 = np.array([1.0, 2.613126, 3.414214, 2.613126, 1.0])


def bessel_thomson(freq_hz: np.ndarray, f3db_hz: float) -> np.ndarray:
    """4th-order Bessel-Thomson low-pass with its -3 dB point at ``f3db_hz`` (TX launch filter)."""
    s = 1j * _BT4_3DB * np.asarray(freq_hz) / f3db_hz
    return 105.0 / np.polyval(_BT4, s)


def butterworth4(freq_hz: np.ndarray, f3db_hz: float) -> np.ndarray:
    """4th-order Butterworth low-pass (the IEEE 802.3 COM receiver noise filter, fr)."""
    return 1.0 / np.polyval(_BW4, 1j * np.asarray(freq_hz) / f3db_hz)


def ctle(freq_hz: np.ndarray, baud: float, gdc_db: float, gdc2_db: float = 0.0,
         fz_ratio: float = 1 / 2.5, fp1_ratio: float = 1 / 2.5, fp2_ratio: float = 1.0,
         flf_ratio: float = 1 / 80) -> np.ndarray:
    """IEEE 802.3 COM CTLE: (g + jf/fz)/((1 + jf/fp1)(1 + jf/fp2)) * (g2 + jf/fLF)/(1 + jf/fLF).

    Frequencies of zero and poles are ratios of the baud (802.3dj: fz = fp1 = fb/2.5,
    fp2 = fb, fLF = fb/80); gdc_db and gdc2_db (<= 0) set the low-frequency attenuation.
    """
    f = np.asarray(freq_hz)
    fz, fp1, fp2, flf = fz_ratio * baud, fp1_ratio * baud, fp2_ratio * baud, flf_ratio * baud
    g, g2 = 10 ** (gdc_db / 20), 10 ** (gdc2_db / 20)
    hf = (g + 1j * f / fz) / ((1 + 1j * f / fp1) * (1 + 1j * f / fp2))
    lf = (g2 + 1j * f / flf) / (1 + 1j * f / flf)
    return hf * lf


def ctle_terms(freq_hz: np.ndarray, baud: float, fz_ratio: float = 1 / 2.5, fp1_ratio: float = 1 / 2.5,
               fp2_ratio: float = 1.0, flf_ratio: float = 1 / 80) -> np.ndarray:
    """The CTLE as four responses (4, len(freq)) whose sum weighted by (g g2, g, g2, 1) is ``ctle``.

    With g = 10^(gdc/20) and g2 = 10^(gdc2/20) the CTLE is bilinear in (g, g2):
    (g A + B)(g2 E + F) with A = 1/((1 + jf/fp1)(1 + jf/fp2)), B = (jf/fz) A, E = 1/(1 + jf/fLF) and
    F = (jf/fLF) E; so a whole grid of settings is a linear combination of four responses
    (a link model filters four responses instead of one per setting).
    """
    f = np.asarray(freq_hz)
    fz, fp1, fp2, flf = fz_ratio * baud, fp1_ratio * baud, fp2_ratio * baud, flf_ratio * baud
    a = 1.0 / ((1 + 1j * f / fp1) * (1 + 1j * f / fp2))
    b = (1j * f / fz) * a
    e = 1.0 / (1 + 1j * f / flf)
    lf = (1j * f / flf) * e
    return np.stack([a * e, a * lf, b * e, b * lf])


def ctle_weights(gdc_db: np.ndarray, gdc2_db: np.ndarray) -> np.ndarray:
    """Weights (..., 4) of the ``ctle_terms`` for settings (gdc_db, gdc2_db) (broadcast together)."""
    g, g2 = np.broadcast_arrays(10 ** (np.asarray(gdc_db, dtype=float) / 20),
                                10 ** (np.asarray(gdc2_db, dtype=float) / 20))
    return np.stack([g * g2, g, g2, np.ones_like(g)], axis=-1)


def pcb_trace(freq_hz: np.ndarray, loss_db: float, at_hz: float, eps_r: float = 3.5,
              tan_delta: float = 0.004, skin_db_share: float = 0.35) -> np.ndarray:
    """Causal differential PCB trace (100 ohm, matched) with ``loss_db`` of loss at ``at_hz``.

    A line with skin-effect resistance (sqrt(jf), so causal) and a Djordjevic-Sarkar
    dielectric; ``skin_db_share`` of the loss at ``at_hz`` is conductor loss. Its length is
    scaled to give exactly ``loss_db`` there. Used for host channels and paddle cards.
    """
    f = np.asarray(freq_hz, dtype=float)
    if loss_db <= 0:
        return np.ones(f.shape, dtype=complex)
    c0 = 299792458.0
    z0 = 100.0
    l_per_m = z0 * np.sqrt(eps_r) / c0
    c_per_m = np.sqrt(eps_r) / (c0 * z0)
    alpha_d = np.pi * at_hz * np.sqrt(eps_r) * tan_delta / c0  # Np/m at `at_hz`
    r_at = 2 * z0 * alpha_d * skin_db_share / (1 - skin_db_share)  # ohm/m at `at_hz`

    def per_metre(freq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # skin effect R (1 + j) sqrt(f / at): resistance and internal inductance, causal
        z = 1j * 2 * np.pi * freq * l_per_m + r_at * (1 + 1j) * np.sqrt(freq / at_hz)
        y = 1j * 2 * np.pi * freq * c_per_m * complex_permittivity(freq, eps_r, tan_delta) / eps_r
        return z, y

    _, s21_1m = line_s2p(*per_metre(np.array([at_hz])), 1.0, z0)
    length = loss_db / (-20 * np.log10(np.abs(s21_1m[0])))
    _, s21 = line_s2p(*per_metre(f), length, z0)
    return s21
