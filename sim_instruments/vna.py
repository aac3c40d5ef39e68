"""Simulated 4-port VNAs over the twin's S-parameters: Keysight PNA-X N5247B / E5080B and R&S ZNA.

Written from the vendors' documents (Keysight VNA help A.19.30; R&S ZNA/ZNB/ZVA manuals), not from
the drivers: what the real instrument rejects is rejected here with its SCPI error.

* Triggering (Keysight ``Sense/Sweep_SCPI.md``, ``Understanding_Command_Synchronization.md``): a
  single or group sweep runs only with ``TRIG:SOUR IMMediate``; on MANual nothing sweeps and the
  old data stay; on EXTernal the sweep waits for a rear-panel trigger, so ``*OPC?`` never answers.
  R&S: ``INIT:IMM`` is valid in single-sweep mode only and waits likewise for a non-immediate trigger.
* A measurement (trace) holds data of the sweeps made after it was defined; one defined after the
  last sweep holds zeros of the right length until the next sweep.
* Averaging is a running average over sweeps until ``SENS:AVER:CLE`` restarts it: without the
  clear, data of earlier sweeps (an earlier cable) stay in it.
* ``SENS:X?`` exists only on the PNA models (``Sense/X-Axis.md``: superseded; not the E5080B);
  ``CALC:MEAS<n>:X?`` on all. ``CALC:PAR:DEL:ALL`` has no channel suffix (``Calculate/Parameter.md``).
* IF bandwidths round up to the next valid value (``Sense/Sense_Bandwidth.md``); ranges and
  point counts come from ``accbench.capabilities``.

Trace noise has a floor of about -80 dB at 1 kHz IF bandwidth and scales with sqrt(IFBW / sweeps
averaged); the sweep time grows with points and falls with IF bandwidth (per point one IF sample
period plus 8 us settling, and 5 ms retrace: the twin's model, not a vendor's figure), one sweep per
source port of the 4-port matrix; a bench that models time (``SimBench.time_scale``) takes it in real time.
"""

from __future__ import annotations

import time

import numpy as np
from accbench.sim.base import SimInstrument, Stall
from accbench.sim.scpi import ScpiError, boolean, choice, number, unquote

from accbench.capabilities import capability_for

PARAMS = [f"S{i}{j}" for i in range(1, 5) for j in range(1, 5)]
MAX_TRACES = 256  # a bound of the twin (the real limits are per model and firmware): traces cannot grow unbounded
F_MIN_HZ, F_MAX_HZ = 10e6, 67e9  # the twin's own band when the model's range is not in the table
IFBW_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
TRIGGERS = {"IMMediate": "IMM", "EXTernal": "EXT", "MANual": "MAN"}
SOURCE_PORTS = 4  # a full 4-port S-matrix: one sweep with each port as the source


def round_up_ifbw(hz: float) -> float:
    """The next valid IF bandwidth at or above ``hz`` (1-1.5-2-3-5-7 steps, 1 Hz..15 MHz)."""
    for decade in range(8):
        for step in IFBW_STEPS:
            value = step * 10**decade
            if value >= hz * (1 - 1e-9):
                return min(value, 15e6)
    return 15e6


