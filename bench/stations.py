"""Benches a qualification runs on: the simulated bench built from the plan, or instruments from a bench file.

Both give the run the same things: the three instruments (through the real drivers), a way to
connect a cable lane, the VNA sweep, the supply voltage, the 2x-thru fixture to de-embed (or
None), and a description for the record.
"""

from __future__ import annotations

from collections.abc import Callable

from accbench.capabilities import capability_for
from accbench.errors import InputError
from bench.benchfile import DEFAULT_SWEEP, ROLES, BenchConfig
from bench.plan import Cable, Lot, Plan
from dsp.twinax import TwinaxSpec


def wire_spec(lot: Lot, cable: Cable, carbon: bool = True) -> TwinaxSpec:
    """The twinax spec of a cable from its lot (``carbon=False``: the same wire with no carbon)."""
    awg = cable.awg if cable.awg is not None else lot.awg
    diameter = lot.diameter_mm * 1e-3 if lot.diameter_mm else None
    return TwinaxSpec(length_m=cable.length_m, awg=None if diameter else awg, diameter_m=diameter,
                      copper_grade=lot.grade, roughness_rq_m=lot.roughness_um * 1e-6,
                      carbon_mg_m2=lot.carbon_mg_m2 if carbon else 0.0)


class _Bench:
    """What both benches share: opened instruments, re-opened after a fault."""

    sweep: dict = DEFAULT_SWEEP
    supply_v: float = 3.3
    two_x_thru = None

    def __init__(self):
        self.instruments: dict = {}

    def _open(self, role: str):
        raise NotImplementedError

    def models(self) -> dict[str, str]:
        """The instrument model of each role as far as known: declared, or reported by an open instrument."""
        return {role: inst.identity.model for role, inst in self.instruments.items()}

    def locations(self) -> dict:
        """Where the BERT's generator and analyzer live, when the bench says so."""
        return {}

    def can_switch_lanes(self) -> bool:
        return True

    def check_plan(self, plan: Plan) -> None:
        """Refuse a plan the bench's instruments cannot run, listing every conflict in one error."""
        problems = []
        models = self.models()
        bert = capability_for("bert", models["bert"]) if models.get("bert") else None
        for gbd in plan.measured_rates_gbd if bert is not None else ():
            problems += [f"BER at {gbd:g} GBd: {p}" for p in bert.problems(gbd * 1e9, plan.pattern)]
        if bert is not None and plan.measured_rates_gbd:
            missing = [k for k, v in {**bert.locations, **self.locations()}.items() if v is None]
            problems += [f"the {bert.model}'s {k} is not known: give it under [bert] in the bench file"
                         for k in missing]
        vna = capability_for("vna", models["vna"]) if models.get("vna") else None
        if vna is not None:
            problems += vna.problems(self.sweep["start_hz"], self.sweep["stop_hz"], int(self.sweep["points"]))
        for gbd in plan.rates_gbd:
            if gbd * 1e9 / 2 > self.sweep["stop_hz"]:
                problems.append(f"{gbd:g} GBd needs the sweep to reach its Nyquist {gbd / 2:g} GHz; the sweep stops at "
                                f"{self.sweep['stop_hz'] / 1e9:g} GHz")
        if any(c.lanes > 1 for c in plan.cables) and not self.can_switch_lanes():
            problems.append("cables with several lanes, but the switch command has no {lane} and no operator "
                            "confirms each lane: every lane would be the same connection")
        if problems:
            raise InputError("the bench cannot run this plan: " + "; ".join(dict.fromkeys(problems)))

    def open_all(self) -> dict:
        for role in ROLES:
            if role not in self.instruments:
                self.instruments[role] = self._open(role)
        return self.instruments

    def reopen(self, role: str) -> None:
        """Drop and re-open one instrument (after a fault its own reconnect policy did not mend)."""
        old = self.instruments.pop(role, None)
        if old is not None:
            try:
                old.close()
            except Exception:  # the old session is already broken; closing is best effort
                pass
        self.instruments[role] = self._open(role)

    def close(self) -> None:
        for inst in self.instruments.values():
            try:
                inst.close()
            except Exception:  # closing at the end of a run must not hide its own error
                pass
        self.instruments = {}


