"""Integrated crosstalk noise (ICN) of NEXT/FEXT aggressors, as defined in IEEE 802.3 (92.10.7 form).

sigma_x^2 = 2 df / fb * sum_n W(f_n) * A^2 * |PSXT(f_n)|^2, with the power sum of all NEXT
(amplitude A_nt) and FEXT (A_ft) aggressors, W the power weighting of ``accbench.dsp.weighting``,
summed over the points from f_min to f_max (f_b unless the clause sets its own upper limit f_2).
The normalisation stays 2 df / f_b as in the equation above; MATLAB COM (since r276) divides by
f_2 instead, which gives sqrt(f_b / f_2) times more when a sheet sets f_2 below f_b.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from accbench.dsp.weighting import power_weight

from accbench.errors import InputError


@dataclass(frozen=True)
class IcnParams:
    """Disturber amplitudes (V peak), edge times (s) and band (Hz); None edge: the caller's T_t, None f_max: f_b."""

    a_nt_v: float = 0.6
    a_ft_v: float = 0.6
    t_nt_s: float | None = None
    t_ft_s: float | None = None
    rx_bw_ratio: float = 0.75
    f_min_hz: float = 0.05e9
    f_max_hz: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _power(freq_hz: np.ndarray, xt: list[np.ndarray], amplitude_v: float, baud: float,
           transition_s: float, params: IcnParams) -> float:
    if not xt:
        return 0.0
    f_max = params.f_max_hz or baud
    band = (freq_hz >= params.f_min_hz) & (freq_hz <= f_max)
    if band.sum() < 2:
        raise InputError("crosstalk files do not cover the ICN band f_min..f_max; they need the band of the thru")
    f = freq_hz[band]
    step = float(np.median(np.diff(f)))
    weight = power_weight(f, baud, transition_s, params.rx_bw_ratio)
    ps = np.sum([np.abs(x[band]) ** 2 for x in xt], axis=0)  # power sum
    return float(2 * step / baud * np.sum(weight * amplitude_v**2 * ps))


def icn_v(freq_hz: np.ndarray, next_sdd21: list[np.ndarray], fext_sdd21: list[np.ndarray],
          baud: float, params: IcnParams, default_transition_s: float) -> float:
    """Total ICN in V rms: sqrt(sigma_NEXT^2 + sigma_FEXT^2); ``default_transition_s``: T_t where params have none."""
    t_nt = params.t_nt_s or default_transition_s
    t_ft = params.t_ft_s or default_transition_s
    p_next = _power(freq_hz, next_sdd21, params.a_nt_v, baud, t_nt, params)
    p_fext = _power(freq_hz, fext_sdd21, params.a_ft_v, baud, t_ft, params)
    return float(np.sqrt(p_next + p_fext))
