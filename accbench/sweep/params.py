"""The design parameters a sweep spec may vary: their names (units in the name), kinds, ranges and what they set.

Each parameter feeds one argument of the library functions the CLI calls: ``spec_from_wire``
(``wire``, the twinax model), ``build_link`` (``link``, the link model and its equaliser) or the
reach search (``reach``). Names follow the library's SI names; a few have a second name in the
unit an engineer writes (``roughness_rq_um`` for ``roughness_rq_m``), converted by ``scale``.
The ranges here are the ones the library enforces, checked early so a spec is refused before any
work starts; the library checks everything again when a point is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One design parameter: spec name (and Parquet column), the argument it sets, its kind and range."""

    name: str
    group: str  # "wire" (spec_from_wire), "link" (build_link), "reach" (the reach search)
    argument: str  # the library argument
    kind: str  # "number", "integer", "text" or "bool"
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    scale: float = 1.0  # spec unit -> the library's SI unit
    help: str = ""

    def to_library(self, value: Any) -> Any:
        """``value`` in the library's unit (numbers scaled; integers and names as they are)."""
        return value * self.scale if self.kind == "number" and self.scale != 1.0 else value

    def range_text(self) -> str:
        """The allowed range in words, e.g. ``above 0..100`` or ``-3..46``."""
        if self.low is None and self.high is None:
            return "any finite value"
        if self.high is None:
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        return f"{'above ' if self.open_low else ''}{self.low:g}..{self.high:g}"


_P = Param
PARAMETERS: dict[str, Param] = {p.name: p for p in (
    # the wire and the twinax model (spec_from_wire)
    _P("length_m", "wire", "length_m", "number", 0, 100, True, help="cable length"),
    _P("awg", "wire", "awg", "number", -3, 46, help="wire gauge (AWG; fractional gauges allowed)"),
    _P("diameter_m", "wire", "diameter_m", "number", 20e-6, 5e-3, help="bare conductor diameter"),
    _P("diameter_mm", "wire", "diameter_m", "number", 0.02, 5, scale=1e-3, help="bare conductor diameter"),
    _P("copper_grade", "wire", "copper_grade", "text", help="Cu-ETP or Cu-OFC"),
    _P("temper", "wire", "temper", "text", help="annealed or hard-drawn"),
    _P("conductivity_iacs_percent", "wire", "conductivity_iacs_percent", "number", 0, 120, True,
       help="conductivity in %IACS (overrides the grade)"),
    _P("roughness_rq_m", "wire", "roughness_rq_m", "number", 0, 50e-6, help="surface roughness Rq"),
    _P("roughness_rq_um", "wire", "roughness_rq_m", "number", 0, 50, scale=1e-6, help="surface roughness Rq"),
    _P("roughness_model", "wire", "roughness_model", "text", help="none, hammerstad, groiss or gradient"),
    _P("dielectric", "wire", "dielectric", "text", help="foamed-pe, solid-pe, fep or foamed-fep"),
    _P("eps_r", "wire", "eps_r", "number", 1, 20, help="relative permittivity at 10 GHz (overrides)"),
    _P("tan_delta", "wire", "tan_delta", "number", 0, 0.5, help="loss tangent at 10 GHz (overrides)"),
    _P("diff_impedance_ohm", "wire", "diff_impedance_ohm", "number", 20, 300, help="pair impedance"),
    _P("common_impedance_ohm", "wire", "common_impedance_ohm", "number", 5, 150, help="common-mode impedance"),
    _P("skew_s_per_m", "wire", "skew_s_per_m", "number", -1e-9, 1e-9, help="P/N skew"),
    _P("skew_ps_per_m", "wire", "skew_s_per_m", "number", -1000, 1000, scale=1e-12, help="P/N skew"),
    _P("carbon_mg_m2", "wire", "carbon_mg_m2", "number", 0, 10000, help="surface carbon"),
    _P("carbon_model", "wire", "carbon_model", "text", help="roughening, shell or none"),
    _P("carbon_threshold_mg_m2", "wire", "carbon_threshold_mg_m2", "number", 0, 10000,
       help="carbon below which it has no effect"),
    _P("f_max_hz", "wire", "f_max_hz", "number", 0, None, True, help="top of the synthesized S-parameters"),
    _P("f_step_hz", "wire", "f_step_hz", "number", 0, None, True, help="step of the synthesized S-parameters"),
    # the link model and its equaliser (build_link)
    _P("baud_gbd", "link", "baud", "number", 1, 200, scale=1e9, help="symbol rate (Nyquist = baud / 2)"),
    _P("target_ber", "link", "target_ber", "number", 0, 0.5, True, help="BER target"),
    _P("ffe_pre", "link", "ffe_pre", "integer", 0, 60, help="RX FFE pre-cursor taps"),
    _P("ffe_post", "link", "ffe_post", "integer", 0, 60, help="RX FFE post-cursor taps"),
    _P("ffe_method", "link", "ffe_method", "text", help="mmse or zf"),
    _P("ffe_tap_limit", "link", "ffe_tap_limit", "number", 0, None, True, help="limit of |c_k/c_0|"),
    _P("dfe", "link", "dfe", "bool", help="add a 1-tap DFE"),
    _P("host_loss_db", "link", "host_loss_db", "number", 0, 60, help="each host channel's loss at Nyquist"),
    _P("end_loss_db", "link", "end_loss_db", "number", 0, 60, help="each cable end's loss at Nyquist"),
    _P("tx_ffe", "link", "tx_ffe", "text", help="TX FFE preset 'c(-2),c(-1),c(0),c(1)'"),
    _P("lanes", "link", "lanes", "integer", 1, 64, help="lanes per cable end (power gate)"),
    _P("max_power_w", "link", "max_power_w", "number", 0, 1000, True, help="power gate limit"),
    # the reach search
    _P("stretch_m", "reach", "stretch_m", "number", 0, 100, True, help="stretch-goal reach"),
)}
"""Every parameter a design spec may name, by spec name."""

SAME_ARGUMENT = {name: p.argument for name, p in PARAMETERS.items()
                 if sum(q.argument == p.argument and q.group == p.group for q in PARAMETERS.values()) > 1}
"""Parameters that set the same argument in another unit (give only one of each pair)."""
