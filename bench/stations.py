"""The run's side of a station: the instrument station of a bench file, the drivers opened from any station, and
the check that a station can run a plan.

A station (``accbench.station.Station``: this module's ``InstrumentStation``, or the simulated
``accbench.sim.station.SimulatedStation``) says where the three instruments are, connects a cable
lane, and gives the VNA sweep, the supply voltage, the 2x-thru fixture to de-embed (or None) and
a description for the record; ``Instruments`` opens the real drivers from it.
"""

from __future__ import annotations

from collections.abc import Callable

from accbench.bench.benchfile import BenchConfig
from accbench.bench.plan import Cable, Lot, Plan
from accbench.dsp.twinax import TwinaxSpec, spec_from_lot
from accbench.instruments import open_instrument

from accbench.capabilities import capability_for
from accbench.errors import InputError
from accbench.station import ROLES, ResourceSpec, Station, StationBase


def wire_spec(lot: Lot, cable: Cable, carbon: bool = True) -> TwinaxSpec:
    """The twinax spec of a cable from its lot (``carbon=False``: the same wire with no carbon)."""
    return spec_from_lot(length_m=cable.length_m, awg=cable.awg if cable.awg is not None else lot.awg,
                         diameter_mm=lot.diameter_mm, grade=lot.grade, roughness_um=lot.roughness_um,
                         carbon_mg_m2=lot.carbon_mg_m2 if carbon else 0.0)


class Instruments:
    """The open drivers of a station's instruments by role: opened from its resources, re-opened after a fault."""

    def __init__(self, station: Station):
        self.station = station
        self.by_role: dict = {}
        if isinstance(station, InstrumentStation):
            station.via = self.by_role  # a switch driven through one of the instruments

    def _open(self, role: str):
        spec = self.station.resources()[role]
        inst = open_instrument(spec.resource, spec.backend, spec.dialect, kind=role, timeout_s=spec.timeout_s,
                               locations=spec.locations or None)
        if spec.model and capability_for(role, inst.identity.model) is not capability_for(role, spec.model):
            inst.close()
            raise InputError(f"[{role}] model = {spec.model!r}, but {spec.resource} answers *IDN? as "
                             f"{inst.identity.maker} {inst.identity.model}; correct the bench file")
        return inst

    def open_all(self) -> dict:
        """Open every role not open yet (a fault on the previous cable may have left one closed)."""
        for role in ROLES:
            if role not in self.by_role:
                self.by_role[role] = self._open(role)
        return self.by_role

    def __getitem__(self, role: str):
        return self.by_role[role]

    def identities(self) -> dict:
        """Identity and dialect of every open instrument, for the run record."""
        return {role: inst.identity.to_dict() | {"dialect": inst.DIALECT} for role, inst in self.by_role.items()}

    def models(self) -> dict[str, str]:
        """Each role's model: declared by the station, or reported by an open instrument."""
        return {**self.station.models(), **{role: inst.identity.model for role, inst in self.by_role.items()}}

    def reopen(self, role: str) -> None:
        """Drop and re-open one instrument (after a fault its own reconnect policy did not mend)."""
        old = self.by_role.pop(role, None)
        if old is not None:
            try:
                old.close()
            except Exception:  # the old session is already broken; closing is best effort
                pass
        self.by_role[role] = self._open(role)

    def close(self) -> None:
        for inst in self.by_role.values():
            try:
                inst.close()
            except Exception:  # closing at the end of a run must not hide its own error
                pass
        self.by_role.clear()

    def __enter__(self) -> Instruments:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_station(station: Station, plan: Plan, models: dict[str, str] | None = None) -> None:
    """Refuse a plan the station's instruments cannot run, listing every conflict in one error."""
    problems = []
    models = station.models() if models is None else models
    bert = capability_for("bert", models["bert"]) if models.get("bert") else None
    for gbd in plan.measured_rates_gbd if bert is not None else ():
        problems += [f"BER at {gbd:g} GBd: {p}" for p in bert.problems(gbd * 1e9, plan.pattern)]
    if bert is not None and plan.measured_rates_gbd:
        missing = [k for k, v in {**bert.locations, **station.locations()}.items() if v is None]
        problems += [f"the {bert.model}'s {k} is not known: give it under [bert] in the bench file" for k in missing]
    vna = capability_for("vna", models["vna"]) if models.get("vna") else None
    sweep = station.sweep
    if vna is not None:
        problems += vna.problems(sweep["start_hz"], sweep["stop_hz"], int(sweep["points"]))
    for gbd in plan.rates_gbd:
        if gbd * 1e9 / 2 > sweep["stop_hz"]:
            problems.append(f"{gbd:g} GBd needs the sweep to reach its Nyquist {gbd / 2:g} GHz; the sweep stops at "
                            f"{sweep['stop_hz'] / 1e9:g} GHz")
    if any(c.lanes > 1 for c in plan.cables) and not station.can_switch_lanes():
        problems.append("cables with several lanes, but the switch command has no {lane} and no operator "
                        "confirms each lane: every lane would be the same connection")
    if problems:
        raise InputError("the bench cannot run this plan: " + "; ".join(dict.fromkeys(problems)))


class InstrumentStation(StationBase):
    """Instruments named in a bench file; cables connected by a SCPI switch or confirmed by the operator."""

    def __init__(self, config: BenchConfig, confirm: Callable[[str, int], None] | None = None):
        self.via: dict = {}  # the open drivers, for a switch driven through one of them
        self.config = config
        self.sweep = config.sweep
        self.supply_v = config.supply_v
        self._confirm = confirm or _ask_operator
        self._switch = None
        if config.deembed_2xthru:
            from accbench.dsp.portmap import resolve_port_map, to_se2gmm_order
            from accbench.dsp.touchstone import read_touchstone

            fixture = read_touchstone(config.deembed_2xthru)
            self.two_x_thru = to_se2gmm_order(fixture, resolve_port_map(fixture, "auto")[0])

    def resources(self) -> dict[str, ResourceSpec]:
        return {role: ResourceSpec(spec.resource, spec.backend, role, spec.timeout_s, spec.dialect, spec.model,
                                   dict(spec.locations) or None)
                for role, spec in self.config.roles.items()}

    def models(self) -> dict[str, str]:
        return {role: spec.model for role, spec in self.config.roles.items() if spec.model}

    def locations(self) -> dict:
        return dict(self.config.roles["bert"].locations) if "bert" in self.config.roles else {}

    def can_switch_lanes(self) -> bool:
        switch = self.config.switch
        return self.config.confirm or (switch is not None and "{lane}" in switch.connect)

    def connect(self, serial: str, lane: int = 1) -> None:
        switch = self.config.switch
        if switch is not None:
            command = switch.connect.format(serial=serial, lane=lane)
            if switch.via:
                self.via[switch.via].configure(command)
            else:
                self._switch_instrument().configure(command)
        if self.config.confirm:
            self._confirm(serial, lane)

    def _switch_instrument(self):
        from accbench.instruments.base import Instrument
        from accbench.instruments.registry import open_resource

        if self._switch is None:
            spec = self.config.switch
            self._switch = Instrument(open_resource(spec.resource, spec.backend), timeout_s=spec.timeout_s)
        return self._switch

    def describe(self) -> dict:
        return {"kind": "instruments", **self.config.to_dict()}

    def close(self) -> None:
        if self._switch is not None:
            self._switch.close()
            self._switch = None


def _ask_operator(serial: str, lane: int) -> None:
    input(f"connect cable {serial} lane {lane} to the bench, then press Enter ")
