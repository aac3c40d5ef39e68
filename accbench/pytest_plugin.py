"""pytest plugin: qualification written as tests.

Not loaded by installing accbench: activate it with ``pytest -p accbench.pytest_plugin`` or
``addopts = "-p accbench.pytest_plugin"`` in the project's pytest ini, so that installing
accbench changes no other project's pytest session. Every option, ini key, marker and fixture is
prefixed ``accbench``: fixtures ``accbench_vna``, ``accbench_bert``, ``accbench_power`` (the
drivers), ``accbench_station`` (the station) and ``accbench_dut`` (the connected cable, with
``accbench_dut.record(...)``), simulated by default and real with ``--accbench-bench BENCH.toml``.
``--accbench-plan PLAN.toml`` names the cables and lots; the marker ``@pytest.mark.accbench_cables``
runs a test once per cable of the plan. Whatever a test records, and its outcome, goes into the
run's HDF5 file (``--accbench-record RUN.h5``, default ``accbench-pytest.h5``).

```python
import pytest
from accbench.instruments.vna import SweepSettings

@pytest.mark.accbench_cables
def test_insertion_loss(accbench_dut, accbench_vna):
    net = accbench_vna.measure_sparams(SweepSettings(10e6, 60e9, 2001)).network
    accbench_dut.record(sparameters=net)
    ...
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest


def pytest_addoption(parser) -> None:
    group = parser.getgroup("accbench", "ACC qualification (accbench)")
    group.addoption("--accbench-plan", default=None, help="qualification plan (TOML) whose cables the tests run on")
    group.addoption("--accbench-bench", default=None, help="bench file (TOML) of real instruments; default: simulated")
    group.addoption("--accbench-record", default=None,
                    help="HDF5 run record of the tests (default accbench-pytest.h5)")
    parser.addini("accbench_plan", "default qualification plan for --accbench-plan")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers",
                            "accbench_cables: run the test once per cable of the qualification plan (--accbench-plan)")


def _plan(config):
    from accbench.bench.plan import load_plan

    path = config.getoption("--accbench-plan") or config.getini("accbench_plan")
    if not path:
        raise pytest.UsageError("accbench: give the qualification plan with --accbench-plan PLAN.toml "
                                "(or accbench_plan = ... in the pytest ini)")
    return load_plan(Path(config.rootpath, path) if not Path(path).is_absolute() else path)


def pytest_generate_tests(metafunc) -> None:
    if metafunc.definition.get_closest_marker("accbench_cables") and "accbench_dut" in metafunc.fixturenames:
        plan = _plan(metafunc.config)
        metafunc.parametrize("accbench_dut", [c.serial for c in plan.cables], ids=[c.serial for c in plan.cables],
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
        from accbench.bench.record import RunRecord
        from accbench.bench.stations import Instruments, InstrumentStation
        from accbench.sim.station import SimulatedStation

        self.plan = _plan(config)
        bench_file = config.getoption("--accbench-bench")
        if bench_file:
            from accbench.bench.benchfile import load_bench

            self.station = InstrumentStation(load_bench(bench_file))
        else:
            self.station = SimulatedStation.for_plan(self.plan)
        self.instruments = Instruments(self.station)
        self.record = RunRecord(config.getoption("--accbench-record") or "accbench-pytest.h5")
        # each pytest session writes its record anew (a test session is repeated, not resumed)
        self.record.create(self.plan.name, self.plan.source, self.plan.to_dict(), self.station.describe())
        self.instruments.open_all()
        self.record.set_instruments(self.instruments.identities())
        self.outcomes: dict[str, list[str]] = {}
        self.figures: dict[str, dict] = {}
        self.networks: dict[str, object] = {}

    def write(self, dut: Dut, outcome: str) -> None:
        import numpy as np

        from accbench.bench.results import CableResult, GateVerdict

        outcomes = self.outcomes.setdefault(dut.serial, [])
        outcomes.append(outcome)
        # several tests on one cable: each adds its figures (and the last sweep) to what the others recorded
        figures = self.figures.setdefault(dut.serial, {})
        figures.update(dut.figures)
        if dut.network is not None:
            self.networks[dut.serial] = dut.network
        network = self.networks.get(dut.serial)
        tests = GateVerdict("tests", "outcome of the qualification tests written for this cable", "", None, None,
                            ">=", None, 0.0, "pass" if all(o == "passed" for o in outcomes) else "fail",
                            ", ".join(outcomes))
        result = CableResult(dut.serial, dut.cable.lot, dut.lot.carbon_mg_m2, dut.cable.length_m, dut.cable.lanes,
                             verdicts=(tests,), source="pytest", extra=dict(figures))
        freq, s = (network.f, network.s) if network is not None else (np.zeros(0), np.zeros((0, 4, 4)))
        self.record.write_cable(dut.order, freq, s, result)

    def close(self, status: str) -> None:
        self.record.finish(status)
        self.instruments.close()
        self.station.close()


@pytest.fixture(scope="session")
def accbench_station(request):
    """The station (simulated, or the instruments of ``--accbench-bench``) with its instruments open."""
    session = _Session(request.config)
    request.config.accbench_session = session
    yield session.station
    session.close("complete")


@pytest.fixture(scope="session")
def accbench_vna(request, accbench_station):
    return request.config.accbench_session.instruments["vna"]


@pytest.fixture(scope="session")
def accbench_bert(request, accbench_station):
    return request.config.accbench_session.instruments["bert"]


@pytest.fixture(scope="session")
def accbench_power(request, accbench_station):
    return request.config.accbench_session.instruments["power"]


@pytest.fixture
def accbench_dut(request, accbench_station):
    """The cable under test, connected (lane 1); parametrised over the plan by ``@pytest.mark.accbench_cables``."""
    session = request.config.accbench_session
    plan = session.plan
    serial = getattr(request, "param", None) or plan.cables[0].serial
    order, cable = next((i, c) for i, c in enumerate(plan.cables) if c.serial == serial)
    accbench_station.connect(serial, 1)
    current = Dut(serial, cable, plan.lots[cable.lot], order)
    yield current
    session.write(current, getattr(request.node, "accbench_outcome", "error"))
