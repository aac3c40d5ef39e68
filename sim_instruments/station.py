"""The simulated station: a qualification plan's cables as a digital twin, reached through the real drivers.

It implements ``accbench.station.Station`` on the simulator's side: the bench (``SimBench``) is
registered under its own name and every instrument is opened with the backend ``<name>@accsim``,
so two stations in one process never share a twin. The plan's ``[sim]`` table is validated here,
by the simulator's code (``parse_sim_table``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from accbench.dsp.twinax import TwinaxSpec, spec_from_lot
from accbench.sim.faults import FaultPlan, parse_faults
from accbench.sim.registry import backend_for, register, unregister
from accbench.sim.twin import SimBench, SimDut
from accbench.sim.visa import RESOURCES

from accbench.errors import InputError
from accbench.station import ResourceSpec, StationBase

_UNIT_KEYS = {"extra_power_w": (0.0, 50.0, 0.0), "noise_factor": (0.1, 100.0, 1.0)}


@dataclass(frozen=True)
class SimUnit:
    """How one simulated cable departs from the models (a unit the S-parameters cannot show)."""

    extra_power_w: float = 0.0  # draws this much more than the power model
    noise_factor: float = 1.0  # redriver noise density x factor^2 (a noisy unit)


@dataclass(frozen=True)
class SimConfig:
    """The plan's ``[sim]`` table: faults to inject, units that depart from the models, and whether the
    instruments take their own time (sweeps, BER gates and supply captures waited for in real time)."""

    faults: str = ""
    units: dict[str, SimUnit] = field(default_factory=dict)
    instrument_time: bool = False

    def to_dict(self) -> dict:
        return {"faults": self.faults, "units": {k: vars(v) for k, v in self.units.items()},
                "instrument_time": self.instrument_time}


SIM_KEYS = ("faults", "units", "instrument_time")


def parse_sim_table(table, serials: set[str] | None = None) -> SimConfig:
    """Validate a plan's ``[sim]`` table (``faults``, ``[sim.units.<serial>]``, ``instrument_time``); every
    problem in one error."""
    problems: list[str] = []
    if not isinstance(table, dict):
        raise InputError("[sim] must be a table")
    problems += [f"[sim]: unknown key {key!r} (use {', '.join(SIM_KEYS)})"
                 for key in sorted(set(table) - set(SIM_KEYS))]
    instrument_time = table.get("instrument_time", False)
    if not isinstance(instrument_time, bool):
        problems.append(f"[sim] instrument_time = {instrument_time!r}: give true or false")
        instrument_time = False
    faults = table.get("faults", "")
    if not isinstance(faults, str):
        problems.append(f"[sim] faults must be text like \"bert.drop@3\", not {faults!r}")
        faults = ""
    try:
        for fault in parse_faults(faults):
            if serials is not None and fault.serial is not None and fault.serial not in serials:
                problems.append(f"[sim] faults: {fault.role}.{fault.kind}/{fault.serial}: no cable {fault.serial!r} "
                                "in the plan")
    except InputError as exc:
        problems.append(f"[sim] faults: {exc}")
    units: dict[str, SimUnit] = {}
    rows = table.get("units") or {}
    if not isinstance(rows, dict):
        problems.append("[sim.units] must be a table of [sim.units.<serial>] tables")
        rows = {}
    for serial, row in rows.items():
        where = f"[sim.units.{serial}]"
        if serials is not None and serial not in serials:
            problems.append(f"{where}: no cable {serial!r} in the plan")
        if not isinstance(row, dict):
            problems.append(f"{where} must be a table")
            continue
        problems += [f"{where}: unknown key {key!r} (use extra_power_w, noise_factor)"
                     for key in sorted(set(row) - set(_UNIT_KEYS))]
        values = {}
        for key, (low, high, default) in _UNIT_KEYS.items():
            value = row.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                    or not low <= value <= high:
                problems.append(f"{where} {key} = {value!r}: give a number from {low:g} to {high:g}")
                value = default
            values[key] = float(value)
        units[serial] = SimUnit(**values)
    if problems:
        raise InputError("; ".join(problems))
    return SimConfig(faults, units, instrument_time)


def _rebuilt(bench: dict, station: dict) -> SimulatedStation:
    """A station from a ``SimulatedStation.replica`` recipe (in the process that measures with it)."""
    built = SimulatedStation(SimBench(**bench), timeout_s=station["timeout_s"])
    built.sweep, built.supply_v, built.two_x_thru = station["sweep"], station["supply_v"], station["two_x_thru"]
    return built


def _wire_spec(lot: dict, cable: dict) -> TwinaxSpec:
    """The twinax spec of a plan cable from its lot's wire (the lot's carbon included)."""
    return spec_from_lot(length_m=cable["length_m"],
                         awg=cable.get("awg") if cable.get("awg") is not None else lot.get("awg"),
                         diameter_mm=lot.get("diameter_mm"), grade=lot.get("grade", "Cu-ETP"),
                         roughness_um=lot.get("roughness_um", 0.0), carbon_mg_m2=lot["carbon_mg_m2"])


class SimulatedStation(StationBase):
    """A ``SimBench`` registered under its own name; its resources open with the backend ``<name>@accsim``."""

    def __init__(self, sim: SimBench, timeout_s: float = 2.0):
        self.sim = sim
        self.timeout_s = timeout_s
        self.name = register(sim)
        self.backend = backend_for(self.name)

    @classmethod
    def for_plan(cls, plan, time_scale: float | None = None) -> SimulatedStation:
        """The station of a qualification plan (``accbench.bench.plan.Plan`` or its ``to_dict()``);
        ``time_scale`` (real seconds per instrument second) overrides the plan's ``instrument_time``."""
        data = plan if isinstance(plan, dict) else plan.to_dict()
        cables = data["cables"]
        config = parse_sim_table(data.get("sim") or {}, {c["serial"] for c in cables})
        lots = {lot["id"]: lot for lot in data["lots"]}
        duts = []
        for c in cables:
            unit = config.units.get(c["serial"], SimUnit())
            duts.append(SimDut(c["serial"], _wire_spec(lots[c["lot"]], c), wire_lot=c["lot"], lanes=c["lanes"],
                               extra_power_w=unit.extra_power_w, noise_factor=unit.noise_factor))
        seed = int(data.get("seed", 1))
        scale = (1.0 if config.instrument_time else 0.0) if time_scale is None else float(time_scale)
        return cls(SimBench(duts, seed, FaultPlan(config.faults, seed), time_scale=scale))

    def replica(self) -> Callable[[], SimulatedStation] | None:
        """A recipe (picklable, no arguments) for a fresh station that measures every cable as this one does,
        for a worker process of a parallel run; None where a copy would not:

        * injected faults: a fault's effect can outlast its cable (an instrument it closed is re-opened
          at the next cable, counted against the previous cable's messages), so the schedule depends on
          the order of the cables one set of instruments saw;
        * modelled instrument time: a bench has one set of instruments, so a parallel run pipelines its
          computation behind them instead of multiplying them.
        Otherwise a cable's measurement depends only on the cable (its random streams are keyed by cable
        and lane) and on the station's settings, which the recipe carries; state changed by hand on this
        station's instruments is not carried.
        """
        sim = self.sim
        if sim.faults.faults or sim.time_scale > 0:
            return None
        bench = {"duts": list(sim.duts.values()), "seed": sim.seed, "vna_model": sim.models["vna"],
                 "bert_model": sim.models["bert"], "noise_floor_db": sim.noise_floor_db, "fixture": sim.fixture,
                 "layout": dict(sim.layout), "left_over": dict(sim.left_over)}
        station = {"timeout_s": self.timeout_s, "sweep": dict(self.sweep), "supply_v": self.supply_v,
                   "two_x_thru": self.two_x_thru}
        return partial(_rebuilt, bench, station)

    def resources(self) -> dict[str, ResourceSpec]:
        return {role: ResourceSpec(resource, self.backend, role, self.timeout_s,
                                   locations=self.locations() if role == "bert" else None)
                for role, resource in RESOURCES.items()}

    def models(self) -> dict[str, str]:
        return dict(self.sim.models)

    def locations(self) -> dict:
        return self.sim.bert_locations()

    def connect(self, serial: str, lane: int = 1) -> None:
        self.sim.select(serial, lane)

    def describe(self) -> dict:
        return {"kind": "simulated", **self.sim.describe()}

    def drain_events(self) -> list[str]:
        """Every injected fault that fired since the last call, recovered or not."""
        return self.sim.faults.drain()

    def close(self) -> None:
        unregister(self.name)
