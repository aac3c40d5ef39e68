"""Live progress of a qualification run (rich): one bar over the cables, one over the current cable's steps."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accbench.bench.events import CableRecorded, CableSkipped, FaultRecovered, RunFinished, RunStarted, StepStarted


def steps_per_cable(plan, lanes: int) -> int:
    """Progress steps of one cable: sweep, analysis, link model and reach per rate, BERT per lane and
    measured rate, COM per clause, power, record."""
    rates, measured = len(plan.rates_gbd), len(plan.measured_rates_gbd)
    return 2 + 2 * rates + lanes * measured + len(plan.com_clauses) + 2


class RunProgress:
    """Progress fed by ``run_plan``'s typed events: live bars on a terminal, one line per finished
    cable in a log (stderr not a terminal), nothing when disabled."""

    def __init__(self, plan, enabled: bool = True):
        self.plan = plan
        console = Console(stderr=True)
        self.lines = enabled and not console.is_terminal
        self.lanes = {c.serial: c.lanes for c in plan.cables}
        self._bar = Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, disable=not enabled or self.lines)
        self._current = None
        self._finished = 0

    def __enter__(self) -> RunProgress:
        self._cables = self._bar.add_task("cables", total=len(self.plan.cables))
        self._steps = self._bar.add_task("", total=1)
        self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.stop()

    def update(self, event) -> None:
        if isinstance(event, RunStarted | RunFinished):
            return
        serial, step = event.serial, event.text()
        if serial != self._current:
            self._current = serial
            total = steps_per_cable(self.plan, self.lanes.get(serial, 1))
            self._bar.reset(self._steps, total=total, description=f"{serial}")
        if isinstance(event, FaultRecovered):
            if self.lines:
                click.echo(f"{serial}: {step}", err=True)
            return
        if isinstance(event, CableRecorded | CableSkipped):
            self._finished += 1
            if self.lines:
                click.echo(f"[{self._finished}/{len(self.plan.cables)}] {serial}: {step}", err=True)
            self._bar.update(self._steps, completed=self._bar.tasks[self._steps].total,
                             description=f"{serial}: {step}"[:34])
            self._bar.advance(self._cables)
            return
        if isinstance(event, StepStarted):
            self._bar.update(self._steps, advance=1, description=f"{serial}: {step}"[:34])

    def confirm(self, serial: str, lane: int) -> None:
        """Ask the operator to connect a cable lane (the live display pauses meanwhile)."""
        self._bar.stop()
        try:
            click.confirm(f"Connect cable {serial} lane {lane} to the bench. Ready?", default=True, abort=True,
                          err=True)
        finally:
            self._bar.start()
