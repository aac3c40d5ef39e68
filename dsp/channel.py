"""Cable channels for the link model: ideal, twinax physics model, or measured SDD21, at any length.

Each channel gives its SDD21 on any frequency grid at a length ``length_m``, and its delay,
so the pulse response can place the pulse in a short window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import skrf as rf
from accbench.dsp.analysis import AnalysisOptions, analyze
from accbench.dsp.figures import impulse_peak_delay_s
from accbench.dsp.portmap import PortMap, resolve_port_map, to_se2gmm_order
from accbench.dsp.tline import line_s2p
from accbench.dsp.twinax import TwinaxSpec, modal_lines

from accbench.errors import InputError

C0 = 299792458.0


def _sdd21(network: rf.Network, port_map: PortMap | None) -> np.ndarray:
    """SDD21 of a 4-port under ``port_map`` (a 2-port is taken as differential already)."""
    if port_map is None:
        return network.s[:, 1, 0]
    mm = to_se2gmm_order(network, port_map)
    mm.se2gmm(p=2)
    return mm.s[:, 1, 0]


@dataclass(frozen=True)
class IdealChannel:
    """A lossless, delay-free channel."""

    length_m: float | None = None

    def sdd21(self, freq_hz: np.ndarray, length_m: float | None = None) -> np.ndarray:
        return np.ones(np.shape(freq_hz), dtype=complex)

    def scaler(self, freq_hz: np.ndarray, end_db_at=None) -> Callable[[float | None], np.ndarray]:
        """SDD21 on ``freq_hz`` as a function of length (with the fixed ends of ``end_db_at``)."""
        ends = 1.0 if end_db_at is None else end_db_at(np.asarray(freq_hz, dtype=float))
        return lambda length_m: self.sdd21(freq_hz, length_m) * ends

    def delay_s(self, length_m: float | None = None) -> float:
        return 0.0


@dataclass(frozen=True)
class TwinaxChannel:
    """The twinax physics model (``accbench.dsp.twinax``) evaluated directly at any length and frequency."""

    spec: TwinaxSpec

    @property
    def length_m(self) -> float:
        return self.spec.length_m

    def sdd21(self, freq_hz: np.ndarray, length_m: float | None = None) -> np.ndarray:
        return self.scaler(freq_hz)(length_m)

    def scaler(self, freq_hz: np.ndarray, end_db_at=None) -> Callable[[float | None], np.ndarray]:
        """SDD21 on ``freq_hz`` as a function of length: the per-metre line computed once (a reach
        search evaluates many lengths), times the fixed ends of ``end_db_at`` when given."""
        f = np.asarray(freq_hz, dtype=float)
        lines = modal_lines(self.spec, f)
        ends = None if end_db_at is None else end_db_at(f)

        def at(length_m: float | None) -> np.ndarray:
            length = self.spec.length_m if length_m is None else length_m
            _, s21 = line_s2p(lines.z_diff, lines.y_diff, length, 100.0)
            skew = self.spec.skew_s_per_m * length
            if skew:  # SDD21 with a delay tau on N: SDD21 (1 + exp(-j w tau)) / 2
                s21 = s21 * (1 + np.exp(-2j * np.pi * f * skew)) / 2
            return s21 if ends is None else s21 * ends

        return at

    def delay_s(self, length_m: float | None = None) -> float:
        from accbench.dsp.dielectric import dielectric_constants

        eps, _ = dielectric_constants(self.spec.dielectric, self.spec.eps_r, self.spec.tan_delta)
        return (self.spec.length_m if length_m is None else length_m) * np.sqrt(eps) / C0


@dataclass(frozen=True)
class MeasuredChannel:
    """SDD21 of a measured 4-port, scalable in length through its per-metre propagation.

    With the measured length L0 known, ln(SDD21) / L0 is the per-metre propagation; the
    channel at length L is exp(L/L0 ln SDD21). Beyond the measured band the magnitude is
    extrapolated with the slope (dB/Hz) of the top tenth of the usable band.
    """

    freq_hz: np.ndarray
    sdd21_data: np.ndarray
    delay_data_s: float
    usable_hz: float
    length_m: float | None = None
    name: str = ""
    log_sdd21: np.ndarray = field(default=None, repr=False)  # ln|SDD21| + j unwrapped residual phase

    port_map: PortMap | None = None

    @classmethod
    def from_network(cls, network: rf.Network, length_m: float | None = None, thru: str = "auto",
                     name: str = "") -> MeasuredChannel:
        """The thru of a measured 4-port (or 2-port differential) file."""
        if length_m is not None and length_m <= 0:
            raise InputError("the measured length must be > 0 m")
        result = analyze(network, AnalysisOptions(baud=2e9, thru=thru), name=name)
        port_map = resolve_port_map(network, thru)[0] if network.nports == 4 else None
        s21 = _sdd21(network, port_map)
        return cls._build(network.f, s21, result.delay_s, result.usable_bw_hz, length_m, name, port_map)

    @classmethod
    def from_analysis(cls, result, length_m: float | None = None, name: str = "") -> MeasuredChannel:
        """The thru of an ``AnalysisResult`` already computed (no second mixed-mode conversion)."""
        if length_m is not None and length_m <= 0:
            raise InputError("the measured length must be > 0 m")
        curves = result.curves
        if curves is None or curves.sdd21 is None:
            raise InputError("this analysis result carries no SDD21 curve; build the channel from the network")
        return cls._build(curves.freq_hz, curves.sdd21, result.delay_s, result.usable_bw_hz, length_m,
                          name or result.file, None)

    @classmethod
    def from_xt(cls, network: rf.Network, thru_channel: MeasuredChannel, name: str = "") -> MeasuredChannel:
        """A NEXT/FEXT aggressor 4-port, mapped like its thru and used as measured (not length-scaled)."""
        if network.nports != 4 or thru_channel.port_map is None:
            raise InputError(f"{name}: crosstalk files must be 4-ports beside a 4-port thru")
        s21 = _sdd21(network, thru_channel.port_map)
        delay = impulse_peak_delay_s(network.f, s21, network.f[-1])
        return cls._build(network.f, s21, delay, float(network.f[-1]), None, name, thru_channel.port_map)

    @classmethod
    def _build(cls, f, s21, delay, usable, length_m, name, port_map) -> MeasuredChannel:
        residual = s21 * np.exp(2j * np.pi * f * delay)
        log = np.log(np.maximum(np.abs(s21), 1e-30)) + 1j * np.unwrap(np.angle(residual))
        return cls(f, s21, delay, usable, length_m, name, log, port_map)

    def _scale(self, length_m: float | None) -> float:
        if length_m is None or self.length_m is None:
            if length_m is not None and self.length_m is None:
                raise InputError("to scale a measured cable to another length, give its measured length",
                                 "measured_length_m")
            return 1.0
        return length_m / self.length_m

    def sdd21(self, freq_hz: np.ndarray, length_m: float | None = None, end_db_at=None) -> np.ndarray:
        """SDD21 (delay removed, then re-applied) on ``freq_hz``, scaled to ``length_m``.

        ``end_db_at`` (a function of frequency giving the complex response of both fixed
        ends together) is divided out before scaling and multiplied back after, so the
        paddle cards do not grow with the cable.
        """
        return self.scaler(freq_hz, end_db_at)(length_m)

    def _log_on(self, f: np.ndarray, end_db_at) -> tuple[np.ndarray, np.ndarray]:
        """ln SDD21 (delay removed) interpolated onto ``f``, the ends divided out when given: (real, imag)."""
        inside = self.freq_hz <= self.usable_hz
        fd, logd = self.freq_hz[inside], self.log_sdd21[inside]
        if end_db_at is not None:
            ends = end_db_at(fd)
            logd = logd - (np.log(np.abs(ends)) + 1j * np.unwrap(np.angle(ends)))
        re = np.interp(f, fd, logd.real)
        im = np.interp(f, fd, logd.imag)
        above = f > fd[-1]
        if above.any():
            tail = fd >= 0.9 * fd[-1]
            slope = min(np.polyfit(fd[tail], logd.real[tail], 1)[0], 0.0)
            re[above] = logd.real[-1] + slope * (f[above] - fd[-1])
        return re, im

    def scaler(self, freq_hz: np.ndarray, end_db_at=None) -> Callable[[float | None], np.ndarray]:
        """``sdd21`` on ``freq_hz`` as a function of length, the interpolation done once (a reach search
        evaluates many lengths); the ends of ``end_db_at`` stay fixed whenever the length is scaled."""
        f = np.asarray(freq_hz, dtype=float)
        logs: dict[bool, tuple[np.ndarray, np.ndarray]] = {}
        ends = None

        def at(length_m: float | None) -> np.ndarray:
            nonlocal ends
            scale = self._scale(length_m)
            fixed = end_db_at is not None and scale != 1.0
            if fixed not in logs:
                logs[fixed] = self._log_on(f, end_db_at if fixed else None)
            re, im = logs[fixed]
            delay = self.delay_data_s * scale
            out = np.exp(scale * (re + 1j * im)) * np.exp(-2j * np.pi * f * delay)
            if fixed:
                ends = end_db_at(f) if ends is None else ends
                out = out * ends
            return out

        return at

    def delay_s(self, length_m: float | None = None) -> float:
        return self.delay_data_s * self._scale(length_m)
