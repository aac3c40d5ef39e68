"""Deterministic fault injection for the simulated instruments.

A fault is written ``role.kind[@N][xC][~P][/SERIAL]``: on instrument ``role`` (vna, bert, power)
the fault ``kind`` arms at the N-th message that instrument receives after a cable lane is
connected (default 1), fires on the first eligible message from there, ``C`` times per cable lane
(default 1); ``~P`` fires instead with probability P on each eligible message, drawn from a stream
keyed by the seed, the cable, the lane, the instrument and the message's number, like the twin's
noise. So the schedule is kept per cable and lane: a cable sees the same faults whatever was
measured before it, and a resumed run repeats an uninterrupted one. ``/SERIAL`` limits the fault
to that cable; without it every cable lane gets it (and, before any cable is connected, the bench
itself). Every firing is logged (``FaultPlan.log``). Kinds:
``stall`` (a query gets no answer), ``drop`` (the connection drops mid-reply), ``truncate`` (a
binary block comes back short), ``error`` (an SCPI error is queued), ``reboot`` (settings lost,
connection dropped), ``sync_loss`` (the connected cable's eye closes for the BERT) and
``overcurrent`` (the connected cable over-draws its rail).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from accbench.errors import InputError

KINDS = ("stall", "drop", "truncate", "error", "reboot", "sync_loss", "overcurrent")
ROLES = ("vna", "bert", "power")
_ONLY = {"sync_loss": "bert", "overcurrent": "power"}


@dataclass
class Fault:
    role: str
    kind: str
    at: int = 1
    count: int = 1
    probability: float | None = None
    fired: int = 0  # in all, across cable lanes
    serial: str | None = None  # only on this cable


def parse_faults(text: str) -> list[Fault]:
    """``vna.stall@3,bert.sync_loss,power.drop~0.1`` -> faults (one clear error per bad item)."""
    faults = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"(\w+)\.(\w+)(?:@(\d+))?(?:x(\d+))?(?:~([\d.eE+-]+))?(?:/(\S+))?", item)
        if not m:
            raise InputError(f"fault {item!r}: write role.kind[@N][xC][~P][/SERIAL], e.g. vna.stall@3")
        role, kind = m.group(1).lower(), m.group(2).lower()
        if role not in ROLES:
            raise InputError(f"fault {item!r}: unknown instrument {role!r}; use {', '.join(ROLES)}")
        if kind not in KINDS:
            raise InputError(f"fault {item!r}: unknown fault {kind!r}; use {', '.join(KINDS)}")
        if kind in _ONLY and _ONLY[kind] != role:
            raise InputError(f"fault {item!r}: {kind} applies to the {_ONLY[kind]} only")
        probability = float(m.group(5)) if m.group(5) else None
        if probability is not None and not 0 < probability <= 1:
            raise InputError(f"fault {item!r}: probability must be in (0, 1]")
        faults.append(Fault(role, kind, int(m.group(3) or 1), int(m.group(4) or 1), probability, 0, m.group(6)))
    return faults


class FaultPlan:
    """Counts messages per instrument and cable lane and says which fault, if any, fires on this one."""

    def __init__(self, faults: list[Fault] | str, seed: int = 1):
        self.faults = parse_faults(faults) if isinstance(faults, str) else list(faults)
        self.seed = seed
        self.key: tuple[str, int] | None = None  # the connected cable lane; None before the first connection
        self.counts = dict.fromkeys(ROLES, 0)  # messages per instrument since the connection
        self._fired: dict[tuple[int, tuple[str, int] | None], int] = {}
        self.log: list[str] = []

    def connect(self, serial: str, lane: int) -> None:
        """A cable lane is connected: message numbers start again, under this cable lane's schedule."""
        self.key = (serial, lane)
        self.counts = dict.fromkeys(ROLES, 0)

    def tick(self, role: str) -> int:
        self.counts[role] = self.counts.get(role, 0) + 1
        return self.counts[role]

    def _draw(self, index: int, role: str, n: int) -> float:
        serial, lane = self.key or ("", 0)
        return float(np.random.default_rng([self.seed, 7919, zlib.crc32(serial.encode()), lane,
                                            zlib.crc32(role.encode()), n, index]).random())

    def fire(self, role: str, eligible: tuple[str, ...]) -> str | None:
        """The kind of the first armed fault of ``role`` among ``eligible`` kinds that fires now."""
        n = self.counts.get(role, 0)
        for index, fault in enumerate(self.faults):
            if fault.role != role or fault.kind not in eligible or n < fault.at:
                continue
            if fault.serial is not None and (self.key is None or self.key[0] != fault.serial):
                continue
            if fault.probability is not None:
                fires = self._draw(index, role, n) < fault.probability
            else:
                fires = self._fired.get((index, self.key), 0) < fault.count
            if fires:
                self._fired[(index, self.key)] = self._fired.get((index, self.key), 0) + 1
                fault.fired += 1
                where = f"{self.key[0]} lane {self.key[1]}" if self.key else "the bench (no cable connected yet)"
                self.log.append(f"simulated fault {role}.{fault.kind} fired at message {n} to the {role} on {where}")
                return fault.kind
        return None

    def drain(self) -> list[str]:
        """The firings logged since the last call."""
        out, self.log = self.log, []
        return out
