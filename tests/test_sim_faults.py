"""Injected faults on each simulated instrument: the drivers raise the right typed error or
recover by the reconnect policy, on both ways in, and what was recorded before stays intact."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.instruments import open_instrument
from accbench.instruments.base import ReconnectPolicy
from accbench.instruments.bert import BerSettings, SyncLossError
from accbench.instruments.power import OverCurrentError
from accbench.instruments.vna import SweepSettings
from accbench.sim.faults import FaultPlan, parse_faults
from accbench.sim.registry import backend_for, register, unregister
from accbench.sim.server import SimServer
from accbench.sim.twin import SimBench, parse_dut
from accbench.sim.visa import RESOURCES

from accbench.errors import InputError, InstrumentError, InstrumentTimeout

DUT = parse_dut("serial=F1,awg=26,length_m=3")
SWEEP = SweepSettings(10e6, 40e9, 201, 1e3)


class Way:
    """A simulated bench with a fault plan, reached in-process or over the socket server."""

    def __init__(self, kind: str, faults: str):
        self.kind = kind
        self.bench = SimBench([DUT], seed=4, faults=FaultPlan(faults, 4))
        self.server = None

    def __enter__(self):
        if self.kind == "in-process":
            self.name = register(self.bench)
            self.resources, self.backend = RESOURCES, backend_for(self.name)
        else:
            self.server = SimServer(self.bench, base_port=0).start()
            self.resources, self.backend = self.server.resources(), "@py"
        return self

    def open(self, role: str, **kw):
        return open_instrument(self.resources[role], self.backend, timeout_s=kw.pop("timeout_s", 1.0), **kw)

    def __exit__(self, *exc):
        if self.server:
            self.server.stop()
        else:
            unregister(self.name)


WAYS = ["in-process", "socket"]


@pytest.mark.parametrize("kind", WAYS)
def test_scpi_error_is_raised_with_its_code(kind):
    with Way(kind, "vna.error@6") as way:
        vna = way.open("vna")
        with pytest.raises(InstrumentError, match=r"-200, \"Execution error;injected fault\""):
            vna.measure_sparams(SWEEP)


@pytest.mark.parametrize("kind", WAYS)
def test_truncated_block_is_an_error_not_a_short_array(kind):
    with Way(kind, "vna.truncate") as way:
        with pytest.raises(InstrumentError, match="truncated"):
            way.open("vna").measure_sparams(SWEEP)


@pytest.mark.parametrize("kind", WAYS)
def test_stalled_query_is_recovered_or_a_named_timeout(kind):
    with Way(kind, "power.stall@4x2") as way:
        supply = way.open("power", timeout_s=0.3)
        supply.power_up([1, 2], 3.3)  # the stall hits a SYST:ERR? here: reopen, re-apply, retry
        assert supply.measure([1, 2]).total_w > 2.5
        assert way.bench.faults.faults[0].fired == 2
        strict = way.open("power", timeout_s=0.3)
        strict.reconnect = ReconnectPolicy(attempts=0)
        way.bench.faults.faults += parse_faults(f"power.stall@{way.bench.faults.counts['power'] + 2}")
        with pytest.raises(InstrumentTimeout, match=r"'MEAS:CURR\? \(@1\)' timed out"):
            strict.measure([1])


@pytest.mark.parametrize("kind", WAYS)
def test_dropped_connection_mid_block_is_recovered(kind):
    with Way(kind, "vna.drop@50") as way:
        vna = way.open("vna", log=True)
        network = vna.measure_sparams(SWEEP).network
        np.testing.assert_allclose(network.s, way.bench.sparameters(10e6, 40e9, 201), atol=1e-3)
        assert way.bench.faults.faults[0].fired == 1
        assert any(e.text.startswith("CALC1:MEAS") for e in vna.log)  # the log kept what came before


@pytest.mark.parametrize("kind", WAYS)
def test_reboot_loses_settings_and_the_driver_reapplies_them(kind):
    with Way(kind, "power.reboot@30") as way:
        supply = way.open("power", timeout_s=0.5)
        supply.power_up([1, 2], 3.3)
        first = supply.measure([1, 2])
        for _ in range(3):  # the reboot comes during these: outputs off, then back on by the driver
            again = supply.measure([1, 2])
        assert way.bench.faults.faults[0].fired == 1
        assert again.total_w == pytest.approx(first.total_w, rel=2e-3)
        assert first.channels[0].volts == pytest.approx(3.3, abs=0.01)  # the earlier reading is untouched


def test_sync_loss_and_over_current_are_typed():
    with Way("in-process", "bert.sync_loss,power.overcurrent@3") as way:
        bert = way.open("bert")
        with pytest.raises(SyncLossError):
            bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0, sync_timeout_s=0.2))
        supply = way.open("power")
        supply.power_up([1, 2], 3.3, current_limit_a=2.0)
        with pytest.raises(OverCurrentError, match="rail 1 tripped"):
            supply.measure([1, 2])


@pytest.mark.parametrize(("text", "needle"), [
    ("vna.melt", "unknown fault"),
    ("scope.stall", "unknown instrument"),
    ("vna.sync_loss", "bert only"),
    ("vna stall", "role.kind"),
    ("bert.drop~2", "probability"),
])
def test_bad_fault_specs_are_refused(text, needle):
    with pytest.raises(InputError, match=needle):
        parse_faults(text)


def test_random_faults_repeat_with_the_seed():
    def fired(seed):
        plan = FaultPlan("vna.stall~0.3", seed)
        out = []
        for _ in range(50):
            plan.tick("vna")
            out.append(plan.fire("vna", ("stall",)) is not None)
        return out

    assert fired(3) == fired(3) and fired(3) != fired(4) and 5 < sum(fired(3)) < 30