class SimulatedBench(_Bench):
    """The simulated bench built from the plan's cables, lots and ``[sim]`` table, opened through the real drivers."""

    def __init__(self, plan: Plan):
        from sim_instruments.faults import FaultPlan
        from sim_instruments.twin import SimBench, SimDut, set_bench

        super().__init__()
        units = plan.sim.units
        duts = []
        for c in plan.cables:
            unit = units.get(c.serial)
            duts.append(SimDut(c.serial, wire_spec(plan.lots[c.lot], c), wire_lot=c.lot, lanes=c.lanes,
                               extra_power_w=unit.extra_power_w if unit else 0.0,
                               noise_factor=unit.noise_factor if unit else 1.0))
        self.sim = SimBench(duts, plan.seed, FaultPlan(plan.sim.faults, plan.seed))
        self._previous = set_bench(self.sim)

    def _open(self, role: str):
        from instruments import open_instrument
        from sim_instruments.visa import RESOURCES

        return open_instrument(RESOURCES[role], "@accsim", kind=role, timeout_s=2.0,
                               locations=self.locations() if role == "bert" else None)

    def models(self) -> dict[str, str]:
        return dict(self.sim.models)

    def locations(self) -> dict:
        return self.sim.bert_locations()

    def connect(self, serial: str, lane: int = 1) -> None:
        self.sim.select(serial, lane)

    def describe(self) -> dict:
        return {"kind": "simulated", **self.sim.describe()}

    def close(self) -> None:
        from sim_instruments.twin import set_bench

        super().close()
        set_bench(self._previous)


class InstrumentBench(_Bench):
    """Instruments named in a bench file; cables connected by a SCPI switch or confirmed by the operator."""

    def __init__(self, config: BenchConfig, confirm: Callable[[str, int], None] | None = None):
        super().__init__()
        self.config = config
        self.sweep = config.sweep
        self.supply_v = config.supply_v
        self._confirm = confirm or _ask_operator
        self._switch = None
        if config.deembed_2xthru:
            from dsp.portmap import resolve_port_map, to_se2gmm_order
            from dsp.touchstone import read_touchstone

            fixture = read_touchstone(config.deembed_2xthru)
            self.two_x_thru = to_se2gmm_order(fixture, resolve_port_map(fixture, "auto")[0])

    def _open(self, role: str):
        from instruments import open_instrument

        spec = self.config.roles[role]
        inst = open_instrument(spec.resource, spec.backend, spec.dialect, kind=role, timeout_s=spec.timeout_s,
                               locations=spec.locations or None)
        if spec.model and capability_for(role, inst.identity.model) is not capability_for(role, spec.model):
            inst.close()
            raise InputError(f"[{role}] model = {spec.model!r}, but {spec.resource} answers *IDN? as "
                             f"{inst.identity.maker} {inst.identity.model}; correct the bench file")
        return inst

    def models(self) -> dict[str, str]:
        declared = {role: spec.model for role, spec in self.config.roles.items() if spec.model}
        return {**declared, **super().models()}

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
                self.instruments[switch.via].configure(command)
            else:
                self._switch_instrument().configure(command)
        if self.config.confirm:
            self._confirm(serial, lane)

    def _switch_instrument(self):
        from instruments.base import Instrument
        from instruments.registry import open_resource

        if self._switch is None:
            spec = self.config.switch
            self._switch = Instrument(open_resource(spec.resource, spec.backend), timeout_s=spec.timeout_s)
        return self._switch

    def describe(self) -> dict:
        return {"kind": "instruments", **self.config.to_dict()}

    def close(self) -> None:
        super().close()
        if self._switch is not None:
            self._switch.close()
            self._switch = None


def _ask_operator(serial: str, lane: int) -> None:
    input(f"connect cable {serial} lane {lane} to the bench, then press Enter ")
