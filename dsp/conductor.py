"""Round copper conductors: wire gauge, copper grade, internal impedance and surface roughness.

Maths as plain functions over numpy arrays, SI units throughout (m, S/m, Hz, ohm/m).
"""

from __future__ import annotations

import numpy as np
import skrf as rf
from scipy.constants import mu_0
from scipy.special import jve

from accbench.errors import InputError

IACS_S_PER_M = 58.0e6
"""Conductivity of the International Annealed Copper Standard (100 % IACS), S/m."""

# Typical conductivity of drawn round wire, % IACS (EN 13602 / ASTM B3, B1 class values).
COPPER_GRADES: dict[str, dict[str, float]] = {
    "Cu-ETP": {"annealed": 100.0, "hard-drawn": 97.0},  # CW004A, electrolytic tough pitch
    "Cu-OFC": {"annealed": 101.0, "hard-drawn": 97.5},  # CW008A, oxygen-free
}
_GRADE_ALIASES = {"cw004a": "Cu-ETP", "cu-etp": "Cu-ETP", "etp": "Cu-ETP",
                  "cw008a": "Cu-OFC", "cu-ofc": "Cu-OFC", "ofc": "Cu-OFC", "cu-of": "Cu-OFC"}

ROUGHNESS_MODELS = ("none", "hammerstad", "groiss", "gradient")


def awg_diameter_m(awg: float) -> float:
    """Diameter of solid wire of American Wire Gauge ``awg`` (0.127 mm * 92**((36-n)/39))."""
    if not -3 <= awg <= 46:
        raise InputError(f"AWG {awg} is outside the gauge table (-3..46); give the diameter instead", "awg")
    return 0.127e-3 * 92.0 ** ((36.0 - awg) / 39.0)


def copper_conductivity(grade: str = "Cu-ETP", temper: str = "annealed",
                        iacs_percent: float | None = None) -> float:
    """Conductivity in S/m of a copper grade and temper, or of an explicit % IACS."""
    if iacs_percent is not None:
        if not 10.0 <= iacs_percent <= 110.0:
            raise InputError(f"conductivity {iacs_percent} % IACS is not copper; use 90..103")
        return iacs_percent / 100.0 * IACS_S_PER_M
    name = _GRADE_ALIASES.get(grade.lower())
    if name is None:
        raise InputError(f"unknown copper grade {grade!r}; use Cu-ETP (CW004A) or Cu-OFC (CW008A)")
    tempers = COPPER_GRADES[name]
    if temper not in tempers:
        raise InputError(f"unknown temper {temper!r}; use one of {', '.join(tempers)}")
    return tempers[temper] / 100.0 * IACS_S_PER_M


def skin_depth_m(freq_hz: np.ndarray, sigma_s_per_m: float) -> np.ndarray:
    """Skin depth of a non-magnetic conductor (scikit-rf's formula, resistivity form)."""
    f = np.maximum(np.asarray(freq_hz, dtype=float), 1e-3)
    return rf.tlineFunctions.skin_depth(f, 1.0 / sigma_s_per_m, 1.0)


def round_wire_internal_impedance(freq_hz: np.ndarray, diameter_m: float,
                                  sigma_s_per_m: float) -> np.ndarray:
    """Exact internal impedance per metre of an isolated round wire, ohm/m (complex).

    Z = k / (2 pi a sigma) * J0(k a) / J1(k a) with k = (1 - j) / delta. It tends to the DC
    resistance at low frequency and to (1 + j) Rs / (pi d) in the skin-effect limit, and is
    causal by construction. Exponentially scaled Bessel functions keep it finite at 60 GHz.
    """
    f = np.asarray(freq_hz, dtype=float)
    a = diameter_m / 2.0
    r_dc = 1.0 / (sigma_s_per_m * np.pi * a * a)
    z = np.full(f.shape, r_dc, dtype=complex)
    ac = f > 0
    k = np.sqrt(-1j * 2 * np.pi * f[ac] * mu_0 * sigma_s_per_m)
    ka = k * a
    z[ac] = k / (2 * np.pi * a * sigma_s_per_m) * jve(0, ka) / jve(1, ka)
    return z


def hammerstad_factor(freq_hz: np.ndarray, rq_m: float, sigma_s_per_m: float) -> np.ndarray:
    """Hammerstad-Jensen roughness factor 1 + (2/pi) atan(1.4 (Rq/delta)^2); tends to 2."""
    delta = skin_depth_m(freq_hz, sigma_s_per_m)
    return 1.0 + (2.0 / np.pi) * np.arctan(1.4 * (rq_m / delta) ** 2)


def groiss_factor(freq_hz: np.ndarray, rq_m: float, sigma_s_per_m: float) -> np.ndarray:
    """Groiss roughness factor 1 + exp(-(delta / (2 Rq))^1.6); tends to 2."""
    if rq_m <= 0:
        return np.ones(np.shape(freq_hz))
    delta = skin_depth_m(freq_hz, sigma_s_per_m)
    return 1.0 + np.exp(-((delta / (2.0 * rq_m)) ** 1.6))


def gradient_factor(freq_hz: np.ndarray, rq_m: float, sigma_s_per_m: float) -> np.ndarray:
    """Loss factor Re Zs(rough) / Rs(smooth) of scikit-rf's gradient (Tegowski) roughness model.

    Only the real part is used, like the closed-form models; scikit-rf's reactance refers to
    a plane above the rough surface and would add a fixture inductance. The model refines a
    graded stack per frequency, which is slow, so it is evaluated on 24 log-spaced points
    and interpolated (the factor is smooth in log f).
    """
    f = np.asarray(freq_hz, dtype=float)
    if rq_m <= 0:
        return np.ones(f.shape)
    grid = np.logspace(np.log10(max(f[f > 0].min(), 1e6)), np.log10(f.max()), 24)
    rough = rf.tlineFunctions.surface_impedance(grid, {"sigma": sigma_s_per_m},
                                                rms_roughness=rq_m)
    smooth = rf.tlineFunctions.surface_resistivity(grid, 1.0 / sigma_s_per_m, 1.0)
    ratio = rough.real / smooth
    return np.interp(np.log10(np.maximum(f, grid[0])), np.log10(grid), ratio)


def roughness_factor(freq_hz: np.ndarray, rq_m: float, sigma_s_per_m: float,
                     model: str = "hammerstad") -> np.ndarray:
    """Roughness factor K(f) of the named model (a real loss multiplier)."""
    if rq_m < 0:
        raise InputError(f"roughness Rq {rq_m} m is negative; give Rq >= 0")
    if model == "none" or rq_m == 0:
        return np.ones(np.shape(freq_hz))
    if model == "hammerstad":
        return hammerstad_factor(freq_hz, rq_m, sigma_s_per_m)
    if model == "groiss":
        return groiss_factor(freq_hz, rq_m, sigma_s_per_m)
    if model == "gradient":
        return gradient_factor(freq_hz, rq_m, sigma_s_per_m)
    raise InputError(f"unknown roughness model {model!r}; use one of {', '.join(ROUGHNESS_MODELS)}")