class SimVna(SimInstrument):
    """State, sweeps, traces and averaging shared by both vendors."""

    ROLE = "vna"

    @property
    def freq_range(self) -> tuple[float, float]:
        cap = capability_for("vna", self.model)
        return cap.freq_hz if cap is not None and cap.freq_hz is not None else (F_MIN_HZ, F_MAX_HZ)

    @property
    def max_points(self) -> int:
        cap = capability_for("vna", self.model)
        return cap.max_points if cap is not None and cap.max_points is not None else 100_001

    def reset(self) -> None:
        super().reset()
        self.start_hz, self.stop_hz, self.points = self.freq_range[0], self.freq_range[1], 201
        self.ifbw_hz, self.power_dbm, self.power_coupled = 1e3, -5.0, True
        self.averaging, self.average_count, self.sweep_count = False, 1, 1
        self.trigger = self.bench.left_over.get("vna.trigger", "IMM")
        self.traces: dict[str, str] = {}  # name -> Sij
        self.trace_data: dict[str, np.ndarray] = {}  # name -> complex data of the latest sweep
        self.average: np.ndarray | None = None  # running average (points x 4 x 4)
        self.averaged = 0
        self.freq: np.ndarray | None = None
        self.sweeps = 0
        self.waiting = False  # a sweep armed on the external trigger, which never comes

    # --- the physics of a sweep
    def sweep_time_s(self) -> float:
        """One sweep: per point one IF sample period plus settling, and a fixed retrace."""
        return self.points * (1.0 / self.ifbw_hz + 8e-6) + 5e-3

    def grid(self) -> np.ndarray:
        return np.linspace(self.start_hz, self.stop_hz, self.points)

    def _one_sweep(self) -> np.ndarray:
        """One sweep of the connected cable: model S-parameters plus IF-bandwidth-dependent trace noise.

        The cable and its noise stream are taken together under the bench's lock, so a cable switched
        by another client mid-computation cannot mix one cable's S-parameters with another's noise.
        """
        with self.bench.lock:
            spec, rng = self.bench.dut.spec, self.bench.random("vna")
        s = self.bench.sparameters(self.start_hz, self.stop_hz, self.points, spec)
        sigma = 10 ** (self.bench.noise_floor_db / 20) * np.sqrt(self.ifbw_hz / 1e3)
        noise = rng.standard_normal((2, *s.shape)) * (sigma / np.sqrt(2))
        return s + noise[0] + 1j * noise[1]

    def run_sweeps(self, count: int) -> None:
        """``count`` sweeps (a group, or one) into the traces; averaged when averaging is on. Each takes one
        sweep per source port (four for the 4-port S-matrix), in real time when the bench models time."""
        if self.start_hz >= self.stop_hz:
            raise ScpiError(-221, "start >= stop")
        start = time.monotonic()
        grid = self.grid()
        if self.average is not None and self.average.shape[0] != grid.size:
            self.average, self.averaged = None, 0
        sweeps = min(count, 1024) if self.averaging else 1
        for _ in range(sweeps):
            s = self._one_sweep()
            if self.averaging:
                self.averaged = min(self.averaged + 1, self.average_count)
                self.average = s if self.average is None else self.average + (s - self.average) / self.averaged
                s = self.average
            self.freq = grid
            for name, param in self.traces.items():
                self.trace_data[name] = s[:, int(param[1]) - 1, int(param[2]) - 1]
            self.sweeps += 1
        self.bench.instrument_time(sweeps * SOURCE_PORTS * self.sweep_time_s(), start)

    def triggered(self, count: int) -> None:
        """A sweep request: runs now on the immediate trigger, waits forever on external, nothing on manual."""
        if self.trigger == "IMM":
            self.run_sweeps(count)
            self.waiting = False
        elif self.trigger == "EXT":
            self.waiting = True

    def clear_average(self) -> None:
        self.average, self.averaged = None, 0

    def trace_values(self, name: str) -> np.ndarray:
        """Interleaved re/im of a trace: its latest data, zeros when not swept since it was defined."""
        data = self.trace_data.get(name)
        if data is None or data.size != self.points:
            data = np.zeros(self.points, dtype=complex)
        out = np.empty(2 * data.size)
        out[0::2], out[1::2] = data.real, data.imag
        return out

    def define_trace(self, name: str, param: str) -> None:
        if param not in PARAMS:
            raise ScpiError(-224, f"{param}: a 4-port defines S11..S44")
        if name not in self.traces and len(self.traces) >= MAX_TRACES:
            raise ScpiError(-225, f"Out of memory;{MAX_TRACES} measurements defined, delete some first")
        self.traces[name] = param
        self.trace_data.pop(name, None)

    def delete_traces(self) -> None:
        self.traces.clear()
        self.trace_data.clear()

    def opc(self) -> str:
        if self.waiting:
            raise Stall()
        return "1"

    # --- commands both vendors share
    def _sweep_settings(self) -> None:
        e = self.engine
        low, high = self.freq_range
        e.add("SENSe#:FREQuency:STARt", lambda p, s: setattr(self, "start_hz", number(p[0], low, high, "HZ")),
              lambda p, s: f"{self.start_hz:.12g}")
        e.add("SENSe#:FREQuency:STOP", lambda p, s: setattr(self, "stop_hz", number(p[0], low, high, "HZ")),
              lambda p, s: f"{self.stop_hz:.12g}")
        e.add("SENSe#:SWEep:POINts", lambda p, s: setattr(self, "points", int(number(p[0], 1, self.max_points))),
              lambda p, s: str(self.points))
        for head in ("SENSe#:BANDwidth[:RESolution]", "SENSe#:BWIDth[:RESolution]"):
            e.add(head, lambda p, s: setattr(self, "ifbw_hz", round_up_ifbw(number(p[0], 1, 15e6, "HZ"))),
                  lambda p, s: f"{self.ifbw_hz:.12g}")
        e.add("SOURce#:POWer#[:LEVel][:IMMediate][:AMPLitude]",
              lambda p, s: setattr(self, "power_dbm", number(p[0], -90, 20, "DBM")), lambda p, s: f"{self.power_dbm:g}")
        e.add("SENSe#:SWEep:TIME", lambda p, s: None, lambda p, s: f"{self.sweep_time_s():.6g}")
        e.add("SENSe#:AVERage[:STATe]", self._set_averaging, lambda p, s: "1" if self.averaging else "0")
        e.add("SENSe#:AVERage:CLEar", lambda p, s: self.clear_average())
        e.add("*OPC", setter=lambda p, s: self.engine._set_esr(1), query=lambda p, s: self.opc())

    def _set_averaging(self, params: list[str], _s) -> None:
        self.averaging = boolean(params[0])
        if not self.averaging:
            self.clear_average()


