"""Simulated 4-port VNAs: Keysight PNA-X N5247B and R&S ZNA dialects over the twin's S-parameters.

A sweep returns the connected cable's S-parameters at exactly the requested linear grid, plus
complex trace noise whose floor is about -80 dB at 1 kHz IF bandwidth and scales with
sqrt(IFBW / averages); the sweep time grows with points and falls with IF bandwidth.
"""

from __future__ import annotations

import numpy as np

from sim_instruments.base import SimInstrument
from sim_instruments.scpi import ScpiError, boolean, choice, number, unquote

PARAMS = [f"S{i}{j}" for i in range(1, 5) for j in range(1, 5)]
F_MIN_HZ, F_MAX_HZ = 10e6, 67e9


class SimVna(SimInstrument):
    """State and sweep shared by both dialects."""

    ROLE = "vna"

    def reset(self) -> None:
        super().reset()
        self.start_hz, self.stop_hz, self.points = F_MIN_HZ, F_MAX_HZ, 201
        self.ifbw_hz, self.power_dbm = 1e3, -5.0
        self.averaging, self.average_count, self.sweep_count = False, 1, 1
        self.traces: dict[str, str] = {}
        self.freq: np.ndarray | None = None
        self.s: np.ndarray | None = None
        self.sweeps = 0

    def sweep_time_s(self) -> float:
        """One sweep: per point one IF sample period plus settling, and a fixed retrace."""
        return self.points * (1.0 / self.ifbw_hz + 8e-6) + 5e-3

    def sweep(self) -> None:
        """Measure the connected cable: model S-parameters plus IF-bandwidth-dependent trace noise."""
        if self.start_hz >= self.stop_hz:
            raise ScpiError(-221, "start >= stop")
        s = self.bench.sparameters(self.start_hz, self.stop_hz, self.points)
        averages = self.average_count * self.sweep_count if self.averaging else 1
        sigma = 10 ** (self.bench.noise_floor_db / 20) * np.sqrt(self.ifbw_hz / 1e3 / averages)
        rng = self.bench.random("vna")
        noise = rng.standard_normal((2, *s.shape)) * (sigma / np.sqrt(2))
        self.freq = np.linspace(self.start_hz, self.stop_hz, self.points)
        self.s = s + noise[0] + 1j * noise[1]
        self.sweeps += 1

    def frequencies(self) -> np.ndarray:
        """The stimulus of the last sweep, sweeping first if there is none at the current grid."""
        if self.s is None or self.freq is None or self.freq.size != self.points:
            self.sweep()
        return self.freq

    def trace_data(self, param: str) -> np.ndarray:
        self.frequencies()
        i, j = int(param[1]) - 1, int(param[2]) - 1
        values = self.s[:, i, j]
        out = np.empty(2 * values.size)
        out[0::2], out[1::2] = values.real, values.imag
        return out

    def _sweep_settings(self) -> None:
        e = self.engine
        e.add("SENSe#:FREQuency:STARt", lambda p, s: setattr(self, "start_hz", number(p[0], F_MIN_HZ, F_MAX_HZ, "HZ")),
              lambda p, s: f"{self.start_hz:.12g}")
        e.add("SENSe#:FREQuency:STOP", lambda p, s: setattr(self, "stop_hz", number(p[0], F_MIN_HZ, F_MAX_HZ, "HZ")),
              lambda p, s: f"{self.stop_hz:.12g}")
        e.add("SENSe#:SWEep:POINts", lambda p, s: setattr(self, "points", int(number(p[0], 2, 100_001))),
              lambda p, s: str(self.points))
        for head in ("SENSe#:BANDwidth[:RESolution]", "SENSe#:BWIDth[:RESolution]"):
            e.add(head, lambda p, s: setattr(self, "ifbw_hz", number(p[0], 1, 15e6, "HZ")),
                  lambda p, s: f"{self.ifbw_hz:.12g}")
        e.add("SOURce#:POWer#[:LEVel][:IMMediate][:AMPLitude]",
              lambda p, s: setattr(self, "power_dbm", number(p[0], -90, 20, "DBM")), lambda p, s: f"{self.power_dbm:g}")
        e.add("SENSe#:SWEep:TIME", lambda p, s: None, lambda p, s: f"{self.sweep_time_s():.6g}")
        e.add("SENSe#:AVERage[:STATe]", lambda p, s: setattr(self, "averaging", boolean(p[0])),
              lambda p, s: "1" if self.averaging else "0")
        e.add("SENSe#:AVERage:COUNt", lambda p, s: setattr(self, "average_count", int(number(p[0], 1, 65536))),
              lambda p, s: str(self.average_count))
        e.add("CALCulate#:PARameter:DELete:ALL", lambda p, s: self.traces.clear())


