"""Cable-assembly figures of one clause: IL at Nyquist, fitted IL, FOM_ILD and ICN, checked against its limits.

``cable_figures`` wraps the project's loss figures (``accbench.dsp.figures``: ``loss_at``, ``fit_il``,
``ild_figures``), ICN (``accbench.dsp.crosstalk.icn_v``) and the usable band (``accbench.dsp.quality``) with the
settings of a clause table (``ClauseParams.raw``: ``[ild]``, ``[icn]``, ``[limits]``, every value
with its source in ``[sources]``). Losses are positive dB, ICN is mV rms.

Where a table gives no FOM_ILD or ICN settings (802.3dj-cr: no public source), they are derived
as the 802.3ck MATLAB COM sheets set theirs: T_t = the clause's T_r, f_r = its COM receiver
filter ratio, band f_1 = 0.05 GHz (MATLAB's f_min) to f_2 = f_b (MATLAB's default), A_nt = A_ne
and A_ft = A_fe (MATLAB's defaults); a warning names what was derived.

Limits (``[limits]``): ``il_max_db_at_nyquist`` (dB at f_b / 2), ``fom_ild_max_db``, ``icn_max_mv``,
and a fitted-IL limit written as an explicit formula, ``[limits.fitted_il_max]`` with
``coeffs_db = [a0, a1, a2, a4]``, ``f_min_ghz`` and ``f_max_ghz``: IL_fitted(f) <= a0 + a1 sqrt(f)
+ a2 f + a4 f^2 (f in GHz, the basis of ``accbench.dsp.figures.IlFit``) over [f_min, f_max]. Only the limits
a table gives are checked.

A deep notch (|SDD21| more than ``NOTCH_DEPTH_DB`` below the fitted IL inside the fit band) is an
outlier that dominates the unweighted least-squares IL fit; it is reported in one warning with the
fitted IL at Nyquist with and without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import skrf as rf
from accbench.dsp.com.channel import channel_port_map, differential
from accbench.dsp.com.params import ClauseParams
from accbench.dsp.crosstalk import IcnParams, icn_v
from accbench.dsp.figures import IlFit, db, fit_il, ild_figures, loss_at
from accbench.dsp.portmap import PortMap
from accbench.dsp.quality import usable_band

from accbench.errors import BandError, InputError

# A regular cable's ILD stays within a few dB (2.7 dB peak for the 802.3ck reference cable over
# 0.05-40 GHz); 15 dB below the fitted IL is a resonance notch that the fit cannot follow.
NOTCH_DEPTH_DB = 15.0
FALLBACK_F_MIN_HZ = 0.05e9  # MATLAB COM's f_1 default is the sheet's f_min, 0.05 GHz on every 802.3ck sheet
CABLE_LIMIT_KEYS = ("il_max_db_at_nyquist", "fitted_il_max", "fom_ild_max_db", "icn_max_mv")


@dataclass(frozen=True)
class IldSettings:
    """FOM_ILD and IL-fit settings of a clause (Hz, s); ``derived`` names those not given by its table."""

    baud: float
    f_min_hz: float
    f_max_hz: float
    transition_s: float
    rx_bw_ratio: float
    derived: tuple[str, ...] = ()


def ild_settings(p: ClauseParams) -> IldSettings:
    """The clause's ``[ild]`` settings, with the documented fallbacks for keys it lacks."""
    t = p.raw.get("ild") or {}
    baud = float(t.get("f_b_gbd", p.baud / 1e9)) * 1e9
    return IldSettings(
        baud=baud,
        f_min_hz=float(t["f_min_ghz"]) * 1e9 if "f_min_ghz" in t else FALLBACK_F_MIN_HZ,
        f_max_hz=float(t["f_max_ghz"]) * 1e9 if "f_max_ghz" in t else baud,
        transition_s=float(t["t_t_ns"]) * 1e-9 if "t_t_ns" in t else p.t_r_s,
        rx_bw_ratio=float(t["f_r"]) if "f_r" in t else p.f_r,
        derived=tuple(k for k in ("f_min_ghz", "f_max_ghz", "t_t_ns", "f_r") if k not in t),
    )


