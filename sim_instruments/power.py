"""Simulated Keysight N6705C: rails 1 and 2 feed the two ends of the connected cable, each end a
constant-power load (its regulators) drawing half the ACC power model at the running rate.

Readings carry measurement noise; a rail whose load exceeds the current limit trips when
over-current protection is on (output off, questionable-condition bit 1 "OC" set) and
otherwise regulates at the limit with the voltage sagging (CC mode).
"""

from __future__ import annotations

import numpy as np

from sim_instruments.base import SimInstrument
from sim_instruments.scpi import ScpiError, boolean, channel_list, number, split_params

CHANNELS = (1, 2, 3, 4)
LOAD_CHANNELS = (1, 2)  # end A and end B of the cable
UVLO_V = 2.5  # below this the plug's regulators do not start
OC_BIT = 2  # STAT:QUES:COND bit 1
CURRENT_NOISE_A = 2e-4
VOLTAGE_NOISE_V = 5e-4
SHORTED_FACTOR = 5.0  # an over-current fault multiplies the load


class SimKeysightN6705(SimInstrument):
    ROLE = "power"
    DEVICE = "power-n6705"

    def reset(self) -> None:
        super().reset()
        self.volts = dict.fromkeys(CHANNELS, 0.0)
        self.limit = dict.fromkeys(CHANNELS, 3.06)
        self.on = dict.fromkeys(CHANNELS, False)
        self.protect = dict.fromkeys(CHANNELS, False)
        self.tripped = dict.fromkeys(CHANNELS, False)
        self.points = dict.fromkeys(CHANNELS, 1024)
        self.interval = dict.fromkeys(CHANNELS, 20.48e-6)
        self.readings = 0

    def register(self) -> None:
        e = self.engine
        for prefix in ("SOURce:", ""):
            e.add(prefix + "VOLTage[:LEVel][:IMMediate][:AMPLitude]", self._setter("volts", 0, 20.4),
                  self._getter("volts"))
            e.add(prefix + "CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]", self._setter("limit", 0, 3.06),
                  self._getter("limit"))
            e.add(prefix + "CURRent:PROTection:STATe", self._set_flag("protect"), self._flag("protect"))
        e.add("OUTPut[:STATe]", self._set_output, self._flag("on"))
        e.add("OUTPut:PROTection:CLEar", self._clear)
        e.add("MEASure[:SCALar]:VOLTage[:DC]", query=lambda p, s: self._measure(p, volts=True))
        e.add("MEASure[:SCALar]:CURRent[:DC]", query=lambda p, s: self._measure(p, volts=False))
        e.add("SENSe:SWEep:POINts", self._setter("points", 1, 512_000, integer=True), self._getter("points"))
        e.add("SENSe:SWEep:TINTerval", self._setter("interval", 5.12e-6, 40_000), self._getter("interval"))
        e.add("MEASure:ARRay:VOLTage[:DC]", query=lambda p, s: self._array(p, volts=True))
        e.add("MEASure:ARRay:CURRent[:DC]", query=lambda p, s: self._array(p, volts=False))
        e.add("STATus:QUEStionable:CONDition", query=self._condition)

    # --- settings over channel lists
    @staticmethod
    def _split(params: list[str]) -> tuple[str, list[int]]:
        text = ",".join(params)
        value, sep, chans = text.partition(",(@")
        if not sep:
            raise ScpiError(-109, "add the channel list, e.g. ,(@1)")
        channels = channel_list("(@" + chans)
        if any(c not in CHANNELS for c in channels):
            raise ScpiError(-222, f"channels {channels}: the mainframe has 1..4")
        return value, channels

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

    @staticmethod
    def _channels(params: list[str]) -> list[int]:
        if not params:
            raise ScpiError(-109, "channel list")
        channels = channel_list(",".join(params))
        if any(c not in CHANNELS for c in channels):
            raise ScpiError(-222, f"channels {channels}: the mainframe has 1..4")
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
        self._settle()
        channels = self._channels(split_params(",".join(params)))
        if len(channels) != 1:
            raise ScpiError(-108, "one channel per array measurement")
        ch = channels[0]
        value = self._operating_point(ch)[0 if volts else 1]
        n = self.points[ch]
        noise = self._noise(n, VOLTAGE_NOISE_V if volts else CURRENT_NOISE_A) if value else np.zeros(n)
        return self.engine.data(value + noise)

    def _condition(self, params: list[str], _s) -> str:
        self._settle()
        return ",".join(str(OC_BIT if self.tripped[c] else 0) for c in self._channels(params))
