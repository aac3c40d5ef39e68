"""Checks of a Network read from a Touchstone file: grid, values, port impedance, frequency scale.

The frequency unit of a Touchstone file is a word on the option line; a wrong one scales
every frequency by a power of 1000 and nothing else in the file tells. A cable gives it away:
its band, its step and its delay (the phase slope of its strongest transmission path) are
physical quantities, and a 1000-fold error puts at least one of them where no cable is.

Frequency-scale bounds (module constants)
------------------------------------------
Errors (physically impossible for an S-parameter file of a channel):

``F_TOP_MAX_HZ`` = 2 THz
    Coaxial lines end at 220 GHz (0.6 mm connector); the highest waveguide VNA extenders
    (WR-1.0, WR-0.65) end at 1.1-1.5 THz. No S-parameter measurement reaches 2 THz.
``F_TOP_MIN_HZ`` = 1 kHz
    A channel whose whole band is below 1 kHz is a lumped wire (the wavelength is 300 km):
    its S-parameters are constants and no high-speed VNA sweep ends there.

Warnings (implausible for a cable; the data may be a different device):

``F_TOP_HIGH_HZ`` = 300 GHz
    above every coaxial connector, so above any cable measurement;
``F_TOP_LOW_HZ`` = 100 MHz
    below the Nyquist frequency of the slowest link this tool analyses (1 GBd -> 500 MHz);
``STEP_MIN_HZ`` = 1 kHz
    a step resolves delays up to 1 / (2 step): 1 kHz serves 500 us, 100 km of cable;
``DELAY_MAX_S`` = 1 us
    about 200 m of cable at 0.7 c; copper links end at 100 m (Ethernet), these at a few m.

The 1000-fold mistakes land outside them: Hz data declared as kHz ends at 60 THz (error),
GHz data declared as MHz ends at 60 MHz with a step of 10 kHz and a delay of microseconds
(warning). The likely unit named in the message is the one that moves all of them back.
"""

from __future__ import annotations

import numpy as np
import skrf as rf
from accbench.dsp.touchstone_header import R_MAX_OHM, R_MIN_OHM

from accbench.errors import TouchstoneError

F_TOP_MAX_HZ = 2e12
F_TOP_MIN_HZ = 1e3
F_TOP_HIGH_HZ = 300e9
F_TOP_LOW_HZ = 100e6
STEP_MIN_HZ = 1e3
DELAY_MAX_S = 1e-6
S_MAX = 1e6  # |S| above 120 dB of gain: no device has it, the numbers are garbled
CABLE_VELOCITY_M_PER_S = 0.7 * 299_792_458.0
_TYPICAL_TOP_HZ = 30e9
_UNIT_HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}


def check_network(network: rf.Network, name: str) -> None:
    """Raise TouchstoneError unless the Network has >= 2 points, finite rising frequencies >= 0 and sane data."""
    freq = network.f
    if freq.size == 0:
        raise TouchstoneError(f"{name}: no S-parameter data found; is this a Touchstone file?")
    if freq.size < 2:
        raise TouchstoneError(f"{name}: only {freq.size} frequency point(s); a sweep needs many")
    if not np.isfinite(freq).all():
        bad = int(np.argmin(np.isfinite(freq)))
        raise TouchstoneError(f"{name}: frequency point {bad + 1} is not finite ({freq[bad]}); re-export the file")
    if freq[0] < 0:
        raise TouchstoneError(f"{name}: frequency point 1 is negative ({freq[0]:.6g} Hz); a sweep starts at "
                              "0 Hz (DC) or above: remove the negative points or fix the export")
    if not np.all(np.diff(freq) > 0):
        bad = int(np.argmin(np.diff(freq) > 0)) + 1
        raise TouchstoneError(
            f"{name}: frequency is not strictly increasing at point {bad + 1} "
            f"({freq[bad]:.6g} Hz after {freq[bad - 1]:.6g} Hz); remove the repeated or "
            "out-of-order points"
        )
    finite = np.isfinite(network.s).all(axis=(1, 2))
    if not finite.all():
        bad = int(np.argmin(finite))
        raise TouchstoneError(
            f"{name}: S-parameters at {freq[bad] / 1e9:.6g} GHz are not finite (NaN or inf); "
            "re-export the file or remove that point"
        )
    sane = (np.abs(network.s) <= S_MAX).all(axis=(1, 2))
    if not sane.all():
        bad = int(np.argmin(sane))
        raise TouchstoneError(f"{name}: an S-parameter at {freq[bad] / 1e9:.6g} GHz exceeds {S_MAX:g} "
                              "(120 dB of gain); the data is garbled: re-export the file")


