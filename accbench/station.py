"""The station interface a qualification run talks to: open the instruments, connect a cable lane, close.

Two stations implement it: the instrument station of a bench file (``accbench.bench.stations``) and
the simulated station (``accbench.sim.station``), which lives on the simulator's side. A station
says where each instrument is (``ResourceSpec``); the run opens the drivers. A leaf module: it
imports nothing of the project, so both sides can build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

ROLES = ("vna", "bert", "power")
DEFAULT_SWEEP = {"start_hz": 10e6, "stop_hz": 60e9, "points": 6000, "ifbw_hz": 1e3}


@dataclass(frozen=True)
class ResourceSpec:
    """How to open the instrument of one role: VISA resource, pyvisa backend and what the station knows of it."""

    resource: str
    backend: str = ""
    kind: str = ""
    timeout_s: float = 10.0
    dialect: str | None = None  # force a driver; None: chosen from *IDN?
    model: str | None = None  # the model the station declares; checked against *IDN? when opened
    locations: dict | None = None  # a BERT's generator/analyzer locations, where the chassis layout varies


@runtime_checkable
class Station(Protocol):
    """What a qualification run needs of a bench: where each instrument is, and a way to connect a cable lane.

    The run opens the drivers itself (``accbench.bench.stations.Instruments``) from ``resources()``,
    so a station needs no driver code.
    """

    sweep: dict
    supply_v: float
    two_x_thru: Any  # a 4-port 2x-thru fixture half to de-embed (se2gmm order), or None

    def resources(self) -> dict[str, ResourceSpec]:
        """The resource of each role (vna, bert, power)."""

    def connect(self, serial: str, lane: int = 1) -> None:
        """Connect lane ``lane`` of cable ``serial`` to the instruments."""

    def models(self) -> dict[str, str]:
        """The instrument model of each role as far as the station knows it before opening."""

    def locations(self) -> dict:
        """Where the BERT's generator and analyzer live, when the station says so."""

    def can_switch_lanes(self) -> bool:
        """Whether ``connect`` reaches every lane of a multi-lane cable."""

    def describe(self) -> dict:
        """A JSON-able description of the station for the run record."""

    def drain_events(self) -> list[str]:
        """What happened at the station since the last call that the record should keep (e.g. injected faults)."""

    def close(self) -> None:
        """Release what the station holds (not the drivers: their opener closes them)."""


class StationBase:
    """Defaults every station shares, and use as a context manager."""

    sweep: dict = DEFAULT_SWEEP
    supply_v: float = 3.3
    two_x_thru = None

    def models(self) -> dict[str, str]:
        return {}

    def locations(self) -> dict:
        return {}

    def can_switch_lanes(self) -> bool:
        return True

    def drain_events(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