def icn_settings(p: ClauseParams) -> tuple[IcnParams, tuple[str, ...]]:
    """The clause's ``[icn]`` settings as ``IcnParams`` (for ``icn_v`` or ``AnalysisOptions``), and the derived keys."""
    t = p.raw.get("icn") or {}
    ild = ild_settings(p)

    def edge_s(key: str) -> float:
        ns = t.get(key, t.get("t_t_ns"))
        return ild.transition_s if ns is None else float(ns) * 1e-9

    params = IcnParams(
        a_nt_v=float(t.get("a_nt", p.a_ne)), a_ft_v=float(t.get("a_ft", p.a_fe)),
        t_nt_s=edge_s("t_nt_ns"), t_ft_s=edge_s("t_ft_ns"),
        rx_bw_ratio=float(t.get("f_r", ild.rx_bw_ratio)),
        f_min_hz=float(t["f_1_ghz"]) * 1e9 if "f_1_ghz" in t else ild.f_min_hz,
        f_max_hz=float(t["f_2_ghz"]) * 1e9 if "f_2_ghz" in t else ild.f_max_hz,
    )
    derived = [k for k in ("a_nt", "a_ft", "f_1_ghz", "f_2_ghz", "f_r") if k not in t]
    derived += [k for k in ("t_nt_ns", "t_ft_ns") if k not in t and "t_t_ns" not in t]
    return params, tuple(derived)


@dataclass(frozen=True)
class CableFigures:
    """A cable assembly's figures under one clause, with the clause's limits and the checks against them."""

    clause: str
    baud: float
    nyquist_hz: float
    il_db_at_nyquist: float
    fitted_il_db_at_nyquist: float
    fit_coeffs_db: tuple[float, float, float, float]
    fit_band_hz: tuple[float, float]
    ild_peak_db: float
    ild_rms_db: float
    fom_ild_db: float
    icn_mv: float | None
    transition_s: float
    rx_bw_ratio: float
    checks: dict[str, bool] = field(default_factory=dict)
    limits: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """All checks pass; None when the clause gives no limit for these figures."""
        return all(self.checks.values()) if self.checks else None

    def to_dict(self) -> dict:
        """JSON-ready dict of the figures."""
        out = asdict(self)
        out["fit_coeffs_db"] = list(self.fit_coeffs_db)
        out["fit_band_hz"] = list(self.fit_band_hz)
        out["warnings"] = list(self.warnings)
        out["passed"] = self.passed
        return out


def _aggressor_sdd21(nets: Sequence[rf.Network], port_map: PortMap | None, freq_hz: np.ndarray) -> list[np.ndarray]:
    """|SDD21| of each aggressor under the thru's port map, on the thru's frequency grid."""
    out = []
    for net in nets:
        mag = np.interp(freq_hz, net.f, np.abs(differential(net, port_map)[:, 1, 0]), left=np.nan, right=np.nan)
        if np.isnan(mag).any():
            raise InputError(f"{net.name or 'aggressor'}: does not cover the thru's frequency range; "
                             "use crosstalk files measured over the same band")
        out.append(mag)
    return out


def _notch_warning(freq_hz: np.ndarray, il_db: np.ndarray, fit: IlFit, nyquist_hz: float) -> str | None:
    """One line when |SDD21| dips more than NOTCH_DEPTH_DB below the fitted IL inside the fit band."""
    band = (freq_hz >= fit.f_min_hz) & (freq_hz <= fit.f_max_hz)
    f, il = freq_hz[band], il_db[band]
    depth = il - fit(f)
    k = int(np.argmax(depth))
    if depth[k] <= NOTCH_DEPTH_DB:
        return None
    keep = depth <= NOTCH_DEPTH_DB / 2
    clean = fit_il(f[keep], il[keep], fit.f_min_hz, fit.f_max_hz)
    at_nyq = [float(g(np.array([nyquist_hz]))[0]) for g in (fit, clean)]
    return (f"deep notch: |SDD21| {depth[k]:.1f} dB below the fitted IL at {f[k] / 1e9:.2f} GHz (IL {il[k]:.1f} dB), "
            f"inside the IL-fit band {fit.f_min_hz / 1e9:g}-{fit.f_max_hz / 1e9:g} GHz; it dominates the "
            f"least-squares fit (fitted IL at Nyquist {at_nyq[0]:.2f} dB, {at_nyq[1]:.2f} dB without the notch) "
            "and inflates FOM_ILD")


def _checks(limits: dict, il_nyq: float, fit: IlFit, freq_hz: np.ndarray, fom_ild: float,
            icn_mv: float | None) -> dict[str, bool]:
    """Each limit the clause gives, against its figure."""
    checks = {}
    if "il_max_db_at_nyquist" in limits:
        checks["il_at_nyquist"] = il_nyq <= float(limits["il_max_db_at_nyquist"])
    if "fitted_il_max" in limits:
        lim = limits["fitted_il_max"]
        lo, hi = float(lim["f_min_ghz"]) * 1e9, float(lim["f_max_ghz"]) * 1e9
        f = freq_hz[(freq_hz >= lo) & (freq_hz <= hi)]
        bound = IlFit(tuple(float(c) for c in lim["coeffs_db"]), lo, hi)
        checks["fitted_il"] = bool(np.all(fit(f) <= bound(f)))
    if "fom_ild_max_db" in limits:
        checks["fom_ild"] = fom_ild <= float(limits["fom_ild_max_db"])
    if "icn_max_mv" in limits and icn_mv is not None:
        checks["icn"] = icn_mv <= float(limits["icn_max_mv"])
    return checks


