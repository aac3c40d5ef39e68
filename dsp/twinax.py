"""Causal 4-port S-parameter model of a shielded differential twinax pair, from the wire up.

Per metre, the differential (loop) mode has series impedance jwL + 2 Z_cond and shunt
admittance jw C eps(f)/eps_r; the common mode has jwL_c + Z_cond/2 and its own capacitance.
Z_cond is the exact round-wire internal impedance (Bessel), raised above DC by the
proximity factor of two wires and by the surface-roughness factor. The insulation is a
causal Djordjevic-Sarkar dielectric. Both modes are lines in their natural references
(100 / 25 ohm), assembled in mixed mode and turned single-ended by scikit-rf; P/N skew is
a matched delay on the N conductor at end B, which creates the mode conversion.
Ports come out in scikit-rf's se2gmm order: 1 = P end A, 2 = N end A, 3 = P end B,
4 = N end B (thru paths 1-3 and 2-4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import skrf as rf
from scipy.constants import c as C0

from accbench.errors import InputError
from dsp.carbon import CarbonHypothesis, check_carbon, effective_roughness_m, shell_tan_delta_increment
from dsp.conductor import (
    ROUGHNESS_MODELS,
    awg_diameter_m,
    copper_conductivity,
    roughness_factor,
    round_wire_internal_impedance,
)
from dsp.dielectric import complex_permittivity, dielectric_constants
from dsp.tline import line_s2p

SE_ORDER_LABEL = "1-3,2-4"
"""Thru paths of the synthesized 4-port (scikit-rf se2gmm order)."""


@dataclass(frozen=True)
class TwinaxSpec:
    """Everything the twinax model needs; SI units. ``awg`` or ``diameter_m`` sets the wire."""

    length_m: float = 3.0
    awg: float | None = 26.0
    diameter_m: float | None = None
    copper_grade: str = "Cu-ETP"
    temper: str = "annealed"
    conductivity_iacs_percent: float | None = None
    roughness_rq_m: float = 0.0
    roughness_model: str = "hammerstad"
    dielectric: str = "foamed-pe"
    eps_r: float | None = None
    tan_delta: float | None = None
    diff_impedance_ohm: float = 100.0
    common_impedance_ohm: float = 30.0
    skew_s_per_m: float = 0.0
    carbon_mg_m2: float = 0.0
    carbon: CarbonHypothesis = field(default_factory=CarbonHypothesis)
    f_max_hz: float = 60e9
    f_step_hz: float = 10e6

    def __post_init__(self) -> None:
        if not 0 < self.length_m <= 100:
            raise InputError(f"length {self.length_m} m is out of range; use 0 < length <= 100 m")
        if self.diameter_m is None and self.awg is None:
            raise InputError("give the wire as --awg or --diameter-mm")
        if self.diameter_m is not None and not 20e-6 <= self.diameter_m <= 5e-3:
            raise InputError(f"diameter {self.diameter_m * 1e3:g} mm is out of range; use 0.02..5 mm")
        if self.roughness_model not in ROUGHNESS_MODELS:
            raise InputError(f"unknown roughness model {self.roughness_model!r}; "
                             f"use one of {', '.join(ROUGHNESS_MODELS)}")
        if not 20 <= self.diff_impedance_ohm <= 300:
            raise InputError(f"pair impedance {self.diff_impedance_ohm} ohm is out of range; use 20..300")
        if not 5 <= self.common_impedance_ohm <= 150:
            raise InputError(f"common-mode impedance {self.common_impedance_ohm} ohm is out of range")
        if self.f_step_hz <= 0 or self.f_max_hz <= self.f_step_hz:
            raise InputError("frequency grid: need 0 < step < f_max")
        if self.f_max_hz / self.f_step_hz > 200_000:
            raise InputError("frequency grid has more than 200000 points; use a coarser step")
        if abs(self.skew_s_per_m) > 1e-9:
            raise InputError(f"skew {self.skew_s_per_m * 1e12:g} ps/m is not plausible; use |skew| <= 1000 ps/m")
        check_carbon(self.carbon_mg_m2)

    @property
    def wire_diameter_m(self) -> float:
        return self.diameter_m if self.diameter_m is not None else awg_diameter_m(self.awg)

    def with_length(self, length_m: float) -> TwinaxSpec:
        return replace(self, length_m=length_m)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["wire_diameter_m"] = self.wire_diameter_m
        return out


def default_grid_hz(spec: TwinaxSpec) -> np.ndarray:
    """DC to f_max in f_step steps (10 MHz to 60 GHz, 6001 points, by default)."""
    n = round(spec.f_max_hz / spec.f_step_hz) + 1
    return np.arange(n) * spec.f_step_hz


def proximity_factor(spacing_over_diameter: float) -> float:
    """High-frequency resistance factor of two parallel round wires, (s/d)/sqrt((s/d)^2 - 1)."""
    return spacing_over_diameter / np.sqrt(spacing_over_diameter**2 - 1.0)


def spacing_over_diameter(diff_impedance_ohm: float, eps_r: float) -> float:
    """Centre spacing / diameter of a two-wire line of the given impedance: cosh(Z sqrt(eps)/120)."""
    return float(np.cosh(diff_impedance_ohm * np.sqrt(eps_r) / 120.0))


@dataclass(frozen=True)
class ModalLines:
    """Per-metre series impedance and shunt admittance of the two propagating modes."""

    freq_hz: np.ndarray
    z_diff: np.ndarray
    y_diff: np.ndarray
    z_comm: np.ndarray
    y_comm: np.ndarray


def modal_lines(spec: TwinaxSpec, freq_hz: np.ndarray) -> ModalLines:
    """Per-metre RLGC of differential (loop) and common mode for ``spec`` at ``freq_hz``."""
    f = np.asarray(freq_hz, dtype=float)
    w = 2 * np.pi * f
    d = spec.wire_diameter_m
    sigma = copper_conductivity(spec.copper_grade, spec.temper, spec.conductivity_iacs_percent)
    eps_r, tan_d = dielectric_constants(spec.dielectric, spec.eps_r, spec.tan_delta)
    c_diff = np.sqrt(eps_r) / (C0 * spec.diff_impedance_ohm)
    tan_d += shell_tan_delta_increment(spec.carbon_mg_m2, d, c_diff, spec.carbon)
    eps = complex_permittivity(f, eps_r, tan_d) / eps_r

    rq = effective_roughness_m(spec.roughness_rq_m, spec.carbon_mg_m2, spec.carbon)
    z_int = round_wire_internal_impedance(f, d, sigma)
    r_dc = z_int[0].real if f[0] == 0 else 1.0 / (sigma * np.pi * d * d / 4)
    k_rough = roughness_factor(f, rq, sigma, spec.roughness_model)
    k_prox = proximity_factor(spacing_over_diameter(spec.diff_impedance_ohm, eps_r))
    z_cond_diff = r_dc + (z_int - r_dc) * k_prox * k_rough
    z_cond_comm = r_dc + (z_int - r_dc) * k_rough

    l_diff = spec.diff_impedance_ohm * np.sqrt(eps_r) / C0
    l_comm = spec.common_impedance_ohm * np.sqrt(eps_r) / C0
    c_comm = np.sqrt(eps_r) / (C0 * spec.common_impedance_ohm)
    return ModalLines(
        freq_hz=f,
        z_diff=1j * w * l_diff + 2 * z_cond_diff,
        y_diff=1j * w * c_diff * eps,
        z_comm=1j * w * l_comm + z_cond_comm / 2,
        y_comm=1j * w * c_comm * eps,
    )


def twinax_network(spec: TwinaxSpec, freq_hz: np.ndarray | None = None) -> rf.Network:
    """Single-ended 4-port Network (50 ohm, se2gmm port order) of the twinax pair in ``spec``."""
    f = default_grid_hz(spec) if freq_hz is None else np.asarray(freq_hz, dtype=float)
    lines = modal_lines(spec, f)
    sd11, sd21 = line_s2p(lines.z_diff, lines.y_diff, spec.length_m, 100.0)
    sc11, sc21 = line_s2p(lines.z_comm, lines.y_comm, spec.length_m, 25.0)
    mm = np.zeros((f.size, 4, 4), dtype=complex)
    mm[:, 0, 0] = mm[:, 1, 1] = sd11
    mm[:, 0, 1] = mm[:, 1, 0] = sd21
    mm[:, 2, 2] = mm[:, 3, 3] = sc11
    mm[:, 2, 3] = mm[:, 3, 2] = sc21
    network = rf.Network(frequency=rf.Frequency.from_f(f, unit="Hz"), s=mm,
                         z0=np.array([100.0, 100.0, 25.0, 25.0]), name="twinax")
    network.gmm2se(p=2, z0_se=50.0)
    skew = spec.skew_s_per_m * spec.length_m
    if skew:
        delay = np.exp(-2j * np.pi * f * skew)
        network.s[:, :, 3] *= delay[:, None]
        network.s[:, 3, :] *= delay[:, None]
    return network


def twinax_comments(spec: TwinaxSpec) -> str:
    """Header comment for a synthesized Touchstone file: the model and every parameter."""
    lines = ["accbench synth: twinax physics model (dsp.twinax)",
             f"thru paths {SE_ORDER_LABEL} (P: 1->3, N: 2->4), single-ended, 50 ohm"]
    for key, value in spec.to_dict().items():
        lines.append(f"{key} = {value}")
    return "\n".join(lines)


def differential_loss_db(network: rf.Network, f_hz: float) -> float:
    """IL (positive dB) of SDD21 at ``f_hz`` for a 4-port in se2gmm order (as synthesized)."""
    mm = network.copy()
    mm.se2gmm(p=2)
    return float(np.interp(f_hz, mm.f, -20 * np.log10(np.abs(mm.s[:, 1, 0]))))
