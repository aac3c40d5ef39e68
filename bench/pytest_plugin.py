"""pytest plugin: qualification written as tests.

Fixtures ``vna``, ``bert``, ``power`` (the drivers), ``bench`` (the station) and ``dut`` (the
connected cable, with ``dut.record(...)``), simulated by default and real with
``--bench BENCH.toml``. ``--plan PLAN.toml`` names the cables and lots; the marker
``@pytest.mark.cables`` runs a test once per cable of the plan. Whatever a test records, and its
outcome, goes into the run's HDF5 file (``--accbench-record RUN.h5``, default ``accbench-pytest.h5``).

```python
import pytest
from instruments.vna import SweepSettings

@pytest.mark.cables
def test_insertion_loss(dut, vna):
    net = vna.measure_sparams(SweepSettings(10e6, 60e9, 2001)).network
    dut.record(sparameters=net)
    ...
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest


def pytest_addoption(parser) -> None:
    group = parser.getgroup("accbench", "ACC qualification (accbench)")
    group.addoption("--plan", default=None, help="qualification plan (TOML) whose cables the tests run on")
    group.addoption("--bench", default=None, help="bench file (TOML) of real instruments; default: simulated")
    group.addoption("--accbench-record", default=None,
                    help="HDF5 run record of the tests (default accbench-pytest.h5)")
    parser.addini("accbench_plan", "default qualification plan for --plan")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "cables: run the test once per cable of the qualification plan (--plan)")


def _plan(config):
    from bench.plan import load_plan

    path = config.getoption("--plan") or config.getini("accbench_plan")
    if not path:
        raise pytest.UsageError("accbench: give the qualification plan with --plan PLAN.toml "
                                "(or accbench_plan = ... in the pytest ini)")
    return load_plan(Path(config.rootpath, path) if not Path(path).is_absolute() else path)


def pytest_generate_tests(metafunc) -> None:
    if metafunc.definition.get_closest_marker("cables") and "dut" in metafunc.fixturenames:
        plan = _plan(metafunc.config)
        metafunc.parametrize("dut", [c.serial for c in plan.cables], ids=[c.serial for c in plan.cables],
                             indirect=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.accbench_outcome = report.outcome
    return report


@dataclass
class Dut:
    """The connected cable: its plan entry and lot, and what the test records about it."""

    serial: str
    cable: object
    lot: object
    order: int
    figures: dict = field(default_factory=dict)
    network: object = None

    def record(self, sparameters=None, **figures) -> None:
        """Keep figures (JSON-able values) and optionally a measured ``skrf.Network`` for the run record."""
        if sparameters is not None:
            self.network = sparameters
        self.figures.update(figures)


class _Session:
    """The plan, the station and the run record shared by a pytest session."""

    def __init__(self, config):
        from bench.record import RunRecord
        from bench.stations import InstrumentBench, SimulatedBench

        self.plan = _plan(config)
        bench_file = config.getoption("--bench")
        if bench_file:
            from bench.benchfile import load_bench

            self.station = InstrumentBench(load_bench(bench_file))
        else:
            self.station = SimulatedBench(self.plan)
        self.record = RunRecord(config.getoption("--accbench-record") or "accbench-pytest.h5")
        self.record.create(self.plan.name, self.plan.source, self.plan.to_dict(), self.station.describe())
        self.station.open_all()
        self.record.set_instruments({role: inst.identity.to_dict() | {"dialect": inst.DIALECT}
                                     for role, inst in self.station.instruments.items()})
        self.outcomes: dict[str, list[str]] = {}

    def write(self, dut: Dut, outcome: str) -> None:
        import numpy as np

        self.outcomes.setdefault(dut.serial, []).append(outcome)
        figures = {"serial": dut.serial, "wire_lot": dut.cable.lot, "carbon_mg_m2": dut.lot.carbon_mg_m2,
                   "length_m": dut.cable.length_m, "lanes": dut.cable.lanes, "source": "pytest",
                   "tests": self.outcomes[dut.serial], "pass": all(o == "passed" for o in self.outcomes[dut.serial]),
                   **dut.figures}
        freq, s = (dut.network.f, dut.network.s) if dut.network is not None else (np.zeros(0), np.zeros((0, 4, 4)))
        self.record.write_cable(dut.serial, dut.order, freq, s, figures)

    def close(self, status: str) -> None:
        self.record.finish(status)
        self.station.close()


@pytest.fixture(scope="session")
def bench(request):
    """The station (simulated, or the instruments of ``--bench``) with its instruments open."""
    session = _Session(request.config)
    request.config.accbench_session = session
    yield session.station
    session.close("complete")


@pytest.fixture(scope="session")
def vna(bench):
    return bench.instruments["vna"]


@pytest.fixture(scope="session")
def bert(bench):
    return bench.instruments["bert"]


@pytest.fixture(scope="session")
def power(bench):
    return bench.instruments["power"]


@pytest.fixture
def dut(request, bench):
    """The cable under test, connected (lane 1); parametrised over the plan by ``@pytest.mark.cables``."""
    session = request.config.accbench_session
    plan = session.plan
    serial = getattr(request, "param", None) or plan.cables[0].serial
    order, cable = next((i, c) for i, c in enumerate(plan.cables) if c.serial == serial)
    bench.connect(serial, 1)
    current = Dut(serial, cable, plan.lots[cable.lot], order)
    yield current
    session.write(current, getattr(request.node, "accbench_outcome", "error"))
