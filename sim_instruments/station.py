"""The simulated station: a qualification plan's cables as a digital twin, reached through the real drivers.

It implements ``accbench.station.Station`` on the simulator's side: the bench (``SimBench``) is
registered under its own name and every instrument is opened with the backend ``<name>@accsim``,
so two stations in one process never share a twin. The plan's ``[sim]`` table is validated here,
by the simulator's code (``parse_sim_table``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    """The plan's ``[sim]`` table: faults to inject and units that depart from the models."""

    faults: str = ""
    units: dict[str, SimUnit] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"faults": self.faults, "units": {k: vars(v) for k, v in self.units.items()}}


def parse_sim_table(table, serials: set[str] | None = None) -> SimConfig:
    """Validate a plan's ``[sim]`` table (``faults``, ``[sim.units.<serial>]``); every problem in one error."""
    problems: list[str] = []
    if not isinstance(table, dict):
        raise InputError("[sim] must be a table")
    problems += [f"[sim]: unknown key {key!r} (use faults, units)" for key in sorted(set(table) - {"faults", "units"})]
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
    return SimConfig(faults, units)


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
    def for_plan(cls, plan) -> SimulatedStation:
        """The station of a qualification plan (``accbench.bench.plan.Plan`` or its ``to_dict()``)."""
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
        return cls(SimBench(duts, seed, FaultPlan(config.faults, seed)))

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
