"""A documented power model of a linear ACC, and the power gate.

Each plug holds a linear redriver per received lane. Per lane the bias of the linear stages
grows with the bandwidth they need (proportional to the baud) and with the equaliser
peaking the CTLE must provide; each plug adds static power (MCU, regulators, EEPROM).
P_cable = 2 * (P_static + lanes * (P_lane0 + k_baud * baud_GBd + k_eq * peaking_dB)).
The defaults give 3-5 W for a 4-lane cable at 106.25 GBd, the typical range of ACC data
sheets; the bench later replaces the model by the power analyzer's measured watts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from accbench.errors import InputError


@dataclass(frozen=True)
class PowerModel:
    """Constants of the ACC power model (W)."""

    lanes_per_end: int = 4
    static_w_per_end: float = 0.30
    lane_base_w: float = 0.10
    lane_w_per_gbd: float = 0.0025
    lane_w_per_db_peaking: float = 0.004
    max_w: float = 5.0

    def __post_init__(self) -> None:
        if self.lanes_per_end < 1 or self.max_w <= 0:
            raise InputError("power model: need >= 1 lane per end and a positive power limit")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PowerVerdict:
    """Watts per cable, energy per bit and the gate verdict."""

    power_w: float
    pj_per_bit: float
    max_w: float
    passed: bool
    source: str  # "model" or "measured"

    def to_dict(self) -> dict:
        return asdict(self)


def cable_power(model: PowerModel, baud: float, peaking_db: float) -> float:
    """Watts drawn by both plugs of the cable at ``baud`` with ``peaking_db`` of CTLE peaking."""
    lane = model.lane_base_w + model.lane_w_per_gbd * baud / 1e9 + model.lane_w_per_db_peaking * abs(peaking_db)
    return 2 * (model.static_w_per_end + model.lanes_per_end * lane)


def power_gate(model: PowerModel, baud: float, peaking_db: float = 0.0,
               measured_w: float | None = None) -> PowerVerdict:
    """Gate the cable's power (modelled, or the analyzer's ``measured_w``) against ``model.max_w``.

    Energy per bit counts every lane of both directions: bits/s = 2 ends * lanes * 2 bits * baud.
    """
    if measured_w is not None and measured_w < 0:
        raise InputError(f"measured power {measured_w} W is negative")
    watts = cable_power(model, baud, peaking_db) if measured_w is None else measured_w
    bits_per_s = 2 * model.lanes_per_end * 2 * baud
    return PowerVerdict(watts, watts / bits_per_s * 1e12, model.max_w, watts <= model.max_w,
                        "model" if measured_w is None else "measured")
