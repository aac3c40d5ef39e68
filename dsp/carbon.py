"""Surface carbon on drawn copper wire: an explicit, configurable *hypothesis*, and its physics bound.

Residual drawing lubricant leaves carbon on the wire surface (mg/m^2). A 50 mg/m^2 film of
carbon (density ~1.8 g/cm^3) is only ~28 nm thick. As a conductor layer on the copper its
effect on the surface impedance is negligible: ``conductor_film_delta_il_db`` computes it
with scikit-rf's layered surface-impedance model and finds well below 0.001 dB over 3 m.
So if carbon raises loss at 25-50 GHz, it must be through another mechanism. Two are
offered, both named and configurable, and the bench fits them to measured data later:

``roughening`` (default)
    Residue decomposing during the anneal pits and nodulates the surface: the effective
    roughness grows in quadrature, Rq_eff = sqrt(Rq0^2 + (g * max(0, C - C0))^2), flat
    below the threshold C0 (default 50 mg/m^2) and rising above it (g = 5 nm per mg/m^2).
``shell``
    A lossy dielectric shell of thickness t = C / rho around each conductor, in series
    with the insulation: it adds q * tan_delta_shell to the line's loss tangent, with q the
    shell's share of the voltage (a few 1e-4 for 30 nm): honest, and therefore tiny.
``none``
    Carbon has no effect.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import skrf as rf
from scipy.constants import epsilon_0

from accbench.errors import InputError

CARBON_MECHANISMS = ("roughening", "shell", "none")


@dataclass(frozen=True)
class CarbonHypothesis:
    """Parameters of the carbon-to-loss hypothesis; the defaults are the calibrated guess."""

    mechanism: str = "roughening"
    threshold_mg_m2: float = 50.0
    rq_gain_m_per_mg_m2: float = 5e-9
    density_kg_m3: float = 1800.0
    shell_eps_r: float = 3.0
    shell_tan_delta: float = 0.05

    def __post_init__(self) -> None:
        if self.mechanism not in CARBON_MECHANISMS:
            raise InputError(
                f"unknown carbon mechanism {self.mechanism!r}; use one of {', '.join(CARBON_MECHANISMS)}"
            )
        if self.threshold_mg_m2 < 0 or self.rq_gain_m_per_mg_m2 < 0 or self.density_kg_m3 <= 0:
            raise InputError("carbon hypothesis parameters must be >= 0 (density > 0)")

    def to_dict(self) -> dict:
        return asdict(self)


def check_carbon(carbon_mg_m2: float) -> float:
    """Validate a surface-carbon value in mg/m^2 (0..10000)."""
    if not 0.0 <= carbon_mg_m2 <= 1e4:
        raise InputError(f"surface carbon {carbon_mg_m2} mg/m^2 is out of range; use 0..10000")
    return float(carbon_mg_m2)


def film_thickness_m(carbon_mg_m2: float, density_kg_m3: float = 1800.0) -> float:
    """Thickness of a uniform carbon film of the given areal mass."""
    return check_carbon(carbon_mg_m2) * 1e-6 / density_kg_m3


def effective_roughness_m(rq_m: float, carbon_mg_m2: float, hyp: CarbonHypothesis) -> float:
    """Surface roughness the conductor model sees, after the carbon hypothesis."""
    if hyp.mechanism != "roughening":
        return rq_m
    excess = max(0.0, check_carbon(carbon_mg_m2) - hyp.threshold_mg_m2)
    return float(np.hypot(rq_m, hyp.rq_gain_m_per_mg_m2 * excess))


def shell_tan_delta_increment(carbon_mg_m2: float, diameter_m: float,
                              line_capacitance_f_per_m: float, hyp: CarbonHypothesis) -> float:
    """Loss tangent added to the insulation by a lossy carbon shell on both conductors.

    The shells (capacitance 2 pi eps a / t each) sit in series with the line capacitance C;
    their share of the voltage is q = 2 C / C_shell, and they add q * tan_delta_shell.
    """
    if hyp.mechanism != "shell" or carbon_mg_m2 <= 0:
        return 0.0
    t = film_thickness_m(carbon_mg_m2, hyp.density_kg_m3)
    a = diameter_m / 2.0
    c_shell = 2 * np.pi * epsilon_0 * hyp.shell_eps_r / np.log1p(t / a)
    share = 2 * line_capacitance_f_per_m / c_shell
    return float(share * hyp.shell_tan_delta)


def conductor_film_delta_il_db(freq_hz: np.ndarray, carbon_mg_m2: float, length_m: float,
                               diameter_m: float, sigma_s_per_m: float,
                               diff_impedance_ohm: float = 100.0,
                               film_sigma_s_per_m: float = 1e5,
                               density_kg_m3: float = 1800.0) -> np.ndarray:
    """Extra differential loss (dB) of a carbon film treated as a conductor layer: the physics bound.

    scikit-rf's ``surface_impedance`` gives Zs of the stack insulation / carbon film / copper;
    the change of Re Zs against bare copper, over the two conductors, is the added loss.
    ``film_sigma_s_per_m`` defaults to 1e5 S/m, the top of amorphous carbon's range.
    """
    f = np.atleast_1d(np.asarray(freq_hz, dtype=float))
    t = film_thickness_m(carbon_mg_m2, density_kg_m3)
    bare = rf.tlineFunctions.surface_impedance(f, [{}, {"sigma": sigma_s_per_m}])
    if t <= 0:
        return np.zeros(f.shape)
    coated = rf.tlineFunctions.surface_impedance(
        f, [{}, {"sigma": film_sigma_s_per_m}, {"sigma": sigma_s_per_m}],
        rms_roughness=0.0, boundary_loc=[0.0, t])
    d_r_per_m = 2 * (coated.real - bare.real) / (np.pi * diameter_m)  # both conductors
    return 20 * np.log10(np.e) * d_r_per_m / (2 * diff_impedance_ohm) * length_m
