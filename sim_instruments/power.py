"""Simulated Keysight N6705C: rails 1 and 2 feed the two ends of the connected cable, each end a
constant-power load (its regulators) drawing half the ACC power model at the running rate.

Written from the N6705C / N6700 guides (and public drivers where no page was in reach): each slot
holds a module (default N6781A SMU in 1, N6762A precision module in 2, 3 and 4 empty) with the
ratings of ``accbench.capabilities``; ``SYST:CHAN:MOD?`` names them ("Not Present" for an empty
slot, an assumption). The current limit is ``CURR:LIM`` on an N678xA SMU (voltage priority) and
``CURR`` on every other module, where ``CURR:LIM`` is refused (-221, the code an assumption);
settings beyond a module's rating are -222; a channel with no module is -222.
Readings carry measurement noise; a rail whose load exceeds the current limit trips when
over-current protection is on (output off, questionable-condition bit 1 "OC" set) and
otherwise regulates at the limit with the voltage sagging (CC mode).
"""

from __future__ import annotations

import time

import numpy as np
from accbench.sim.base import SimInstrument
from accbench.sim.scpi import ScpiError, boolean, channel_list, number, split_params

from accbench.capabilities import POWER_MODULES

CHANNELS = (1, 2, 3, 4)
LOAD_CHANNELS = (1, 2)  # end A and end B of the cable
UVLO_V = 2.5  # below this the plug's regulators do not start
OC_BIT = 2  # STAT:QUES:COND bit 1
CURRENT_NOISE_A = 2e-4
VOLTAGE_NOISE_V = 5e-4
SHORTED_FACTOR = 5.0  # an over-current fault multiplies the load
EMPTY = "Not Present"
DEFAULT_MODULES = ("N6781A", "N6762A", EMPTY, EMPTY)
MAX_POINTS = 524_288


