"""The simulated bench against its own physics, through the same drivers on both ways in
(in-process pyvisa-sim backend and the SCPI socket server through pyvisa-py)."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.dsp import analyze, analyze_file
from accbench.dsp.twinax import twinax_network
from accbench.instruments import open_instrument
from accbench.instruments.bert import BerSettings
from accbench.instruments.vna import SweepSettings
from accbench.sim.registry import backend_for, register, unregister
from accbench.sim.server import SimServer
from accbench.sim.twin import SimBench, SimDut, parse_dut
from accbench.sim.visa import RESOURCES

LOSSY = parse_dut("serial=LOSSY,awg=26,length_m=5,carbon_mg_m2=160")  # model BER ~7e-5 at 53.125 GBd
GOOD = parse_dut("serial=GOOD,awg=26,length_m=3,carbon_mg_m2=10")


@pytest.fixture(params=["in-process", "socket"])
def way_in(request):
    """(bench, resources by role, pyvisa backend) for each way in."""
    bench = SimBench([GOOD, LOSSY], seed=5)
    if request.param == "in-process":
        name = register(bench)
        yield bench, RESOURCES, backend_for(name)
        unregister(name)
    else:
        with SimServer(bench, base_port=0) as server:
            yield bench, server.resources(), "@py"


def test_vna_il_at_nyquist_matches_the_model(way_in, tmp_path):
    _bench, resources, backend = way_in
    vna = open_instrument(resources["vna"], backend, timeout_s=5)
    result = vna.measure_sparams(SweepSettings(10e6, 50e9, 5001, 1e3))
    vna.close()
    path = result.to_touchstone(tmp_path / "sim.s4p")
    measured = analyze_file(path)
    model = analyze(twinax_network(GOOD.spec, result.network.f))
    assert measured.il_db == pytest.approx(model.il_db, abs=0.05)
    assert 10 < measured.il_db < 20
    assert measured.noise_floor_db is None or measured.noise_floor_db < -70


def test_trace_noise_shrinks_with_if_bandwidth():
    bench = SimBench([GOOD], seed=2)
    name = register(bench)
    backend = backend_for(name)
    try:
        vna = open_instrument(RESOURCES["vna"], backend)
        exact = bench.sparameters(10e6, 50e9, 401)
        spread = []
        for ifbw in (1e4, 1e2):
            s = vna.measure_sparams(SweepSettings(10e6, 50e9, 401, ifbw)).network.s
            spread.append(np.std(s - exact))
        assert spread[1] < spread[0] / 5  # sqrt(100) = 10 in theory
        assert 10 ** (-85 / 20) < spread[0] < 10 ** (-65 / 20)
        assert float(vna.sweep_time_s) > 0.1  # 401 points at 100 Hz: grows with points, falls with IFBW
    finally:
        unregister(name)


def test_bert_long_gate_agrees_with_the_link_model(way_in):
    bench, resources, backend = way_in
    bench.select("LOSSY")
    model_ber, _ = bench.link(53.125e9)
    bert = open_instrument(resources["bert"], backend, timeout_s=5)
    result = bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0))
    assert 1e-6 < model_ber < 1e-3
    assert result.bits == 106_250_000_000 and result.ber == pytest.approx(model_ber, rel=0.01)
    assert result.ser == pytest.approx(2 * model_ber, rel=0.01)  # Gray: one bit per symbol error
    bench.select("GOOD")
    short = bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 0.01))
    assert short.errors == 0 and short.ber_upper == pytest.approx(2.9957 / short.bits, rel=1e-3)
    bert.close()


def test_power_analyzer_agrees_with_the_power_model(way_in):
    bench, resources, backend = way_in
    _, model_w = bench.link(bench.baud)
    supply = open_instrument(resources["power"], backend, timeout_s=5)
    supply.power_up([1, 2], 3.3)
    reading = supply.measure([1, 2], points=512)
    assert reading.total_w == pytest.approx(model_w, rel=2e-3)
    assert 2.5 < reading.total_w < 5.0  # 3-5 W class at 53-106 GBd


def test_same_driver_same_answers_on_both_ways_in():
    results = []
    name = register(SimBench([GOOD], seed=9))
    backend = backend_for(name)
    try:
        vna = open_instrument(RESOURCES["vna"], backend)
        results.append(vna.measure_sparams(SweepSettings(10e6, 40e9, 201, 1e3)).network.s)
    finally:
        unregister(name)
    with SimServer(SimBench([GOOD], seed=9), base_port=0) as server:
        vna = open_instrument(server.resource("vna"), "@py")
        results.append(vna.measure_sparams(SweepSettings(10e6, 40e9, 201, 1e3)).network.s)
    np.testing.assert_array_equal(results[0], results[1])


def test_alternative_dialects_are_selectable():
    bench = SimBench([GOOD], seed=1, vna_dialect="rs-zna", bert_dialect="anritsu-mp1900")
    name = register(bench)
    backend = backend_for(name)
    try:
        vna = open_instrument(RESOURCES["vna"], backend)
        assert vna.DIALECT == "rs-zna"
        net = vna.measure_sparams(SweepSettings(10e6, 40e9, 101, 1e3)).network
        np.testing.assert_allclose(net.s, bench.sparameters(10e6, 40e9, 101), atol=1e-3)
        bert = open_instrument(RESOURCES["bert"], backend, locations=bench.bert_locations())
        assert bert.DIALECT == "anritsu-mp1900"
        result = bert.measure_ber(BerSettings(53.125e9, "PRBS31Q", 2.0))
        assert result.bits == 212_500_000_000 and result.symbol_errors is None
    finally:
        unregister(name)


def test_closed_eye_loses_sync():
    from accbench.instruments.bert import SyncLossError

    bench = SimBench([SimDut("LONG", GOOD.spec.with_length(12.0))], seed=1)
    name = register(bench)
    backend = backend_for(name)
    try:
        bert = open_instrument(RESOURCES["bert"], backend)
        with pytest.raises(SyncLossError, match="auto-alignment ended FAILED"):
            bert.measure_ber(BerSettings(53.125e9, "PRBS13Q", 1.0, sync_timeout_s=0.2))
    finally:
        unregister(name)
