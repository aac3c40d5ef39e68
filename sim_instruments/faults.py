"""Deterministic fault injection for the simulated instruments.

A fault is written ``role.kind[@N][xC][~P]``: on instrument ``role`` (vna, bert, power) the
fault ``kind`` arms at the N-th message that instrument receives (default 1), fires on the
first eligible message from there, ``C`` times in all (default 1); ``~P`` fires instead with
probability P on each eligible message (seeded, so a run repeats exactly). Kinds:
``stall`` (a query gets no answer), ``drop`` (the connection drops mid-reply), ``truncate`` (a
binary block comes back short), ``error`` (an SCPI error is queued), ``reboot`` (settings lost,
connection dropped), ``sync_loss`` (the connected cable's eye closes for the BERT) and
``overcurrent`` (the connected cable over-draws its rail).
"""

from __future__ import annotations

import re
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
    fired: int = 0


def parse_faults(text: str) -> list[Fault]:
    """``vna.stall@3,bert.sync_loss,power.drop~0.1`` -> faults (one clear error per bad item)."""
    faults = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"(\w+)\.(\w+)(?:@(\d+))?(?:x(\d+))?(?:~([\d.eE+-]+))?", item)
        if not m:
            raise InputError(f"fault {item!r}: write role.kind[@N][xC][~P], e.g. vna.stall@3")
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
        faults.append(Fault(role, kind, int(m.group(3) or 1), int(m.group(4) or 1), probability))
    return faults


class FaultPlan:
    """Counts messages per instrument and says which fault, if any, fires on this one."""

    def __init__(self, faults: list[Fault] | str, seed: int = 1):
        self.faults = parse_faults(faults) if isinstance(faults, str) else list(faults)
        self.rng = np.random.default_rng(seed + 7919)
        self.counts = dict.fromkeys(ROLES, 0)

    def tick(self, role: str) -> int:
        self.counts[role] = self.counts.get(role, 0) + 1
        return self.counts[role]

    def fire(self, role: str, eligible: tuple[str, ...]) -> str | None:
        """The kind of the first armed fault of ``role`` among ``eligible`` kinds that fires now."""
        n = self.counts.get(role, 0)
        for fault in self.faults:
            if fault.role != role or fault.kind not in eligible or n < fault.at:
                continue
            if fault.probability is not None:
                if self.rng.random() < fault.probability:
                    fault.fired += 1
                    return fault.kind
            elif fault.fired < fault.count:
                fault.fired += 1
                return fault.kind
        return None