class SimKeysightPna(SimVna):
    """Keysight PNA-X N5247B and E5080B: CALC:MEAS<n> measurements, SENS:SWE:MODE, CALC:MEAS<n>:X?."""

    DEVICE = "vna-pna"

    def register(self) -> None:
        self._sweep_settings()
        e = self.engine
        cap = capability_for("vna", self.model)
        e.add("SENSe#:AVERage:COUNt", lambda p, s: setattr(self, "average_count", int(number(p[0], 1, 65536))),
              lambda p, s: str(self.average_count))
        e.add("SOURce#:POWer#:COUPle", lambda p, s: setattr(self, "power_coupled", boolean(p[0])),
              lambda p, s: "1" if self.power_coupled else "0")
        e.add("TRIGger[:SEQuence]:SOURce", lambda p, s: setattr(self, "trigger", choice(p[0], TRIGGERS)),
              lambda p, s: self.trigger)
        e.add("INITiate#:CONTinuous", lambda p, s: setattr(self, "trigger", "IMM" if boolean(p[0]) else "MAN"),
              lambda p, s: "1" if self.trigger == "IMM" else "0")
        e.add("CALCulate:PARameter:DELete:ALL", lambda p, s: self.delete_traces())
        e.add("CALCulate:MEASure:DELete:ALL", lambda p, s: self.delete_traces())
        e.add("CALCulate#:MEASure#:DEFine", self._define, lambda p, s: f'"{self.traces.get(str(s[1]), "")}"')
        e.add("SENSe#:SWEep:GROups:COUNt", lambda p, s: setattr(self, "sweep_count", int(number(p[0], 1, 2e6))),
              lambda p, s: str(self.sweep_count))
        e.add("SENSe#:SWEep:MODE", self._mode, lambda p, s: "HOLD")
        e.add("CALCulate#:MEASure#:X[:VALues]", query=lambda p, s: self._x_values(s[1]))
        if cap is None or cap.sens_x_query:
            e.add("SENSe#:X[:VALues]", query=lambda p, s: self.engine.data(self.grid()))
        e.add("CALCulate#:MEASure#:DATA:SDATA", query=lambda p, s: self.engine.data(self._measurement(s[1])))

    def _define(self, params: list[str], suffixes: list[int]) -> None:
        number_ = str(suffixes[1])
        if number_ in self.traces:
            raise ScpiError(-221, f"measurement number {number_} is already in use")
        self.define_trace(number_, unquote(params[0]).upper() if params else "")

    def _mode(self, params: list[str], _s) -> None:
        mode = choice(params[0], {"SINGle": "SING", "GROups": "GRO", "CONTinuous": "CONT", "HOLD": "HOLD"})
        if mode in ("SING", "GRO"):
            self.triggered(self.sweep_count if mode == "GRO" else 1)

    def _x_values(self, n: int):
        if str(n) not in self.traces:
            raise ScpiError(-224, f"measurement {n} is not defined")
        return self.engine.data(self.grid())

    def _measurement(self, n: int) -> np.ndarray:
        if str(n) not in self.traces:
            raise ScpiError(-224, f"measurement {n} is not defined")
        return self.trace_values(str(n))


