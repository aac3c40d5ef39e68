"""Channels on the COM system grid: the victim and its aggressors with the transmitter and receiver ends.

As MATLAB COM and PyChOpMarg do it: the differential two-port of each measured channel is referenced to
2 R0, cascaded with the ends at its own frequencies, terminated (93A-18), multiplied by the transmitter
edge Ht (93A-46) and the receiver filter Hr (93A-20), interpolated onto the system grid (magnitude linear
with a trend to DC and beyond the data, unwrapped phase linear with group-delay trends), its impulse
response truncated after the last sample above 1e-3 of its peak, and Ht Hr divided back out.
The system grid: f = 0 .. M fb / 2 in steps of f_step, so the time step is one M-th of a UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import scipy.fft as sfft
import skrf as rf
from accbench.dsp.com import twoport as tp
from accbench.dsp.com.devices import EndCase, receiver, transmitter
from accbench.dsp.com.memo import CACHE_SIZE, Keyed, frozen, keyed
from accbench.dsp.com.params import ClauseParams
from accbench.dsp.com.threads import threads
from accbench.dsp.portmap import PortMap, resolve_port_map

from accbench.errors import BandError, InputError

IR_TRUNCATION = 1e-3
BUTTERWORTH4 = (3.414214, 2.613126)


@dataclass(frozen=True)
class SystemGrid:
    """The common frequency grid (Hz) and time step (s) of one clause."""

    baud: float
    samples_per_ui: int
    f_step_hz: float

    @cached_property
    def dt_s(self) -> float:
        return 1.0 / (self.baud * self.samples_per_ui)

    @cached_property
    def n_time(self) -> int:
        return round(1.0 / (self.f_step_hz * self.dt_s))

    @cached_property
    def freq_hz(self) -> np.ndarray:
        return np.arange(self.n_time // 2 + 1) * self.f_step_hz


def tx_edge(freq_hz: np.ndarray, t_r_s: float) -> np.ndarray:
    """Gaussian transmitter edge filter (93A-46): exp(-2 (pi f T_r / 1.6832)^2)."""
    return np.exp(-2 * (np.pi * freq_hz * t_r_s / 1.6832) ** 2)


def rx_filter(freq_hz: np.ndarray, f_3db_hz: float) -> np.ndarray:
    """Fourth-order Butterworth receiver filter (93A-20)."""
    x = freq_hz / f_3db_hz
    a, b = BUTTERWORTH4
    return 1.0 / (1 - a * x**2 + x**4 + 1j * b * (x - x**3))


def differential(network: rf.Network, port_map: PortMap | None) -> np.ndarray:
    """The differential two-port (F, 2, 2) of a 4-port under ``port_map``, at 100 ohm (a 2-port as it is).

    SDD = D S D^T with D = [[1, -1, 0, 0], [0, 0, 1, -1]] / sqrt(2) on the ports in se2gmm order: the DD
    block of scikit-rf's ``se2gmm(p=2)`` (tests hold the two equal), without its other three blocks.
    """
    if network.nports == 2:
        return network.s.copy()
    if network.nports != 4:
        raise InputError(f"{network.name or 'channel'}: COM needs a 4-port (or differential 2-port), "
                         f"not a {network.nports}-port")
    s = network.s[:, port_map.order][:, :, port_map.order] if port_map is not None else network.s
    d = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]) / np.sqrt(2)
    return d @ s @ d.T


def _interp_extrap(x: np.ndarray, y: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """Linear interpolation, extended linearly from the end segments."""
    out = np.interp(xq, x, y)
    lo, hi = xq < x[0], xq > x[-1]
    out[lo] = y[0] + (xq[lo] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
    out[hi] = y[-1] + (xq[hi] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return out


def _trend(values: np.ndarray) -> float:
    """Mean after dropping values further than one standard deviation from the median."""
    keep = np.abs(values - np.median(values)) < np.std(values, ddof=1)
    return float(np.mean(values[keep])) if keep.any() else float(np.mean(values))


def interpolate_transfer(h: np.ndarray, f_in: np.ndarray, f_out: np.ndarray) -> np.ndarray:
    """A transfer function onto ``f_out`` (from 0): magnitude linear, to DC along a fit of its first 10
    points and above the data toward a fit of its upper half; phase linear, its first points and its
    continuation above the data following the low- and high-frequency group delay."""
    eps = np.finfo(float).eps
    mag = np.maximum(np.abs(h), eps)
    fx, mx = f_in, mag
    if f_in[0] > 0:
        fit = np.polyfit(f_in[:10], mag[:10], 1)
        fx, mx = np.concatenate(([0.0], fx)), np.concatenate(([np.polyval(fit, 0.0)], mx))
    if f_in[-1] < f_out[-1]:
        mid = int(np.floor(len(f_in) / 2 + 0.5)) - 1
        fit = np.polyfit(f_in[mid:], mag[mid:], 1)
        top = min(max(np.polyval(fit, f_out[-1]), eps), mag[-1])
        fx, mx = np.concatenate((fx, [f_out[-1]])), np.concatenate((mx, [top]))
    mag_out = _interp_extrap(fx, mx, f_out)
    phase = np.unwrap(np.angle(h))
    if f_in[0] != 0:
        delay = -np.diff(phase) / np.diff(f_in)
        low = _trend(delay[:50])
        for k in range(9, -1, -1):
            phase[k] = phase[k + 1] + low * (f_in[k + 1] - f_in[k])
        phase_out = _interp_extrap(f_in, phase, f_out)
        above = f_out > f_in[-1]
        if above.any():
            last = int(np.argmax(above)) - 1
            phase_out[above] = phase_out[last] - (f_out[above] - f_out[last]) * _trend(delay[-51:])
    else:
        phase_out = _interp_extrap(f_in, phase, f_out)
    return mag_out * np.exp(1j * phase_out)


@dataclass(frozen=True)
class Path:
    """One signal path on the system grid: its kind and terminated response without Ht and Hr."""

    kind: str  # "thru", "next" or "fext"
    name: str
    h21: np.ndarray = field(repr=False)


END_FIELDS = ("method", "r_0", "device", "packages", "host")  # what the ends depend on
FILTER_FIELDS = ("t_r_s", "f_r", "baud")  # what Ht Hr depends on


def path_ends(p: ClauseParams, f_ch: np.ndarray, end: EndCase, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(transmitting end, receiving end) of a ``kind`` path on the channel's grid, cached per clause and grid."""
    return _path_ends(keyed(p, END_FIELDS), keyed(f_ch), end, {"thru": "tx", "next": "next", "fext": "fext"}[kind])


