"""DC power analyzer: Keysight N6705C mainframe with N678xA / N676xA modules (the cable's draw).

Commands (N6705 programming guide): ``SOUR:VOLT <v>,(@ch)``, ``SOUR:CURR:LIM <a>,(@ch)``,
``OUTP ON|OFF,(@ch)``, ``MEAS:VOLT? (@ch)``, ``MEAS:CURR? (@ch)``; over-current protection
``CURR:PROT:STAT ON,(@ch)`` and its trip read from ``STAT:QUES:COND? (@ch)`` (bit 1, OC); array capture with
``SENS:SWE:POIN <n>,(@ch)``, ``SENS:SWE:TINT <s>,(@ch)`` and ``MEAS:ARR:VOLT? / MEAS:ARR:CURR? (@ch)``
for averaged power. An RF power meter cannot measure a DC draw; this is the gate's source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from accbench.errors import InputError, InstrumentError
from instruments.base import Instrument, in_range

OC_BIT = 2  # STAT:QUES:COND bit 1: over-current protection tripped


class OverCurrentError(InstrumentError):
    """A rail's over-current protection tripped: the cable drew more than its current limit."""


@dataclass(frozen=True)
class RailReading:
    """One rail: volts, amps and watts (averaged when captured as arrays)."""

    channel: int
    volts: float
    amps: float
    watts: float


@dataclass(frozen=True)
class PowerReading:
    """All rails of one measurement and their total."""

    channels: list[RailReading]
    total_w: float

    def to_dict(self) -> dict:
        return {"channels": [asdict(c) for c in self.channels], "total_w": self.total_w}


def _floats(reply: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in reply.split(",") if v.strip()])
    except ValueError as exc:
        raise InstrumentError(f"N6705C: cannot read numbers from {reply[:60]!r}") from exc


class KeysightN6705C(Instrument):
    """Keysight N6705C DC power analyzer (up to four modules, channels 1..4)."""

    DIALECT = "keysight-n6705"
    MODELS = (r"N6705", r"N6715")
    KIND = "power"

    @staticmethod
    def _check_channel(channel: int) -> int:
        if channel not in (1, 2, 3, 4):
            raise InputError(f"channel {channel}: the N6705C has channels 1..4")
        return channel

    def set_voltage(self, channel: int, volts: float) -> None:
        volts = in_range(0.0, 60.0, "voltage", " V")(volts)
        self.configure(f"SOUR:VOLT {volts:g},(@{self._check_channel(channel)})", key=f"volt{channel}")

    def set_current_limit(self, channel: int, amps: float) -> None:
        amps = in_range(0.0, 10.0, "current limit", " A")(amps)
        self.configure(f"SOUR:CURR:LIM {amps:g},(@{self._check_channel(channel)})", key=f"ilim{channel}")

    def protect(self, channel: int, on: bool = True) -> None:
        """Over-current protection: trip (output off) at the current limit instead of regulating."""
        self.configure(f"CURR:PROT:STAT {'ON' if on else 'OFF'},(@{self._check_channel(channel)})", key=f"ocp{channel}")

    def tripped(self, channel: int) -> bool:
        """True when the rail's over-current protection has tripped."""
        return bool(int(float(self.ask(f"STAT:QUES:COND? (@{self._check_channel(channel)})"))) & OC_BIT)

    def output(self, channel: int, on: bool) -> None:
        self.configure(f"OUTP {'ON' if on else 'OFF'},(@{self._check_channel(channel)})", key=f"outp{channel}")

    def measure_voltage(self, channel: int) -> float:
        return float(self.ask(f"MEAS:VOLT? (@{self._check_channel(channel)})"))

    def measure_current(self, channel: int) -> float:
        return float(self.ask(f"MEAS:CURR? (@{self._check_channel(channel)})"))

    def capture(self, channel: int, points: int = 1024, interval_s: float = 1e-3) -> RailReading:
        """Averaged rail power from array captures of voltage and current (DC rails: P = mean V * mean I)."""
        if not 1 <= points <= 500_000:
            raise InputError(f"capture points {points}: use 1..500000")
        ch = self._check_channel(channel)
        self.configure(f"SENS:SWE:POIN {points},(@{ch})", key=f"poin{ch}")
        self.configure(f"SENS:SWE:TINT {interval_s:g},(@{ch})", key=f"tint{ch}")
        previous = self.timeout_s
        self.timeout_s = max(previous, 3 * points * interval_s + 5)
        self._set_timeout(self.timeout_s)
        try:
            volts = _floats(self.ask(f"MEAS:ARR:VOLT? (@{ch})"))
            amps = _floats(self.ask(f"MEAS:ARR:CURR? (@{ch})"))
        finally:
            self.timeout_s = previous
            self._set_timeout(previous)
        if volts.size != points or amps.size != points:
            raise InstrumentError(f"N6705C: capture returned {volts.size}/{amps.size} points, expected {points}")
        v, i = float(volts.mean()), float(amps.mean())
        return RailReading(ch, v, i, v * i)

    def measure(self, channels: list[int], points: int = 0) -> PowerReading:
        """Volts, amps and watts of each rail (arrays averaged when ``points`` > 0) and the total.

        A rail whose protection tripped is an ``OverCurrentError``, never a reading of 0 W.
        """
        rails = []
        for ch in channels:
            if points:
                rails.append(self.capture(ch, points))
            else:
                v, i = self.measure_voltage(ch), self.measure_current(ch)
                rails.append(RailReading(ch, v, i, v * i))
            if self.tripped(ch):
                raise OverCurrentError(f"{self.DIALECT}: rail {ch} tripped over-current; the cable draws more than "
                                       "the limit (a fault in the unit?) - clear with OUTP:PROT:CLE after checking it")
        return PowerReading(rails, sum(r.watts for r in rails))

    def power_up(self, channels: list[int], volts: float, current_limit_a: float = 2.0) -> None:
        """Set every rail to ``volts`` with a current limit and over-current protection, then switch on."""
        for ch in channels:
            self.set_voltage(ch, volts)
            self.set_current_limit(ch, current_limit_a)
            self.protect(ch, True)
        for ch in channels:
            self.output(ch, True)