class SimKeysightN6705(SimInstrument):
    ROLE = "power"
    DEVICE = "power-n6705"

    def reset(self) -> None:
        super().reset()
        modules = tuple(self.bench.layout.get("n6705", DEFAULT_MODULES))
        self.modules = {ch: modules[ch - 1] if ch <= len(modules) else EMPTY for ch in CHANNELS}
        self.volts = dict.fromkeys(CHANNELS, 0.0)
        self.limit = {ch: self._spec(ch).max_a if self._spec(ch) else 0.0 for ch in CHANNELS}
        self.level = dict.fromkeys(CHANNELS, 0.0)  # an SMU's current-priority level (not a limit)
        self.on = dict.fromkeys(CHANNELS, False)
        self.protect = dict.fromkeys(CHANNELS, False)
        self.tripped = dict.fromkeys(CHANNELS, False)
        self.points = dict.fromkeys(CHANNELS, 1024)
        self.interval = dict.fromkeys(CHANNELS, 20.48e-6)
        self.readings = 0

    def register(self) -> None:
        e = self.engine
        e.add("[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]", self._set_rated("volts", "max_v"),
              self._getter("volts"))
        e.add("[SOURce]:CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]", self._set_current(limit=True),
              self._getter("limit"))
        e.add("[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", self._set_current(limit=False),
              lambda p, s: ",".join(f"{self._current_setting(c):g}" for c in self._channels(p)))
        e.add("[SOURce]:CURRent:PROTection:STATe", self._set_flag("protect"), self._flag("protect"))
        e.add("SYSTem:CHANnel[:COUNt]", query=lambda p, s: str(sum(m != EMPTY for m in self.modules.values())))
        e.add("SYSTem:CHANnel:MODel",
              query=lambda p, s: ",".join(self.modules[c] for c in self._channels(p, any_slot=True)))
        e.add("OUTPut[:STATe]", self._set_output, self._flag("on"))
        e.add("OUTPut:PROTection:CLEar", self._clear)
        e.add("MEASure[:SCALar]:VOLTage[:DC]", query=lambda p, s: self._measure(p, volts=True))
        e.add("MEASure[:SCALar]:CURRent[:DC]", query=lambda p, s: self._measure(p, volts=False))
        e.add("SENSe:SWEep:POINts", self._setter("points", 1, MAX_POINTS, integer=True), self._getter("points"))
        e.add("SENSe:SWEep:TINTerval", self._set_interval, self._getter("interval"))
        e.add("MEASure:ARRay:VOLTage[:DC]", query=lambda p, s: self._array(p, volts=True))
        e.add("MEASure:ARRay:CURRent[:DC]", query=lambda p, s: self._array(p, volts=False))
        e.add("STATus:QUEStionable:CONDition", query=self._condition)

    # --- modules
    def _spec(self, channel: int):
        return POWER_MODULES.get(self.modules.get(channel, EMPTY))

    def _current_setting(self, channel: int) -> float:
        spec = self._spec(channel)
        return self.level[channel] if spec is not None and spec.smu else self.limit[channel]

    def _set_rated(self, store: str, rating: str):
        """A setting bounded by each channel's module rating (-222 beyond it)."""
        def set_value(params, _s):
            value, channels = self._split(params)
            for ch in channels:
                getattr(self, store)[ch] = number(value, 0, getattr(self._spec(ch), rating))
        return set_value

    def _set_current(self, limit: bool):
        """CURR:LIM (SMU only) or CURR: on a non-SMU module CURR is the current limit itself."""
        def set_value(params, _s):
            value, channels = self._split(params)
            for ch in channels:
                spec = self._spec(ch)
                amps = number(value, 0, spec.max_a)
                if limit and not spec.smu:
                    raise ScpiError(-221, f"CURR:LIM applies to N678xA SMUs; the {spec.model} in channel {ch} "
                                          "takes CURR")
                if limit or not spec.smu:
                    self.limit[ch] = amps
                else:
                    self.level[ch] = amps
            self._settle()
        return set_value

    def _set_interval(self, params: list[str], _s) -> None:
        value, channels = self._split(params)
        for ch in channels:
            self.interval[ch] = number(value, self._spec(ch).min_interval_s, 40_000)

    # --- settings over channel lists
    def _split(self, params: list[str]) -> tuple[str, list[int]]:
        text = ",".join(params)
        value, sep, chans = text.partition(",(@")
        if not sep:
            raise ScpiError(-109, "add the channel list, e.g. ,(@1)")
        return value, self._channels(["(@" + chans])

    def _setter(self, store: str, low: float, high: float, integer: bool = False):
        def set_value(params, _s):
            value, channels = self._split(params)
            number_ = number(value, low, high)
            for ch in channels:
                getattr(self, store)[ch] = int(number_) if integer else number_
        return set_value

    def _getter(self, store: str):
        return lambda params, _s: ",".join(f"{getattr(self, store)[c]:g}" for c in self._channels(params))

    def _set_flag(self, store: str):
        def set_flag(params, _s):
            value, channels = self._split(params)
            for ch in channels:
                getattr(self, store)[ch] = boolean(value)
        return set_flag

    def _flag(self, store: str):
        return lambda params, _s: ",".join("1" if getattr(self, store)[c] else "0" for c in self._channels(params))

    def _channels(self, params: list[str], any_slot: bool = False) -> list[int]:
        """The channels of a channel list: 1..4, each holding a module (unless ``any_slot``)."""
        if not params:
            raise ScpiError(-109, "channel list")
        channels = channel_list(",".join(params))
        if any(c not in CHANNELS for c in channels):
            raise ScpiError(-222, f"channels {channels}: the mainframe has 1..4")
        if not any_slot and any(self.modules[c] == EMPTY for c in channels):
            raise ScpiError(-222, f"channels {channels}: no module in channel "
                                  f"{next(c for c in channels if self.modules[c] == EMPTY)}")
        return channels

    def _set_output(self, params: list[str], _s) -> None:
        value, channels = self._split(params)
        for ch in channels:
            self.on[ch] = boolean(value)
            if self.on[ch]:
                self.tripped[ch] = False
        self._settle()

    def _clear(self, params: list[str], _s) -> None:
        for ch in self._channels(params):
            self.tripped[ch] = False

    # --- the load
    def _load_w(self, channel: int) -> float:
        if channel not in LOAD_CHANNELS:
            return 0.0
        watts = self.bench.cable_watts() / len(LOAD_CHANNELS)
        return watts * (SHORTED_FACTOR if self.bench.has_fault("overcurrent") else 1.0)

    def _operating_point(self, channel: int) -> tuple[float, float]:
        """(volts, amps) at the rail: off, below UVLO, constant power, or current-limited."""
        v_set = self.volts[channel]
        if not self.on[channel] or self.tripped[channel]:
            return 0.0, 0.0
        if v_set < UVLO_V:
            return v_set, 0.0
        amps = self._load_w(channel) / v_set
        if amps > self.limit[channel]:
            # a constant-power load cannot be held by a current limit: it collapses to the limit
            return self.limit[channel] * v_set ** 2 / max(self._load_w(channel), 1e-9), self.limit[channel]
        return v_set, amps

    def _settle(self) -> None:
        """Trip any rail whose load exceeds its limit with protection on."""
        for ch in CHANNELS:
            if self.on[ch] and not self.tripped[ch] and self.protect[ch] and self.volts[ch] >= UVLO_V:
                if self._load_w(ch) / self.volts[ch] > self.limit[ch]:
                    self.tripped[ch] = True

    def _noise(self, size: int, sigma: float) -> np.ndarray:
        rng = self.bench.random("power")
        self.readings += 1
        return rng.standard_normal(size) * sigma

    def _measure(self, params: list[str], volts: bool) -> str:
        self._settle()
        out = []
        for ch in self._channels(params):
            value = self._operating_point(ch)[0 if volts else 1]
            noise = self._noise(1, VOLTAGE_NOISE_V if volts else CURRENT_NOISE_A)[0] if value else 0.0
            out.append(f"{value + noise:+.6E}")
        return ",".join(out)

    def _array(self, params: list[str], volts: bool):
        start = time.monotonic()
        self._settle()
        channels = self._channels(split_params(",".join(params)))
        if len(channels) != 1:
            raise ScpiError(-108, "one channel per array measurement")
        ch = channels[0]
        value = self._operating_point(ch)[0 if volts else 1]
        n = self.points[ch]
        noise = self._noise(n, VOLTAGE_NOISE_V if volts else CURRENT_NOISE_A) if value else np.zeros(n)
        self.bench.instrument_time(n * self.interval[ch], start)  # the capture's own time
        return self.engine.data(value + noise)

    def _condition(self, params: list[str], _s) -> str:
        self._settle()
        return ",".join(str(OC_BIT if self.tripped[c] else 0) for c in self._channels(params))