@lru_cache(maxsize=CACHE_SIZE)
def _path_ends(p: Keyed, f: Keyed, end: EndCase, role: str) -> tuple[np.ndarray, np.ndarray]:
    return frozen(transmitter(f.value, p.value, end, role), receiver(f.value, p.value, end))


def edge_and_filter(p: ClauseParams, freq_hz: np.ndarray) -> np.ndarray:
    """Ht Hr (93A-46 x 93A-20) on ``freq_hz``, cached per clause and grid."""
    return _edge_and_filter(keyed(p, FILTER_FIELDS), keyed(freq_hz))


@lru_cache(maxsize=CACHE_SIZE)
def _edge_and_filter(p: Keyed, f: Keyed) -> np.ndarray:
    return frozen(tx_edge(f.value, p.value.t_r_s) * rx_filter(f.value, p.value.f_r * p.value.baud))[0]


def system_filters(p: ClauseParams, grid: SystemGrid) -> tuple[np.ndarray, np.ndarray]:
    """(Ht Hr, Hr) on the system grid, cached per clause and grid."""
    return _system_filters(keyed(p, FILTER_FIELDS), grid)


@lru_cache(maxsize=CACHE_SIZE)
def _system_filters(p: Keyed, grid: SystemGrid) -> tuple[np.ndarray, np.ndarray]:
    f, q = grid.freq_hz, p.value
    hr = rx_filter(f, q.f_r * q.baud)
    return frozen(tx_edge(f, q.t_r_s) * hr, hr)


def terminated_path(p: ClauseParams, grid: SystemGrid, sdd: np.ndarray, f_ch: np.ndarray, end: EndCase,
                    kind: str, name: str) -> Path:
    """Cascade a channel (differential two-port at 100 ohm, on ``f_ch``) with its ends, onto the system grid."""
    return terminated_paths(p, grid, [(kind, name, sdd, f_ch)], end)[0]


def terminated_paths(p: ClauseParams, grid: SystemGrid, channels: list[tuple[str, str, np.ndarray, np.ndarray]],
                     end: EndCase) -> list[Path]:
    """``terminated_path`` of every (kind, name, sdd, f_ch), the time-domain truncation of all in one pair of
    multi-row transforms on the cores (the system grid's FFTs dominate the set-up)."""
    gamma = (p.r_d - p.r_0) / (p.r_d + p.r_0)
    f = grid.freq_hz
    vtfs = np.empty((len(channels), f.size), dtype=complex)
    for row, (kind, _, sdd, f_ch) in enumerate(channels):
        s = tp.renormalize(sdd, 100.0, 2 * p.r_0)
        tx, rx = path_ends(p, f_ch, end, kind)
        full = tp.cascade(tx, s, rx)
        vtfs[row] = interpolate_transfer(edge_and_filter(p, f_ch) * tp.transfer(full, gamma, gamma), f_ch, f)
    impulses = sfft.irfft(vtfs, n=grid.n_time, axis=-1, workers=threads())
    for impulse in impulses:
        mag = np.abs(impulse)
        impulse[np.nonzero(mag > IR_TRUNCATION * mag.max())[0][-1] + 1:] = 0.0
    vtfs = sfft.rfft(impulses, axis=-1, workers=threads())
    hthr = system_filters(p, grid)[0]
    ok = np.abs(hthr) > 1e-250
    paths = []
    for (kind, name, _, _), vtf in zip(channels, vtfs, strict=True):
        h21 = np.zeros(f.size, dtype=complex)
        h21[ok] = vtf[ok] / hthr[ok]
        paths.append(Path(kind, name, h21))
    return paths


def check_band(p: ClauseParams, network: rf.Network, name: str) -> None:
    """The channel's data must reach the clause's Nyquist frequency and be finely enough stepped."""
    f = network.f
    if f[-1] < p.baud / 2:
        raise BandError(f"{name}: the data stop at {f[-1] / 1e9:g} GHz, short of the {p.clause} Nyquist "
                        f"{p.baud / 2e9:g} GHz; measure to at least {p.baud / 2e9:g} GHz")
    step = float(np.median(np.diff(f)))
    if step > 2 * p.f_step_hz:
        raise BandError(f"{name}: a frequency step of {step / 1e6:g} MHz is too coarse for COM (the clause uses "
                        f"{p.f_step_hz / 1e6:g} MHz); measure with a finer step")


def channel_port_map(network: rf.Network, thru: str = "auto") -> PortMap | None:
    return resolve_port_map(network, thru)[0] if network.nports == 4 else None
