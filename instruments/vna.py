"""4-port VNA drivers returning scikit-rf Networks: Keysight PNA/PNA-X/E5080B and R&S ZNA dialects.

Every command sent is listed with its source in ``instruments/dialects/keysight-pna.toml`` and
``rs-zna.toml``. A whole sweep (settings, trigger, wait, read) is one measurement step: a link
recovered anywhere in it repeats the sweep, never only the last read.
Keysight (VNA help A.19.30, firmware A.12.70 or later): ``SENS1:FREQ:STAR/STOP``,
``SENS1:SWE:POIN``, ``SENS1:BWID``, ``SOUR1:POW:COUP ON`` + ``SOUR1:POW``; trigger source
``TRIG:SOUR IMM`` (single and group sweeps wait for a fresh sweep only with the internal
trigger); ``CALC:PAR:DEL:ALL`` then ``CALC1:MEAS<n>:DEF "Sij"`` for the 16 parameters;
``SENS1:SWE:MODE SING`` (or ``GRO`` with ``SENS1:SWE:GRO:COUN`` after ``SENS1:AVER:CLE`` when
averaging) then ``*OPC?`` with a timeout from ``SENS1:SWE:TIME?``; ``FORM:DATA REAL,64`` +
``FORM:BORD SWAP``; frequencies from ``CALC1:MEAS1:X?`` (``SENS:X?`` is superseded and absent on
the E5080B), data from ``CALC1:MEAS<n>:DATA:SDATA?``.
R&S ZNA: ``TRIG1:SEQ:SOUR IMM``; ``CALC:PAR:DEL:ALL``, ``CALC1:PAR:SDEF 'Trc<ij>','Sij'``;
``INIT1:CONT OFF``, ``SENS1:AVER:CLE`` when averaging, ``INIT1:IMM``, ``*OPC?``; ``FORM REAL,64``
+ ``FORM:BORD SWAP``; per trace ``CALC1:PAR:SEL`` then ``CALC1:DATA? SDAT``; stimulus from
``CALC1:DATA:STIM?``, checked against start and stop (which also proves the byte order).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skrf as rf
from accbench.instruments.base import Instrument, MeasurementInfo, control, in_range

from accbench.errors import InputError, InstrumentError

PARAMS = [(i, j) for i in range(1, 5) for j in range(1, 5)]


@dataclass(frozen=True)
class SweepSettings:
    """What to sweep: Hz, points, IF bandwidth (Hz), source power (dBm), averages."""

    start_hz: float = 10e6
    stop_hz: float = 50e9
    points: int = 5001
    ifbw_hz: float = 1e3
    power_dbm: float | None = None
    averages: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.start_hz < self.stop_hz:
            raise InputError(f"sweep {self.start_hz:g}..{self.stop_hz:g} Hz: need 0 < start < stop")
        if not 2 <= self.points <= 100_003:
            raise InputError(f"{self.points} points: use 2..100003")
        if self.averages < 1:
            raise InputError("averages must be >= 1")


@dataclass
class SparamResult:
    """A measured 4-port with where it came from."""

    network: rf.Network
    info: MeasurementInfo

    def to_touchstone(self, path: str | Path) -> Path:
        p = Path(path)
        net = self.network.copy()
        ident = self.info.identity
        net.comments = (f"measured by accbench on {ident.maker} {ident.model} s/n {ident.serial} fw {ident.firmware}\n"
                        f"at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self.info.timestamp))}\n"
                        + "\n".join(f"{k} = {v}" for k, v in self.info.settings.items()))
        stem = p.with_suffix("")
        net.write_touchstone(filename=stem.name, dir=str(stem.parent), form="ri")
        return stem.with_suffix(".s4p")


class Vna(Instrument):
    """Shared parts of the VNA dialects."""

    KIND = "vna"
    channel = 1
    start_hz = control("SENS{ch}:FREQ:STAR?", "SENS{ch}:FREQ:STAR {value:.12g}", "Start frequency (Hz).",
                       in_range(1e3, 1.5e11, "start frequency", " Hz"))
    stop_hz = control("SENS{ch}:FREQ:STOP?", "SENS{ch}:FREQ:STOP {value:.12g}", "Stop frequency (Hz).",
                      in_range(1e3, 1.5e11, "stop frequency", " Hz"))
    points = control("SENS{ch}:SWE:POIN?", "SENS{ch}:SWE:POIN {value:d}", "Sweep points.",
                     lambda v: int(in_range(2, 100_003, "points")(v)), cast=lambda s: int(float(s)))
    ifbw_hz = control("SENS{ch}:BWID?", "SENS{ch}:BWID {value:g}", "IF bandwidth (Hz).",
                      in_range(1.0, 1e7, "IF bandwidth", " Hz"))
    power_dbm = control("SOUR{ch}:POW?", "SOUR{ch}:POW {value:g}", "Source power (dBm).",
                        in_range(-90.0, 20.0, "source power", " dBm"))
    sweep_time_s = control("SENS{ch}:SWE:TIME?", "SENS{ch}:SWE:TIME {value:g}", "Sweep time (s).")

    def _setup(self, s: SweepSettings) -> None:
        self.start_hz = s.start_hz
        self.stop_hz = s.stop_hz
        self.points = s.points
        self.ifbw_hz = s.ifbw_hz
        if s.power_dbm is not None:
            self._set_power(s.power_dbm)

    def _set_power(self, dbm: float) -> None:
        self.power_dbm = dbm

    def _averaging(self, s: SweepSettings, sweep_count_cmd: str) -> None:
        """Averaging on (count, and sweeps per trigger with the dialect's command) or off."""
        if s.averages > 1:
            self.configure(f"SENS1:AVER:COUN {s.averages}")
            self.configure("SENS1:AVER ON")
            self.configure(f"{sweep_count_cmd} {s.averages}")
        else:
            self.configure("SENS1:AVER OFF")

    def _sweep(self, s: SweepSettings, trigger_cmd: str) -> None:
        """Trigger the sweep and wait for it with a timeout sized from the sweep time (averages restarted)."""
        timeout = self._sweep_timeout_s(s)
        if s.averages > 1:
            self.write("SENS1:AVER:CLE")
        self.write(trigger_cmd)
        self.wait_opc(timeout, "4-port sweep")
        self.check_errors("sweep")

    def _sweep_timeout_s(self, s: SweepSettings) -> float:
        """Four source ports, each a sweep, times the averages, doubled, plus 5 s."""
        return 2.0 * 4 * s.averages * max(self.sweep_time_s, 1e-3) + 5.0

    def measure_sparams(self, settings: SweepSettings) -> SparamResult:
        """Run one (averaged) 4-port sweep and return it as a scikit-rf Network (Hz).

        A sweep the model cannot make is refused before anything is sent.
        """
        cap = self.capability
        problems = cap.problems(settings.start_hz, settings.stop_hz, settings.points) if cap is not None else []
        if problems:
            raise InputError("; ".join(problems))
        freq, data = self.run_step("4-port sweep", lambda: self._measure(settings))
        s = np.empty((settings.points, 4, 4), dtype=complex)
        for (i, j), values in zip(PARAMS, data, strict=True):
            s[:, i - 1, j - 1] = values[0::2] + 1j * values[1::2]
        network = rf.Network(frequency=rf.Frequency.from_f(freq, unit="Hz"), s=s, name=self.identity.model)
        info = MeasurementInfo(self.identity, {"start_hz": settings.start_hz, "stop_hz": settings.stop_hz,
                                               "points": settings.points, "ifbw_hz": settings.ifbw_hz,
                                               "power_dbm": settings.power_dbm, "averages": settings.averages,
                                               "dialect": self.DIALECT})
        return SparamResult(network, info)

    def _measure(self, s: SweepSettings) -> tuple[np.ndarray, list[np.ndarray]]:
        raise NotImplementedError


class KeysightPna(Vna):
    """Keysight PNA / PNA-X (N52xx) and E5080B."""

    DIALECT = "keysight-pna"
    MODELS = (r"N52\d\d", r"E5080", r"N5247")

    def _set_power(self, dbm: float) -> None:
        """``SOUR1:POW`` sets port 1, and every port only while the ports' power is coupled (assert it)."""
        self.configure("SOUR1:POW:COUP ON")
        self.power_dbm = dbm

    def _measure(self, s: SweepSettings) -> tuple[np.ndarray, list[np.ndarray]]:
        self._setup(s)
        self.configure("TRIG:SOUR IMM")
        self.configure("CALC:PAR:DEL:ALL")
        for n, (i, j) in enumerate(PARAMS, start=1):
            self.configure(f'CALC1:MEAS{n}:DEF "S{i}{j}"', key=f"meas{n}")
        self._averaging(s, "SENS1:SWE:GRO:COUN")
        self.configure("FORM:DATA REAL,64")
        self.configure("FORM:BORD SWAP")
        self._sweep(s, "SENS1:SWE:MODE GRO" if s.averages > 1 else "SENS1:SWE:MODE SING")
        freq = self.ask_binary("CALC1:MEAS1:X?", s.points)
        data = [self.ask_binary(f"CALC1:MEAS{n}:DATA:SDATA?", 2 * s.points) for n in range(1, 17)]
        return freq, data


class RsZna(Vna):
    """Rohde & Schwarz ZNA."""

    DIALECT = "rs-zna"
    MODELS = (r"ZNA",)

    def _measure(self, s: SweepSettings) -> tuple[np.ndarray, list[np.ndarray]]:
        self._setup(s)
        self.configure("TRIG1:SEQ:SOUR IMM")
        self.configure("CALC:PAR:DEL:ALL")
        for i, j in PARAMS:
            self.configure(f"CALC1:PAR:SDEF 'Trc{i}{j}','S{i}{j}'", key=f"trc{i}{j}")
        self.configure("INIT1:CONT OFF")
        self._averaging(s, "SENS1:SWE:COUN")
        self.configure("FORM REAL,64")
        self.configure("FORM:BORD SWAP")
        self._sweep(s, "INIT1:IMM")
        freq = self.ask_binary("CALC1:DATA:STIM?", s.points)
        if not (np.isclose(freq[0], s.start_hz, rtol=1e-6) and np.isclose(freq[-1], s.stop_hz, rtol=1e-6)):
            raise InstrumentError(f"{self.DIALECT}: the stimulus reads {freq[0]:g}..{freq[-1]:g} Hz, not the "
                                  f"{s.start_hz:g}..{s.stop_hz:g} Hz set (byte order or a changed setup?)")
        data = []
        for i, j in PARAMS:
            self.write(f"CALC1:PAR:SEL 'Trc{i}{j}'")
            data.append(self.ask_binary("CALC1:DATA? SDAT", 2 * s.points))
        return freq, data
