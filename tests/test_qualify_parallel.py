"""Cables in parallel (issue 16): a run with worker processes writes the serial run's record, bit for bit
(every dataset and attribute but timings and timestamps), pipelined behind one set of instruments or on
the workers' own copies of the simulated station; an interrupted parallel run resumes to the uninterrupted
record; and the twin that takes the instruments' own time."""

from __future__ import annotations

import json
import time

import h5py
import numpy as np
import pytest
from accbench.bench.events import CableRecorded, CableSkipped
from accbench.bench.plan import parse_plan
from accbench.bench.qualify import run_plan
from accbench.sim.station import SimulatedStation, parse_sim_table
from accbench.sim.twin import SimBench, SimDut

from accbench.errors import InputError

VOLATILE_ROOT = {"started", "ended", "run_id", "timing_json"}  # wall-clock facts of the run, not its results


def record_tree(path, cables_only: bool = False) -> dict:
    """Every attribute and dataset of a run record by path, timings left out and events as their texts."""
    out = {}
    with h5py.File(path, "r") as f:
        if not cables_only:
            for key, value in f.attrs.items():
                if key in VOLATILE_ROOT:
                    continue
                if key == "events_json":
                    value = json.dumps([text for _, text in json.loads(value)])
                out[f"/@{key}"] = value
        root = f["cables"] if cables_only else f

        def visit(name: str, node) -> None:
            if name.split("/")[-1] == "timing_s" or "/timing_s/" in f"/{name}/":
                return
            for key, value in node.attrs.items():
                out[f"{name}@{key}"] = value
            if isinstance(node, h5py.Dataset):
                out[name] = node[()]

        root.visititems(visit)
    return out


def differences(a: dict, b: dict) -> list[str]:
    """Paths whose values differ in type, shape or any bit (or exist in one tree only)."""
    bad = sorted(set(a) ^ set(b))
    for key in set(a) & set(b):
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            x, y = np.asarray(x), np.asarray(y)
            same = x.dtype == y.dtype and x.shape == y.shape and (
                x.tolist() == y.tolist() if x.dtype.kind == "O" else x.tobytes() == y.tobytes())
        else:
            same = type(x) is type(y) and (x == y or (x != x and y != y))
        if not same:
            bad.append(key)
    return sorted(bad)


def distinct_plan(faults: str = "", n: int = 4, sim: dict | None = None):
    """Every cable its own lot, carbon and length (no twin caches shared); one cable with two lanes."""
    lots = [{"id": f"L{i}", "carbon_mg_m2": 10.0 + 45.0 * i} for i in range(n)]
    cables = [{"serial": f"C{i}", "lot": f"L{i}", "length_m": 2.6 + 0.55 * i, "lanes": 2 if i == 1 else 1}
              for i in range(n)]
    data = {"run": {"name": "par", "rates_gbd": [53.125, 106.25], "ber_rates_gbd": [53.125], "seed": 5,
                    "gate_s": 0.5}, "gates": {"reach_m": 3.0, "il_mask": "ieee802.3ck-ca"},
            "lots": lots, "cables": cables, "sim": {"faults": faults, **(sim or {})}}
    return parse_plan(data, source=json.dumps(data))


def run(plan, path, workers: int, station=None, **options):
    station = station or SimulatedStation.for_plan(plan)
    events: list = []
    try:
        result = run_plan(plan, path, station, workers=workers,
                          progress=options.pop("progress", events.append), **options)
    finally:
        station.close()
    return result, events


@pytest.mark.slow  # the first parallel run of a process starts its worker process server (seconds)
def test_parallel_run_on_copies_of_the_twin_writes_the_serial_record(tmp_path):
    plan = distinct_plan()
    assert callable(SimulatedStation.for_plan(plan).replica())  # fault-free: workers measure on their own copies
    serial, serial_events = run(plan, tmp_path / "serial.h5", 1)
    parallel, events = run(plan, tmp_path / "parallel.h5", 2)
    assert differences(record_tree(tmp_path / "serial.h5"), record_tree(tmp_path / "parallel.h5")) == []
    recorded = [e for e in events if isinstance(e, CableRecorded)]
    assert [e.serial for e in recorded] == [c.serial for c in plan.cables]  # in plan order, from this process
    assert [untimed(e.result) for e in recorded] == \
        [untimed(e.result) for e in serial_events if isinstance(e, CableRecorded)]
    assert [untimed(c) for c in parallel.cables] == [untimed(c) for c in serial.cables]
    assert len(parallel.cables[1].rates[0].lanes) == 2


def untimed(cable) -> dict:
    return {k: v for k, v in cable.to_dict().items() if k != "timing_s"}


