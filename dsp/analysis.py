"""``accbench analyze``: Touchstone in, mixed-mode loss figures and data hygiene out.

One function, ``analyze``, runs the whole chain on a scikit-rf Network (``analyze_file``
reads the file first): port map -> optional 2x-thru de-embedding -> se2gmm -> checks of
passivity and band -> IL, fitted IL, ILD, FOM_ILD, RL, mode conversion, delay -> mask
margin and crosstalk ICN. The result is a frozen ``AnalysisResult``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import skrf as rf
from accbench.dsp.crosstalk import IcnParams, icn_v
from accbench.dsp.deembed import deembed_2xthru
from accbench.dsp.figures import db, fit_il, ild_figures, loss_at, propagation_delay_s
from accbench.dsp.masks import load_mask, mask_margin_db
from accbench.dsp.mixedmode import se2gmm_s
from accbench.dsp.portmap import PortMap, check_map_text, resolve_port_map, to_se2gmm_order
from accbench.dsp.quality import (
    causality_percent,
    max_singular_value,
    passivity_percent,
    reciprocity_percent,
    recommended_step_hz,
    usable_band,
)
from accbench.dsp.touchstone import read_touchstone, select_ports
from accbench.dsp.weighting import default_transition_s

from accbench.errors import BandError, FieldError, InputError, TouchstoneError

BAUD_MIN, BAUD_MAX = 1e9, 200e9
FIT_MIN_POINTS = 8  # four fit coefficients and some to spare


@dataclass(frozen=True)
class AnalysisOptions:
    """What to analyse and how; SI units. ``baud`` sets Nyquist = baud / 2."""

    baud: float = 53.125e9
    thru: str = "auto"
    ports: tuple[int, ...] | None = None
    deembed: str | None = None
    mask: str | None = None
    next_files: tuple[str, ...] = ()
    fext_files: tuple[str, ...] = ()
    fit_f_min_hz: float = 0.05e9
    fit_f_max_hz: float | None = None
    transition_s: float | None = None  # FOM_ILD/ICN T_t; None: weighting.default_transition_s (pass a clause's)
    rx_bw_ratio: float = 0.75
    icn: IcnParams = field(default_factory=IcnParams)
    passivity_tol: float = 0.01
    allow_nonpassive: bool = False

    def __post_init__(self) -> None:
        if not BAUD_MIN <= self.baud <= BAUD_MAX:
            raise InputError(f"baud {self.baud / 1e9:g} GBd is outside 1..200 GBd; give e.g. 53.125 GBd", "baud")
        if not (math.isfinite(self.fit_f_min_hz) and self.fit_f_min_hz >= 0):
            raise FieldError(f"fit band start {self.fit_f_min_hz:g} Hz must be a frequency >= 0, e.g. 50 MHz",
                             "fit_f_min_hz")
        if self.fit_f_max_hz is not None and not (math.isfinite(self.fit_f_max_hz)
                                                  and self.fit_f_max_hz > self.fit_f_min_hz):
            raise FieldError(f"the fit band {self.fit_f_min_hz / 1e9:g}..{self.fit_f_max_hz / 1e9:g} GHz is empty: "
                             "its end must lie above its start", "fit_f_min_hz", "fit_f_max_hz")
        check_map_text(self.thru)
        if self.ports is not None and (len(self.ports) != 4 or len(set(self.ports)) != 4
                                       or min(self.ports) < 1):
            raise FieldError("give four different port numbers (1-based) of one pair, e.g. 1,2,3,4", "ports")


@dataclass(frozen=True)
class Curves:
    """The frequency-domain curves behind the figures (for plots; not serialised)."""

    freq_hz: np.ndarray
    il_db: np.ndarray
    il_fitted_db: np.ndarray
    sdd11_db: np.ndarray
    sdd22_db: np.ndarray
    fit_band_hz: tuple[float, float]
    sdd21: np.ndarray | None = None  # complex, for link models built from the same analysis


@dataclass(frozen=True)
class AnalysisResult:
    """Every figure of one analysed channel. Losses are positive dB; S-parameter levels are dB."""

    file: str
    baud: float
    nyquist_hz: float
    port_map: dict
    il_db: float
    il_fitted_db: float
    fit_coeffs_db: tuple[float, float, float, float]
    fit_band_hz: tuple[float, float]
    ild_rms_db: float
    ild_peak_db: float
    fom_ild_db: float
    rl_db: float
    rl_worst_db: float
    rl_worst_freq_hz: float
    sdd11_db: float
    sdd22_db: float
    scd21_db: float | None
    scc21_db: float | None
    delay_s: float
    passive: bool
    max_singular_value: float
    passivity_percent: float
    reciprocity_percent: float
    causality_percent: float
    freq_step_hz: float
    recommended_step_hz: float
    freq_step_ok: bool
    usable_bw_hz: float
    usable_bw_reason: str
    noise_floor_db: float | None
    deembedded: bool
    mask: str | None
    mask_margin_db: float | None
    mask_margin_freq_hz: float | None
    icn_mv: float | None
    warnings: tuple[str, ...] = ()
    curves: Curves | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready dict of the figures (no curves)."""
        out = asdict(self)
        out.pop("curves")
        out["fit_coeffs_db"] = list(self.fit_coeffs_db)
        out["fit_band_hz"] = list(self.fit_band_hz)
        out["warnings"] = list(self.warnings)
        return out


