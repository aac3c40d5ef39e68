"""The IEEE 802.3 power weighting function used by FOM_ILD and ICN (Equation 93A-57 form).

Its transmitter edge is set by a 20-80 % transition time T_t (f_t = 0.2365 / T_t). Each clause
gives its own T_t (``accbench.dsp.com.figures`` reads it from the clause table); ``default_transition_s``
is only the fallback for analyses run without a clause.
"""

from __future__ import annotations

import numpy as np

# 802.3ck MATLAB COM sheet config_com_ieee8023_93a=3ck_SA_CR_CA_08_17_2022.xlsx (Omer-Sella/COM @ e51902a7):
# f_b 53.125 GBd (cell B3) and f_v = f_f = f_n = 0.59356862745098038 * f_b (K27..K29), i.e.
# T_t = 0.2365 / (f_v f_b) = 7.5 ps, equal to the sheet's T_r (G14). Not checked against the standard's text.
CK_SHEET_BAUD = 53.125e9
CK_SHEET_F_V = 0.59356862745098038
CK_SHEET_TRANSITION_S = 0.2365 / (CK_SHEET_F_V * CK_SHEET_BAUD)  # 7.5 ps = 0.398 UI


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
    """Fallback T_t without a clause: the 802.3ck sheet's 7.5 ps at 53.125 GBd, kept at 0.398 UI for other bauds.

    Exact (sourced) only at 53.125 GBd; at other bauds it is a scaling convention, not a clause value,
    so pass the clause's T_t (``accbench.dsp.com.figures.ild_settings``) whenever a clause applies.
    """
    return CK_SHEET_TRANSITION_S * CK_SHEET_BAUD / baud
