"""The IEEE 802.3 power weighting function used by FOM_ILD and ICN (Equation 93A-57 form)."""

from __future__ import annotations

import numpy as np


def power_weight(freq_hz: np.ndarray, baud: float, transition_s: float,
                 rx_bw_ratio: float = 0.75) -> np.ndarray:
    """sinc^2(f/fb) / (1 + (f/ft)^4) / (1 + (f/fr)^8), ft = 0.2365 / T_t, fr = ratio * fb.

    The data spectrum (sinc^2), a Gaussian-like transmitter edge of 20-80 % time ``transition_s``
    and a 4th-order Butterworth-like receiver of bandwidth ``rx_bw_ratio * baud``.
    """
    f = np.asarray(freq_hz, dtype=float)
    f_t = 0.2365 / transition_s
    f_r = rx_bw_ratio * baud
    return np.sinc(f / baud) ** 2 / (1 + (f / f_t) ** 4) / (1 + (f / f_r) ** 8)


def default_transition_s(baud: float) -> float:
    """Transition time scaled to the baud: 24 ps at 25.78125 GBd (IEEE 802.3 Clause 92), i.e. 0.62 UI."""
    return 24e-12 * 25.78125e9 / baud