def analyze_file(path: str | Path, options: AnalysisOptions | None = None) -> AnalysisResult:
    """Read a Touchstone file and analyse it (see ``analyze``)."""
    options = options or AnalysisOptions()
    network = read_touchstone(path)
    return analyze(network, options, name=str(path))


def _mixed_mode(network: rf.Network, options: AnalysisOptions,
                warnings: list[str]) -> tuple[rf.Network | None, np.ndarray, PortMap | None]:
    """Return (se2gmm-ordered single-ended 4-port or None, mixed-mode S, port map)."""
    if options.ports and network.nports <= 4:
        raise FieldError(f"the file has {network.nports} ports: choosing four of them is for larger files "
                         "(8 ports and up); leave the ports out", "ports")
    if options.ports and max(options.ports) > network.nports:
        raise FieldError(f"port {max(options.ports)} does not exist: the file has {network.nports} ports", "ports")
    if network.nports == 8 or (options.ports and network.nports > 4):
        if not options.ports:
            raise TouchstoneError(
                f"{network.nports}-port file: choose the four ports of one pair (ports a,b,c,d)", "ports"
            )
        network = select_ports(network, list(options.ports))
    if network.nports == 2:
        return None, network.s, None
    if network.nports != 4:
        raise TouchstoneError(
            f"the file has {network.nports} ports; analyze takes a 4-port single-ended pair, "
            "an 8-port with the ports of one pair, or a 2-port of differential data", "ports"
        )
    port_map, map_warnings = resolve_port_map(network, options.thru)
    warnings.extend(map_warnings)
    ordered = to_se2gmm_order(network, port_map)
    if options.deembed:
        fixture = read_touchstone(options.deembed)
        fixture_map, _ = resolve_port_map(fixture, "auto")
        ordered = deembed_2xthru(ordered, to_se2gmm_order(fixture, fixture_map))
    return ordered, se2gmm_s(ordered), port_map


def _aggressor_sdd21(paths: tuple[str, ...], port_map: PortMap | None,
                     freq_hz: np.ndarray) -> list[np.ndarray]:
    """SDD21 of each aggressor file, mapped like the thru and put on the thru's frequency grid."""
    out = []
    for path in paths:
        aggressor = read_touchstone(path)
        if aggressor.nports != 4 or port_map is None:
            raise InputError(f"{path}: crosstalk files must be 4-ports beside a 4-port thru")
        mm = to_se2gmm_order(aggressor, port_map)
        mm.se2gmm(p=2)
        out.append(np.interp(freq_hz, aggressor.f, np.abs(mm.s[:, 1, 0]), left=np.nan, right=np.nan))
    return out


def analyze(network: rf.Network, options: AnalysisOptions | None = None,
            name: str = "") -> AnalysisResult:
    """Analyse a 4-port (or 2-port differential, or 8-port with ``ports``) channel Network."""
    options = options or AnalysisOptions()
    name = name or network.name or "network"
    warnings: list[str] = []
    ordered, s_mm, port_map = _mixed_mode(network, options, warnings)
    return _figures(network.f, ordered, s_mm, port_map, options, name, warnings)


def analyze_rates(network: rf.Network, bauds: list[float], options: AnalysisOptions | None = None,
                  masked_baud: float | None = None, name: str = "") -> list[AnalysisResult]:
    """``analyze`` at several bauds sharing one port map and mixed-mode conversion.

    ``options.mask`` is applied only at ``masked_baud`` (masks are defined for one rate).
    """
    options = options or AnalysisOptions()
    name = name or network.name or "network"
    warnings: list[str] = []
    ordered, s_mm, port_map = _mixed_mode(network, options, warnings)
    common = _Common(network.f, s_mm)
    return [_figures(network.f, ordered, s_mm, port_map,
                     replace(options, baud=baud, mask=options.mask if baud == masked_baud else None),
                     name, list(warnings), common) for baud in bauds]