def test_pipelined_run_with_injected_faults_writes_the_serial_record(tmp_path):
    """Faults make the twin's schedule depend on what one set of instruments went through: no copies, the
    instruments stay in this process and only the computing goes to the workers."""
    plan = distinct_plan("bert.drop@3,power.overcurrent/C2,vna.error@5/C3")
    assert SimulatedStation.for_plan(plan).replica() is None
    run(plan, tmp_path / "serial.h5", 1)
    parallel, _ = run(plan, tmp_path / "pipelined.h5", 2)
    assert differences(record_tree(tmp_path / "serial.h5"), record_tree(tmp_path / "pipelined.h5")) == []
    assert any("over-current" in e for e in parallel.cable("C2").errors)
    assert any("simulated fault bert.drop" in text for _, text in parallel.events)


@pytest.mark.parametrize("faults", ["", "bert.drop@3"], ids=["copies", "pipelined"])
def test_interrupted_parallel_run_resumes_to_the_uninterrupted_record(tmp_path, faults):
    plan = distinct_plan(faults)
    run(plan, tmp_path / "whole.h5", 1)
    recorded: list[str] = []

    def stop_after_two(event) -> None:
        if isinstance(event, CableRecorded):
            recorded.append(event.serial)
            if len(recorded) == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(plan, tmp_path / "resumed.h5", 2, progress=stop_after_two)
    with h5py.File(tmp_path / "resumed.h5", "r") as f:
        assert f.attrs["status"] == "interrupted"
    resumed, events = run(plan, tmp_path / "resumed.h5", 2, resume=True)
    assert resumed.status == "complete"
    skipped = [e.serial for e in events if isinstance(e, CableSkipped)]
    assert skipped and skipped == [c.serial for c in plan.cables][: len(skipped)]
    assert differences(record_tree(tmp_path / "whole.h5", cables_only=True),
                       record_tree(tmp_path / "resumed.h5", cables_only=True)) == []
    assert resumed.summary == run_summary(tmp_path / "whole.h5")


def run_summary(path) -> dict:
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["summary_json"])


def test_pipelined_run_of_a_twin_taking_its_own_time_writes_the_serial_record(tmp_path):
    """With instrument time the twin is one set of instruments (no copies): pipelined, same record."""
    plan = distinct_plan(n=3)
    assert SimulatedStation.for_plan(plan, time_scale=0.005).replica() is None
    run(plan, tmp_path / "serial.h5", 1, SimulatedStation.for_plan(plan, time_scale=0.005))
    run(plan, tmp_path / "pipelined.h5", 2, SimulatedStation.for_plan(plan, time_scale=0.005))
    assert differences(record_tree(tmp_path / "serial.h5"), record_tree(tmp_path / "pipelined.h5")) == []


@pytest.mark.parametrize("workers", [-1, 2.5, True, "2", 10_000])
def test_workers_must_be_a_process_count(tmp_path, workers):
    plan = distinct_plan(n=1)
    with pytest.raises(InputError, match="workers"):
        run(plan, tmp_path / "r.h5", workers)
    assert not (tmp_path / "r.h5").exists()


def test_zero_workers_means_one_per_core():
    import os

    from accbench.bench.parallel import check_workers

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert check_workers(0) == cores and check_workers(3) == 3


def test_plan_sim_table_turns_on_instrument_time():
    assert parse_sim_table({"instrument_time": True}).instrument_time
    assert not parse_sim_table({}).instrument_time
    with pytest.raises(InputError, match="instrument_time = 'yes': give true or false"):
        parse_sim_table({"instrument_time": "yes"})
    plan = distinct_plan(n=1, sim={"instrument_time": True})
    assert SimulatedStation.for_plan(plan).sim.time_scale == 1.0
    assert SimulatedStation.for_plan(distinct_plan(n=1)).sim.time_scale == 0.0


def test_twin_with_instrument_time_waits_the_sweep_and_the_gate():
    """The VNA takes one sweep per source port of points x (1/IFBW + settling) + retrace; the BERT its gate."""
    from accbench.bench.stations import Instruments
    from accbench.instruments.bert import BerSettings
    from accbench.instruments.vna import SweepSettings

    station = SimulatedStation(SimBench([SimDut("T1")], time_scale=1.0))
    try:
        with Instruments(station) as instruments:
            inst = instruments.open_all()
            station.connect("T1", 1)
            vna = inst["vna"]
            start, before = time.monotonic(), station.sim.modelled_s
            vna.measure_sparams(SweepSettings(10e6, 40e9, 101, 1e3))
            sweep_s = station.sim.modelled_s - before
            assert sweep_s == pytest.approx(4 * (101 * (1e-3 + 8e-6) + 5e-3))  # four source ports
            assert time.monotonic() - start >= sweep_s
            start, before = time.monotonic(), station.sim.modelled_s
            inst["bert"].measure_ber(BerSettings(53.125e9, "PRBS13Q", 0.3, sync_timeout_s=0.5))
            assert station.sim.modelled_s - before == pytest.approx(0.3)
            assert time.monotonic() - start >= 0.3
    finally:
        station.close()
