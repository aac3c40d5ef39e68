"""Causal 4-port S-parameter model of a shielded differential twinax pair, from the wire up.

Per metre, the differential (loop) mode has series impedance jwL + 2 Z_cond and shunt
admittance jw C eps(f)/eps_r; the common mode has jwL_c + Z_cond/2 and its own capacitance.
Z_cond is the exact round-wire internal impedance (Bessel), raised above DC by the
proximity factor of two wires and by the surface-roughness factor. The insulation is a
causal Djordjevic-Sarkar dielectric. Both modes are lines in their natural references
(100 / 25 ohm), assembled in mixed mode and turned single-ended (``accbench.dsp.mixedmode``); P/N skew is
a matched delay on the N conductor at end B, which creates the mode conversion.
Ports come out in scikit-rf's se2gmm order: 1 = P end A, 2 = N end A, 3 = P end B,
4 = N end B (thru paths 1-3 and 2-4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from numbers import Real
from typing import Any, TypeVar

import numpy as np
import skrf as rf
from accbench.dsp.carbon import CarbonHypothesis, check_carbon, effective_roughness_m, shell_tan_delta_increment
from accbench.dsp.conductor import (
    ROUGHNESS_MODELS,
    awg_diameter_m,
    copper_conductivity,
    roughness_factor,
    round_wire_internal_impedance,
)
from accbench.dsp.dielectric import complex_permittivity, dielectric_constants
from accbench.dsp.mixedmode import gmm2se_network
from accbench.dsp.tline import line_s2p
from scipy.constants import c as C0

from accbench.errors import FieldError, InputError

T = TypeVar("T")

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
            raise FieldError(f"length {self.length_m} m is out of range; use 0 < length <= 100 m", "length_m")
        if self.diameter_m is None and self.awg is None:
            raise FieldError("give the wire as awg or diameter_m", "awg", "diameter_m")
        if self.diameter_m is not None and not 20e-6 <= self.diameter_m <= 5e-3:
            raise FieldError(f"diameter {self.diameter_m * 1e3:g} mm is out of range; use 0.02..5 mm", "diameter_m")
        if self.roughness_model not in ROUGHNESS_MODELS:
            raise FieldError(f"unknown roughness model {self.roughness_model!r}; "
                             f"use one of {', '.join(ROUGHNESS_MODELS)}", "roughness_model")
        if not 20 <= self.diff_impedance_ohm <= 300:
            raise FieldError(f"pair impedance {self.diff_impedance_ohm} ohm is out of range; use 20..300",
                             "diff_impedance_ohm")
        if not 5 <= self.common_impedance_ohm <= 150:
            raise FieldError(f"common-mode impedance {self.common_impedance_ohm} ohm is out of range; use 5..150",
                             "common_impedance_ohm")
        if not (0 < self.f_step_hz < self.f_max_hz):
            raise FieldError("frequency grid: need 0 < step < f_max", "f_step_hz", "f_max_hz")
        if self.f_max_hz / self.f_step_hz > 200_000:
            raise FieldError("frequency grid has more than 200000 points; use a coarser step", "f_step_hz")
        if not abs(self.skew_s_per_m) <= 1e-9:
            raise FieldError(f"skew {self.skew_s_per_m * 1e12:g} ps/m is not plausible; use |skew| <= 1000 ps/m",
                             "skew_s_per_m")
        try:
            check_carbon(self.carbon_mg_m2)
        except InputError as exc:
            raise FieldError(str(exc), "carbon_mg_m2") from exc

    @property
    def wire_diameter_m(self) -> float:
        """Bare conductor diameter: ``diameter_m``, or the gauge table's value for ``awg``."""
        return self.diameter_m if self.diameter_m is not None else awg_diameter_m(self.awg)

    def with_length(self, length_m: float) -> TwinaxSpec:
        """The same wire at another length (reach searches scale the cable this way)."""
        return replace(self, length_m=length_m)

    def to_dict(self) -> dict:
        """Every parameter plus the resulting wire diameter, for JSON output and file headers."""
        out = asdict(self)
        out["wire_diameter_m"] = self.wire_diameter_m
        return out