class SimKeysightPna(SimVna):
    """Keysight N5247B (PNA-X) dialect: CALC:MEAS<n> measurements, SENS:SWE:MODE, SENS:X?."""

    DEVICE = "vna-pna"

    def register(self) -> None:
        self._sweep_settings()
        e = self.engine
        e.add("CALCulate#:MEASure#:DEFine", self._define, lambda p, s: f'"{self.traces.get(str(s[1]), "")}"')
        e.add("SENSe#:SWEep:GROups:COUNt", lambda p, s: setattr(self, "sweep_count", int(number(p[0], 1, 2e6))),
              lambda p, s: str(self.sweep_count))
        e.add("SENSe#:SWEep:MODE", self._mode, lambda p, s: "HOLD")
        e.add("SENSe#:X[:VALues]", query=lambda p, s: self.engine.data(self.frequencies()))
        e.add("CALCulate#:MEASure#:DATA:SDATA", query=lambda p, s: self.engine.data(self._measurement(s[1])))

    def _define(self, params: list[str], suffixes: list[int]) -> None:
        param = unquote(params[0]).upper() if params else ""
        if param not in PARAMS:
            raise ScpiError(-224, f"{param}: a 4-port defines S11..S44")
        self.traces[str(suffixes[1])] = param

    def _mode(self, params: list[str], _s) -> None:
        mode = choice(params[0], {"SINGle": "SING", "GROups": "GRO", "CONTinuous": "CONT", "HOLD": "HOLD"})
        if mode in ("SING", "GRO"):
            self.sweep()

    def _measurement(self, n: int) -> np.ndarray:
        param = self.traces.get(str(n))
        if param is None:
            raise ScpiError(-224, f"measurement {n} is not defined")
        return self.trace_data(param)


class SimRsZna(SimVna):
    """R&S ZNA dialect: named traces (CALC:PAR:SDEF), INIT, CALC:DATA? SDAT, CALC:DATA:STIM?."""

    DEVICE = "vna-zna"

    def reset(self) -> None:
        super().reset()
        self.selected_trace = ""
        self.continuous = True

    def register(self) -> None:
        self._sweep_settings()
        e = self.engine
        e.add("CALCulate#:PARameter:SDEFine", self._define)
        e.add("CALCulate#:PARameter:SELect", self._select_trace, lambda p, s: f"'{self.selected_trace}'")
        e.add("SENSe#:SWEep:COUNt", lambda p, s: setattr(self, "sweep_count", int(number(p[0], 1, 10000))),
              lambda p, s: str(self.sweep_count))
        e.add("INITiate#:CONTinuous[:ALL]", lambda p, s: setattr(self, "continuous", boolean(p[0])),
              lambda p, s: "1" if self.continuous else "0")
        e.add("INITiate#[:IMMediate]", lambda p, s: self.sweep())
        e.add("CALCulate#:DATA", query=self._data)
        e.add("CALCulate#:DATA:STIMulus", query=lambda p, s: self.engine.data(self.frequencies()))

    def _define(self, params: list[str], _s) -> None:
        if len(params) != 2:
            raise ScpiError(-109, "CALC:PAR:SDEF '<trace>','<Sij>'")
        name, param = unquote(params[0]), unquote(params[1]).upper()
        if param not in PARAMS:
            raise ScpiError(-224, f"{param}: a 4-port defines S11..S44")
        self.traces[name] = param

    def _select_trace(self, params: list[str], _s) -> None:
        name = unquote(params[0]) if params else ""
        if name not in self.traces:
            raise ScpiError(-224, f"trace {name!r} does not exist")
        self.selected_trace = name

    def _data(self, params: list[str], _s):
        if not params or choice(params[0], {"SDATa": "SDAT", "FDATa": "FDAT", "MDATa": "MDAT"}) != "SDAT":
            raise ScpiError(-224, "only SDATa is simulated")
        if not self.selected_trace:
            raise ScpiError(-221, "no trace selected")
        return self.engine.data(self.trace_data(self.traces[self.selected_trace]))