def cable_figures(p: ClauseParams, thru: rf.Network, next_nets: Sequence[rf.Network] = (),
                  fext_nets: Sequence[rf.Network] = (), port_map: PortMap | None = None) -> CableFigures:
    """IL at Nyquist (f_b / 2), fitted IL, FOM_ILD and ICN of ``thru`` (4-port) under clause ``p``.

    ``port_map`` is the thru's (``accbench.dsp.com.channel.channel_port_map``; found when None) and applies
    to the aggressors too. ICN is None without aggressors.
    """
    if port_map is None:
        port_map = channel_port_map(thru)
    f = thru.f
    s = differential(thru, port_map)
    sdd21 = s[:, 1, 0]
    nyquist = p.baud / 2
    if nyquist > f[-1]:
        raise BandError(f"band short of Nyquist: the data ends at {f[-1] / 1e9:g} GHz, {p.clause} needs "
                        f"{nyquist / 1e9:g} GHz")
    warnings: list[str] = []
    ild = ild_settings(p)
    icn_params, icn_derived = icn_settings(p)
    with_icn = bool(next_nets or fext_nets)
    derived = sorted(set(ild.derived) | set(icn_derived if with_icn else ()))
    if derived:
        amps = (f", A_nt {icn_params.a_nt_v * 1e3:g} mV, A_ft {icn_params.a_ft_v * 1e3:g} mV" if with_icn else "")
        warnings.append(f"{p.clause} table has no sourced {', '.join(derived)}; derived as the 802.3ck MATLAB sheets "
                        f"do: T_t = T_r = {ild.transition_s * 1e12:g} ps, f_r = {ild.rx_bw_ratio:g} f_b, band "
                        f"{ild.f_min_hz / 1e9:g}-{ild.f_max_hz / 1e9:g} GHz{amps}")

    il = -db(sdd21)
    band = usable_band(f, sdd21, s[:, 0, 0], s[:, 1, 1])
    f_hi = min(ild.f_max_hz, band.f_max_hz)
    if f_hi < ild.f_max_hz:
        why = "end of the data" if band.reason == "full band" else band.reason
        warnings.append(f"IL-fit band cut to {ild.f_min_hz / 1e9:g}-{f_hi / 1e9:g} GHz ({why}) "
                        f"instead of {ild.f_max_hz / 1e9:g} GHz")
    fit = fit_il(f, il, ild.f_min_hz, f_hi)
    figs = ild_figures(f, il, fit, ild.baud, ild.transition_s, ild.rx_bw_ratio)
    notch = _notch_warning(f, il, fit, nyquist)
    if notch:
        warnings.append(notch)

    icn_mv = None
    if with_icn:
        if (icn_params.f_max_hz or ild.baud) > f[-1]:
            warnings.append(f"ICN band cut at the end of the data, {f[-1] / 1e9:g} GHz, instead of "
                            f"{(icn_params.f_max_hz or ild.baud) / 1e9:g} GHz")
        next_xt = _aggressor_sdd21(next_nets, port_map, f)
        fext_xt = _aggressor_sdd21(fext_nets, port_map, f)
        icn_mv = 1e3 * icn_v(f, next_xt, fext_xt, ild.baud, icn_params, ild.transition_s)

    limits = {k: v for k, v in (p.raw.get("limits") or {}).items() if k in CABLE_LIMIT_KEYS}
    il_nyq = loss_at(f, sdd21, nyquist)
    return CableFigures(
        clause=p.clause, baud=p.baud, nyquist_hz=nyquist,
        il_db_at_nyquist=il_nyq, fitted_il_db_at_nyquist=float(fit(np.array([nyquist]))[0]),
        fit_coeffs_db=fit.coeffs_db, fit_band_hz=(fit.f_min_hz, fit.f_max_hz),
        ild_peak_db=figs.ild_peak_db, ild_rms_db=figs.ild_rms_db, fom_ild_db=figs.fom_ild_db, icn_mv=icn_mv,
        transition_s=ild.transition_s, rx_bw_ratio=ild.rx_bw_ratio,
        checks=_checks(limits, il_nyq, fit, f, figs.fom_ild_db, icn_mv), limits=limits,
        warnings=tuple(warnings),
        sources={k: v for k, v in p.sources.items() if k in ("ild", "icn", "limits", "limits_cable")},
    )


__all__ = ["NOTCH_DEPTH_DB", "CableFigures", "IldSettings", "cable_figures", "icn_settings", "ild_settings"]