class _Common:
    """The figures of a mixed-mode channel that do not depend on the baud, each computed on first use
    (``analyze_rates`` shares them across its rates)."""

    def __init__(self, f: np.ndarray, s_mm: np.ndarray):
        self.f, self.s_mm = f, s_mm
        self._done: dict = {}

    def _get(self, name: str, compute):
        if name not in self._done:
            self._done[name] = compute()
        return self._done[name]

    @property
    def sv(self) -> np.ndarray:
        return self._get("sv", lambda: max_singular_value(self.s_mm))

    @property
    def band(self):
        s = self.s_mm
        return self._get("band", lambda: usable_band(self.f, s[:, 1, 0], s[:, 0, 0], s[:, 1, 1]))

    @property
    def delay_s(self) -> float:
        return self._get("delay", lambda: propagation_delay_s(self.f, self.s_mm[:, 1, 0], self.band.f_max_hz))

    @property
    def causality(self) -> float:
        return self._get("causality", lambda: causality_percent(self.s_mm[:, :2, :2]))

    @property
    def passivity(self) -> float:
        return self._get("passivity", lambda: passivity_percent(self.s_mm[:, :2, :2]))

    @property
    def reciprocity(self) -> float:
        return self._get("reciprocity", lambda: reciprocity_percent(self.s_mm[:, :2, :2]))

    def db_of(self, i: int, j: int) -> np.ndarray:
        """dB of S_mm[i, j] (read-only: the results of every rate share it)."""
        def compute() -> np.ndarray:
            out = db(self.s_mm[:, i, j])
            out.flags.writeable = False
            return out

        return self._get(("db", i, j), compute)


