"""Progress of a run as typed events, so a progress display or a log never parses text.

``run_plan`` calls ``progress(event)`` with one of these; each has ``serial`` and a ``text()`` for logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StepStarted:
    """A step of one cable started (sweep, analysis, link model, reach, COM, bert, power, record)."""

    serial: str
    step: str
    detail: str = ""

    def text(self) -> str:
        return self.step + (f" {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class CableRecorded:
    """A cable is in the record (or its side journal), with its outcome."""

    serial: str
    outcome: str
    instrument_error: str | None = None
    journaled: bool = False
    result: Any = field(default=None, compare=False, repr=False)  # the CableResult as recorded (for a database sink)

    def text(self) -> str:
        where = "journaled (record busy)" if self.journaled else "recorded"
        return f"{where}: {self.outcome}" + (f", instrument error: {self.instrument_error}"
                                             if self.instrument_error else "")


@dataclass(frozen=True)
class CableSkipped:
    """A cable finished in an earlier run of a resumed record."""

    serial: str

    def text(self) -> str:
        return "done earlier"


@dataclass(frozen=True)
class FaultRecovered:
    """An instrument fault during a cable that a re-open and retry mended."""

    serial: str
    role: str
    error: str

    def text(self) -> str:
        return f"{self.role}: {self.error}; re-opened and retried"


@dataclass(frozen=True)
class RunStarted:
    """The record is open and the instruments identified: what a results database needs about the run."""

    record: str
    plan: dict
    station: dict
    instruments: dict
    resumed: bool = False
    serial: str = ""

    def text(self) -> str:
        return f"run started: {self.record}"


@dataclass(frozen=True)
class RunFinished:
    """The run ended (complete, interrupted or failed) with its lot summary where one was made."""

    record: str
    status: str
    summary: dict | None = None
    serial: str = ""

    def text(self) -> str:
        return f"run {self.status}: {self.record}"


Event = StepStarted | CableRecorded | CableSkipped | FaultRecovered | RunStarted | RunFinished