def spec_from_wire(*, length_m: float = 3.0, awg: float | None = None, diameter_m: float | None = None,
                   copper_grade: str = "Cu-ETP", temper: str = "annealed",
                   conductivity_iacs_percent: float | None = None, roughness_rq_m: float = 0.0,
                   roughness_model: str = "hammerstad", dielectric: str = "foamed-pe", eps_r: float | None = None,
                   tan_delta: float | None = None, diff_impedance_ohm: float = 100.0,
                   common_impedance_ohm: float = 30.0, skew_s_per_m: float = 0.0, carbon_mg_m2: float = 0.0,
                   carbon_model: str = "roughening", carbon_threshold_mg_m2: float = 50.0,
                   f_max_hz: float = 60e9, f_step_hz: float = 10e6) -> TwinaxSpec:
    """The one way from a wire description (SI units) to a checked ``TwinaxSpec``, so every front end agrees.

    Exactly one of ``awg`` and ``diameter_m`` sets the wire. Every value is checked here, materials
    included (which ``TwinaxSpec`` alone leaves to the first computation); a bad one raises
    ``FieldError`` (an ``InputError``) whose ``fields`` are the names of these parameters.
    """
    values = {"length_m": length_m, "awg": awg, "diameter_m": diameter_m,
              "conductivity_iacs_percent": conductivity_iacs_percent, "roughness_rq_m": roughness_rq_m,
              "eps_r": eps_r, "tan_delta": tan_delta, "diff_impedance_ohm": diff_impedance_ohm,
              "common_impedance_ohm": common_impedance_ohm, "skew_s_per_m": skew_s_per_m,
              "carbon_mg_m2": carbon_mg_m2, "carbon_threshold_mg_m2": carbon_threshold_mg_m2,
              "f_max_hz": f_max_hz, "f_step_hz": f_step_hz}
    for name, value in values.items():
        if value is not None and not (isinstance(value, Real) and np.isfinite(value)):
            raise FieldError(f"{name} {value!r} is not a finite number", name)
    names = {"copper_grade": copper_grade, "temper": temper, "roughness_model": roughness_model,
             "dielectric": dielectric, "carbon_model": carbon_model}
    for name, value in names.items():
        if not isinstance(value, str):
            raise FieldError(f"{name} {value!r} is not a name", name)
    if awg is not None and diameter_m is not None:
        raise FieldError("give the wire as awg or diameter_m, not both", "awg", "diameter_m")
    if awg is None and diameter_m is None:
        raise FieldError("give the wire as awg or diameter_m", "awg", "diameter_m")
    if awg is not None and not -3 <= awg <= 46:
        raise FieldError(f"AWG {awg:g} is outside the gauge table (-3..46); give the conductor diameter instead", "awg")
    if roughness_rq_m < 0:
        raise FieldError(f"roughness Rq {roughness_rq_m:g} m is negative; give Rq >= 0", "roughness_rq_m")
    if carbon_threshold_mg_m2 < 0:
        raise FieldError(f"carbon threshold {carbon_threshold_mg_m2:g} mg/m^2 must be >= 0",
                         "carbon_threshold_mg_m2")
    _in_terms_of("copper_grade", copper_conductivity, copper_grade)  # the annealed temper exists for every grade
    _in_terms_of("temper", copper_conductivity, copper_grade, temper)
    if conductivity_iacs_percent is not None:
        _in_terms_of("conductivity_iacs_percent", copper_conductivity, iacs_percent=conductivity_iacs_percent)
    _in_terms_of("dielectric", dielectric_constants, dielectric)
    _in_terms_of("eps_r", dielectric_constants, dielectric, eps_r)
    _in_terms_of("tan_delta", dielectric_constants, dielectric, eps_r, tan_delta)
    carbon = _in_terms_of("carbon_model", CarbonHypothesis, mechanism=carbon_model,
                          threshold_mg_m2=carbon_threshold_mg_m2)
    numbers = {name: None if value is None else float(value) for name, value in values.items()}
    numbers.pop("carbon_threshold_mg_m2")
    return TwinaxSpec(**numbers, copper_grade=copper_grade, temper=temper, roughness_model=roughness_model,
                      dielectric=dielectric, carbon=carbon)


def spec_from_lot(*, length_m: float, awg: float | None, diameter_mm: float | None, grade: str,
                  roughness_um: float, carbon_mg_m2: float) -> TwinaxSpec:
    """A cable's spec from a wire lot as plans give it (mm, um); a diameter, when given, sets the wire, not AWG."""
    diameter_m = diameter_mm * 1e-3 if diameter_mm else None
    return spec_from_wire(length_m=length_m, awg=None if diameter_m else awg, diameter_m=diameter_m,
                          copper_grade=grade, roughness_rq_m=roughness_um * 1e-6, carbon_mg_m2=carbon_mg_m2)


def _in_terms_of(field_name: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a material check, re-raising its InputError as a FieldError of ``field_name`` (to say which input)."""
    try:
        return check(*args, **kwargs)
    except InputError as exc:
        raise FieldError(str(exc), field_name) from exc


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
    network = gmm2se_network(mm, f, 50.0, name="twinax")  # the modes' natural references are 2 x 50 and 50 / 2
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
