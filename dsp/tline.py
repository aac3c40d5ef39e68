"""S-parameters of a uniform transmission line from its per-metre series impedance and shunt admittance.

Built from the ABCD matrix with sinh(x)/x, so it stays exact and finite at DC, where the
characteristic impedance is infinite and the usual Zc/gamma form breaks down.
"""

from __future__ import annotations

import numpy as np


def _sinhc(x: np.ndarray) -> np.ndarray:
    """sinh(x)/x for complex x, 1 at x = 0."""
    out = np.ones_like(x)
    nz = np.abs(x) > 1e-12
    out[nz] = np.sinh(x[nz]) / x[nz]
    return out


def line_s2p(z_series: np.ndarray, y_shunt: np.ndarray, length_m: float,
             z_ref_ohm: float) -> tuple[np.ndarray, np.ndarray]:
    """(S11, S21) of a symmetric line of ``length_m`` in reference ``z_ref_ohm``.

    ``z_series`` (ohm/m) and ``y_shunt`` (S/m) are per-unit-length R + jwL and G + jwC.
    """
    gl = np.sqrt(z_series * y_shunt) * length_m
    a = np.cosh(gl)
    sh = _sinhc(gl)
    b = z_series * length_m * sh
    c = y_shunt * length_m * sh
    denom = 2 * a + b / z_ref_ohm + c * z_ref_ohm
    return (b / z_ref_ohm - c * z_ref_ohm) / denom, 2.0 / denom