def _figures(f: np.ndarray, ordered: rf.Network | None, s_mm: np.ndarray, port_map: PortMap | None,
             options: AnalysisOptions, name: str, warnings: list[str], common: _Common | None = None) -> AnalysisResult:
    """Every figure of one mixed-mode channel at ``options.baud`` (``common``: its baud-free figures, if shared)."""
    common = common or _Common(f, s_mm)
    nyquist = options.baud / 2.0
    if nyquist > f[-1]:
        raise BandError(
            f"band short of Nyquist: the data ends at {f[-1] / 1e9:g} GHz but Nyquist of "
            f"{options.baud / 1e9:g} GBd is {nyquist / 1e9:g} GHz; measure higher or lower the baud", "baud"
        )

    sv = common.sv  # se2gmm at 100/25 ohm is unitary: same singular values as single-ended
    worst = int(np.argmax(sv))
    passive = bool(sv[worst] <= 1.0 + 1e-3)
    if sv[worst] > 1.0 + options.passivity_tol and not options.allow_nonpassive:
        raise TouchstoneError(
            f"{name}: non-passive data: largest singular value {sv[worst]:.4f} at "
            f"{f[worst] / 1e9:g} GHz (> 1 + {options.passivity_tol:g}); check the calibration "
            "and normalisation, or allow non-passive data to analyse it anyway", "allow_nonpassive"
        )
    if not passive:
        warnings.append(f"slightly non-passive: largest singular value {sv[worst]:.4f} at "
                        f"{f[worst] / 1e9:g} GHz")

    sdd21 = s_mm[:, 1, 0]
    band = common.band
    if nyquist > band.f_max_hz:
        wrong_map = band.f_max_hz < 0.1 * nyquist
        if wrong_map:
            fix = "is the port map right, or is this a NEXT/FEXT file (analyse it as crosstalk)?"
        else:
            fix = (f"use a baud of at most {2 * band.f_max_hz / 1e9:.4g} GBd{_standard_baud_below(2 * band.f_max_hz)}"
                   " or better data")
        raise BandError(
            f"Nyquist {nyquist / 1e9:g} GHz is outside the usable band, which ends at "
            f"{band.f_max_hz / 1e9:g} GHz ({band.reason}); {fix}",
            "baud", *(("thru", "crosstalk") if wrong_map else ())
        )

    il = -common.db_of(1, 0)
    f_fit_max = min(options.fit_f_max_hz or options.baud, band.f_max_hz)
    if np.count_nonzero((f >= options.fit_f_min_hz) & (f <= f_fit_max)) < FIT_MIN_POINTS:
        raise BandError(f"the IL fit band {options.fit_f_min_hz / 1e9:g}..{f_fit_max / 1e9:g} GHz (capped at the "
                        f"usable band) holds fewer than {FIT_MIN_POINTS} frequency points; widen it",
                        "fit_f_min_hz", "fit_f_max_hz")
    fit = fit_il(f, il, options.fit_f_min_hz, f_fit_max)
    transition = options.transition_s or default_transition_s(options.baud)
    ild = ild_figures(f, il, fit, options.baud, transition, options.rx_bw_ratio)

    rl11, rl22 = -common.db_of(0, 0), -common.db_of(1, 1)
    rl_nyq = min(float(np.interp(nyquist, f, rl11)), float(np.interp(nyquist, f, rl22)))
    in_band = (f >= fit.f_min_hz) & (f <= fit.f_max_hz)
    rl_band = np.minimum(rl11, rl22)[in_band]
    k = int(np.argmin(rl_band))

    delay = common.delay_s
    step = float(np.median(np.diff(f)))
    step_max = recommended_step_hz(delay)
    if step > step_max:
        warnings.append(
            f"frequency step {step / 1e6:g} MHz is too coarse for a {delay * 1e9:.3g} ns delay "
            f"(phase turns > 90 deg per point); use {step_max / 1e6:.3g} MHz or finer"
        )

    causality = common.causality
    if causality < 80.0:
        warnings.append(f"IEEE 370 causality {causality:.1f} % is below 80 %: check the step and fixture")

    mask_name = margin = margin_f = None
    if options.mask:
        mask = load_mask(options.mask)
        margin, margin_f = mask_margin_db(mask, f, il)
        mask_name = mask.name

    icn_mv = None
    if options.next_files or options.fext_files:
        next_xt = _aggressor_sdd21(options.next_files, port_map, f)
        fext_xt = _aggressor_sdd21(options.fext_files, port_map, f)
        if any(np.isnan(x).any() for x in next_xt + fext_xt):
            raise InputError("a crosstalk file does not cover the thru's frequency range; use matching files")
        icn_mv = 1e3 * icn_v(f, next_xt, fext_xt, options.baud, options.icn, transition)

    return AnalysisResult(
        file=name,
        baud=options.baud,
        nyquist_hz=nyquist,
        port_map=port_map.to_dict() if port_map else {"thru": None, "source": "2-port differential data"},
        il_db=loss_at(f, sdd21, nyquist),
        il_fitted_db=float(fit(np.array([nyquist]))[0]),
        fit_coeffs_db=fit.coeffs_db,
        fit_band_hz=(fit.f_min_hz, fit.f_max_hz),
        ild_rms_db=ild.ild_rms_db,
        ild_peak_db=ild.ild_peak_db,
        fom_ild_db=ild.fom_ild_db,
        rl_db=rl_nyq,
        sdd11_db=-float(np.interp(nyquist, f, rl11)),
        sdd22_db=-float(np.interp(nyquist, f, rl22)),
        rl_worst_db=float(rl_band[k]),
        rl_worst_freq_hz=float(f[in_band][k]),
        scd21_db=float(np.interp(nyquist, f, common.db_of(3, 0))) if ordered is not None else None,
        scc21_db=float(np.interp(nyquist, f, common.db_of(3, 2))) if ordered is not None else None,
        delay_s=delay,
        passive=passive,
        max_singular_value=float(sv[worst]),
        passivity_percent=common.passivity,
        reciprocity_percent=common.reciprocity,
        causality_percent=causality,
        freq_step_hz=step,
        recommended_step_hz=step_max,
        freq_step_ok=step <= step_max,
        usable_bw_hz=band.f_max_hz,
        usable_bw_reason=band.reason,
        noise_floor_db=band.noise_floor_db,
        deembedded=bool(options.deembed),
        mask=mask_name,
        mask_margin_db=margin,
        mask_margin_freq_hz=margin_f,
        icn_mv=icn_mv,
        warnings=tuple(warnings),
        curves=Curves(f, il, fit(f), common.db_of(0, 0), common.db_of(1, 1), (fit.f_min_hz, fit.f_max_hz), sdd21),
    )


STANDARD_BAUDS = (106.25e9, 53.125e9, 26.5625e9, 25.78125e9, 10.3125e9)  # 200G/100G/50G PAM4, 25G/10G NRZ lanes


def _standard_baud_below(max_baud: float) -> str:
    """`` (e.g. 26.5625 GBd)``: the highest standard lane rate the band supports, or nothing."""
    fitting = [b for b in STANDARD_BAUDS if b <= max_baud]
    return f" (e.g. {fitting[0] / 1e9:g} GBd)" if fitting else ""