def check_port_impedance(network: rf.Network, name: str) -> None:
    """Raise unless every port impedance (option line, [Reference] or HFSS comments) is usable."""
    z0 = np.asarray(network.z0)
    good = np.isfinite(z0) & (z0.real >= R_MIN_OHM) & (np.abs(z0) <= R_MAX_OHM)
    if not good.all():
        bad = z0.flat[int(np.argmin(good.ravel()))]
        raise TouchstoneError(f"{name}: port impedance {bad:.6g} ohm is not finite with a real part between "
                              f"{R_MIN_OHM:g} and {R_MAX_OHM:g} ohm; write e.g. 'R 50' on the option line")


def check_frequency_count(network: rf.Network, declared: int | None, name: str) -> None:
    """Raise when a Touchstone 2 [Number of Frequencies] differs from the records in the file."""
    if declared is not None and declared != network.f.size:
        raise TouchstoneError(
            f"{name}: [Number of Frequencies] says {declared} but the data holds {network.f.size} frequency "
            "records; correct the count (or re-export: the file may be truncated)"
        )


def frequency_scale_warnings(network: rf.Network, name: str, option_line: str) -> list[str]:
    """Check the frequency scale against what a cable can be; return warnings, raise when impossible.

    ``option_line`` is the canonical option line (its second field is the declared unit).
    """
    freq = network.f
    declared = _unit_name(option_line.split()[1])
    top, step = float(freq[-1]), float(np.median(np.diff(freq)))
    delay = transmission_delay_s(freq, network.s)
    likely = _likely_unit(top, step, delay, declared)
    if top > F_TOP_MAX_HZ or top < F_TOP_MIN_HZ:
        where = ("above any S-parameter measurement (2 THz)" if top > F_TOP_MAX_HZ
                 else "below 1 kHz, where no channel is measured")
        raise TouchstoneError(f"{name}: the sweep ends at {_format_hz(top)}, {where}; "
                              f"{_unit_fix(likely, declared, option_line)}")
    problems = []
    if top < F_TOP_LOW_HZ or top > F_TOP_HIGH_HZ:
        problems.append(f"the band ends at {_format_hz(top)}")
    if step < STEP_MIN_HZ:
        problems.append(f"the step is {_format_hz(step)}")
    if delay is not None and delay > DELAY_MAX_S:
        problems.append(f"the delay is {delay * 1e6:.3g} us (about {delay * CABLE_VELOCITY_M_PER_S:.0f} m of cable)")
    if not problems:
        return []
    return [f"{name}: frequency scale implausible for a cable: {', '.join(problems)}; "
            f"{_unit_fix(likely, declared, option_line)}"]


def transmission_delay_s(freq_hz: np.ndarray, s: np.ndarray) -> float | None:
    """Group delay of the strongest transmission path (median over its strong points), or None.

    The path is the off-diagonal entry with the largest mean magnitude over the lowest tenth
    of the band; None when it is below 0.1 (crosstalk-only or reflection data) or too noisy.
    The per-step phase difference never needs unwrapping, and scales exactly with the unit.
    """
    nports = s.shape[1]
    if nports < 2:
        return None
    low = np.abs(s[: max(2, freq_hz.size // 10)]).mean(axis=0)
    np.fill_diagonal(low, 0.0)
    i, j = np.unravel_index(int(np.argmax(low)), low.shape)
    if low[i, j] < 0.1:
        return None
    path = s[:, i, j]
    strong = np.abs(path) >= 0.5 * np.abs(path).max()
    use = strong[1:] & strong[:-1]
    if use.sum() < 3:
        return None
    turn = np.angle(path[1:][use] * np.conj(path[:-1][use]))
    return float(np.median(-turn / (2 * np.pi * np.diff(freq_hz)[use])))


def _unit_name(token: str) -> str:
    """The canonical spelling (Hz, kHz, MHz, GHz) of a unit token of any case."""
    return {u.lower(): u for u in _UNIT_HZ}[token.lower()]


def _likely_unit(top_hz: float, step_hz: float, delay_s: float | None, declared: str) -> str | None:
    """The unit that would make band, step and delay plausible for a cable, or None."""
    best, best_score = None, np.inf
    for unit, scale in _UNIT_HZ.items():
        ratio = scale / _UNIT_HZ[declared]
        plausible = (F_TOP_LOW_HZ <= top_hz * ratio <= F_TOP_HIGH_HZ and step_hz * ratio >= STEP_MIN_HZ
                     and (delay_s is None or delay_s / ratio <= DELAY_MAX_S))
        score = abs(np.log10(top_hz * ratio / _TYPICAL_TOP_HZ))
        if plausible and score < best_score:
            best, best_score = unit, score
    return best


def _unit_fix(likely: str | None, declared: str, option_line: str) -> str:
    """The fix to print: the option line with the likely unit, or a request to check it."""
    if likely is None or likely == declared:
        return f"check the frequency unit on the option line ({declared})"
    fields = option_line.partition("!")[0].split()
    fields[1] = likely
    return f"the numbers look like {likely}, not {declared}: write '{' '.join(fields)}' as the option line"


def _format_hz(value: float) -> str:
    """A frequency with an SI prefix: 6e13 -> '60 THz'."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}Hz"
    return f"{value:.3g} Hz"