class SimKeysightE5080B(SimKeysightPna):
    """Keysight E5080B: the same VNA firmware family, without the superseded SENS:X?."""

    DEVICE = "vna-e5080b"


class SimRsZna(SimVna):
    """R&S ZNA: named traces (CALC:PAR:SDEF), INIT in single-sweep mode, CALC:DATA? SDAT, CALC:DATA:STIM?."""

    DEVICE = "vna-zna"

    def reset(self) -> None:
        super().reset()
        self.selected_trace = ""
        self.continuous = True

    def register(self) -> None:
        self._sweep_settings()
        e = self.engine
        e.add("SENSe#:AVERage:COUNt", lambda p, s: setattr(self, "average_count", int(number(p[0], 1, 1000))),
              lambda p, s: str(self.average_count))
        e.add("TRIGger#[:SEQuence]:SOURce", lambda p, s: setattr(self, "trigger", choice(p[0], TRIGGERS)),
              lambda p, s: self.trigger)
        e.add("CALCulate:PARameter:DELete:ALL", lambda p, s: self.delete_traces())
        e.add("CALCulate#:PARameter:SDEFine", self._define)
        e.add("CALCulate#:PARameter:SELect", self._select_trace, lambda p, s: f"'{self.selected_trace}'")
        e.add("SENSe#:SWEep:COUNt", lambda p, s: setattr(self, "sweep_count", int(number(p[0], 1, 10000))),
              lambda p, s: str(self.sweep_count))
        e.add("INITiate#:CONTinuous[:ALL]", lambda p, s: setattr(self, "continuous", boolean(p[0])),
              lambda p, s: "1" if self.continuous else "0")
        e.add("INITiate#[:IMMediate]", self._initiate)
        e.add("CALCulate#:DATA", query=self._data)
        e.add("CALCulate#:DATA:STIMulus", query=lambda p, s: self.engine.data(self.grid()))

    def _initiate(self, _p, _s) -> None:
        if self.continuous:
            raise ScpiError(-221, "INIT:IMM is available in single sweep mode only (INIT:CONT OFF)")
        self.triggered(self.sweep_count)

    def _define(self, params: list[str], _s) -> None:
        if len(params) != 2:
            raise ScpiError(-109, "CALC:PAR:SDEF '<trace>','<Sij>'")
        self.define_trace(unquote(params[0]), unquote(params[1]).upper())

    def delete_traces(self) -> None:
        super().delete_traces()
        self.selected_trace = ""

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
        return self.engine.data(self.trace_values(self.selected_trace))
