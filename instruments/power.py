"""DC power analyzer: Keysight N6705C mainframe with its modules (the cable's draw).

Every command sent is listed with its source in ``instruments/dialects/keysight-n6705.toml``.
The module of each channel is read once (``SYST:CHAN:MOD? (@ch)``): the current limit is
``SOUR:CURR:LIM`` on the N678xA SMUs (voltage priority) and ``SOUR:CURR`` on every other module,
where the current setting is the limit (N6705C User's Guide p. 198). Also ``SOUR:VOLT <v>,(@ch)``
(checked against the module's rating), ``OUTP ON|OFF,(@ch)``, ``MEAS:VOLT? / MEAS:CURR? (@ch)``;
over-current protection ``CURR:PROT:STAT ON,(@ch)`` and its trip read from ``STAT:QUES:COND? (@ch)``
(bit 1, OC; Operating and Service Guide p. 350); array capture with ``SENS:SWE:POIN <n>,(@ch)``,
``SENS:SWE:TINT <s>,(@ch)`` and ``MEAS:ARR:VOLT? / MEAS:ARR:CURR? (@ch)``, one channel per query.
An RF power meter cannot measure a DC draw; this is the gate's source.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
from accbench.instruments.base import Instrument, in_range

from accbench.capabilities import POWER_MODULES, PowerModule
from accbench.errors import InputError, InstrumentError

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._modules: dict[int, str] = {}

    @staticmethod
    def _check_channel(channel: int) -> int:
        if channel not in (1, 2, 3, 4):
            raise InputError(f"channel {channel}: the N6705C has channels 1..4")
        return channel

    def prepare(self) -> None:
        """Read the module of every channel once, at open."""
        for channel in (1, 2, 3, 4):
            self.module(channel)

    def module(self, channel: int) -> str:
        """The model of the module in ``channel`` (read once from the mainframe)."""
        ch = self._check_channel(channel)
        if ch not in self._modules:
            reply = self.ask(f"SYST:CHAN:MOD? (@{ch})").strip().strip('"')
            self._modules[ch] = reply
        return self._modules[ch]

    def _module_spec(self, channel: int) -> PowerModule | None:
        """The rating of the channel's module; an empty slot is an error naming the channel."""
        model = self.module(channel)
        if not re.fullmatch(r"N67\d\d[A-Z]", model.upper()):
            raise InputError(f"N6705C channel {channel} holds no output module ({model!r}); use another channel")
        return POWER_MODULES.get(model.upper())

    def set_voltage(self, channel: int, volts: float) -> None:
        spec = self._module_spec(channel)
        top = spec.max_v if spec else 60.0
        volts = in_range(0.0, top, f"voltage of channel {channel} ({self.module(channel)})", " V")(volts)
        self.configure(f"SOUR:VOLT {volts:g},(@{channel})", key=f"volt{channel}")

    def set_current_limit(self, channel: int, amps: float) -> None:
        """The current limit: CURR:LIM on an N678xA SMU, CURR (the limit itself) on any other module."""
        spec = self._module_spec(channel)
        top = spec.max_a if spec else 10.0
        amps = in_range(0.0, top, f"current limit of channel {channel} ({self.module(channel)})", " A")(amps)
        smu = spec.smu if spec else self.module(channel).upper().startswith("N678")
        header = "SOUR:CURR:LIM" if smu else "SOUR:CURR"
        self.configure(f"{header} {amps:g},(@{channel})", key=f"ilim{channel}")

    def protect(self, channel: int, on: bool = True) -> None:
        """Over-current protection: trip (output off) at the current limit instead of regulating."""
        self.configure(f"CURR:PROT:STAT {'ON' if on else 'OFF'},(@{self._check_channel(channel)})", key=f"ocp{channel}")

    def tripped(self, channel: int) -> bool:
        """True when the rail's over-current protection has tripped."""
        return bool(int(float(self.ask(f"STAT:QUES:COND? (@{self._check_channel(channel)})"))) & OC_BIT)

    def output(self, channel: int, on: bool) -> None:
        self.configure(f"OUTP {'ON' if on else 'OFF'},(@{self._check_channel(channel)})", key=f"outp{channel}")

    def output_on(self, channel: int) -> bool:
        """True when the rail's output is switched on (``OUTP? (@ch)`` answers 1 or 0)."""
        return bool(int(float(self.ask(f"OUTP? (@{self._check_channel(channel)})"))))

    def measure_voltage(self, channel: int) -> float:
        return float(self.ask(f"MEAS:VOLT? (@{self._check_channel(channel)})"))

    def measure_current(self, channel: int) -> float:
        return float(self.ask(f"MEAS:CURR? (@{self._check_channel(channel)})"))

    def capture(self, channel: int, points: int = 1024, interval_s: float = 1e-3) -> RailReading:
        """Averaged rail power from array captures of voltage and current (DC rails: P = mean V * mean I)."""
        if not 1 <= points <= 524_288:
            raise InputError(f"capture points {points}: use 1..524288")
        ch = self._check_channel(channel)
        spec = self._module_spec(ch)
        fastest = spec.min_interval_s if spec else 10.24e-6
        if not fastest <= interval_s <= 40_000:
            raise InputError(f"capture interval {interval_s:g} s on channel {ch} ({self.module(ch)}): "
                             f"use {fastest:g}..40000 s")
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

        A rail whose protection tripped is an ``OverCurrentError``, never a reading of 0 W. The
        reading is one measurement step: a link recovered during it reads every rail again.
        """
        return self.run_step("supply reading", lambda: self._measure(channels, points))

    def _measure(self, channels: list[int], points: int) -> PowerReading:
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
