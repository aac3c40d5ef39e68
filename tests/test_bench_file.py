"""The bench file: validation of every input, and a run on instruments named in it (the twin served
over a real transport, cables switched by SCPI, fixtures removed by 2x-thru de-embedding)."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
import skrf as rf
from accbench.bench.benchfile import BenchError, parse_bench
from accbench.bench.stations import wire_spec
from accbench.dsp.twinax import TwinaxSpec, twinax_network
from accbench.sim.registry import backend_for, lookup, register, unregister
from accbench.sim.server import SimServer
from accbench.sim.station import SimulatedStation
from accbench.sim.twin import SimBench, SimDut
from accbench.sim.visa import RESOURCES

from accbench.api import qualify as run_plan
from accbench.errors import InputError

from .conftest import write_network
from .test_cli import assert_cli_error, run
from .test_qualify import BERT_RATES, PLAN, small_plan

ROLES = {role: {"resource": f"TCPIP0::lab::{role}::INSTR"} for role in ("vna", "bert", "power")}
SWITCH = {"switch": {"via": "vna", "connect": "SIM:DUT '{serial}',{lane}"}}


@pytest.mark.parametrize(("data", "needle"), [
    ({**SWITCH, "vna": ROLES["vna"], "bert": ROLES["bert"]}, "[power] is missing"),
    ({**SWITCH, **ROLES, "vna": {"resource": ""}}, "[vna] resource is missing"),
    ({**SWITCH, **ROLES, "vna": {"resource": "X", "dialect": "hp-8510"}}, "dialect = 'hp-8510'"),
    ({**SWITCH, **ROLES, "vna": {"resource": "X", "dialect": "keysight-m8040"}}, "is a bert driver, not a vna"),
    ({**SWITCH, **ROLES, "bert": {"resource": "X", "timeout_s": -1}}, "[bert] timeout_s = -1 must be a number > 0"),
    ({**SWITCH, **ROLES, "power": {"resource": "X", "adress": "Y"}}, "unknown key 'adress'"),
    ({**ROLES}, "no way to connect cables"),
    ({**ROLES, "switch": {"via": "vna", "connect": "ROUT:CLOS (@{port})"}}, "unknown field {port}"),
    ({**ROLES, "switch": {"via": "dmm", "connect": "X"}}, "via = 'dmm'"),
    ({**ROLES, "switch": {"connect": "X"}}, "give either via"),
    ({**SWITCH, **ROLES, "sweep": {"start_hz": 50e9, "stop_hz": 10e9}}, "start_hz 5e+10 must be below stop_hz"),
    ({**SWITCH, **ROLES, "fixtures": {"deembed_2xthru": "missing.s4p"}}, "no such file"),
    ({**SWITCH, **ROLES, "bench": {"supply_v": 48}}, "above the 15 V"),
    ({**SWITCH, **ROLES, "operator": {"confirm": "yes"}}, "must be true or false"),
])
def test_bad_bench_files_name_every_problem(tmp_path, data, needle):
    with pytest.raises(BenchError) as info:
        parse_bench(data, tmp_path)
    assert needle in str(info.value)


def test_a_2xthru_that_is_not_a_4port_is_refused(tmp_path):
    two_port = rf.Network(frequency=rf.Frequency(1, 10, 11, "GHz"), s=np.zeros((11, 2, 2)), z0=50)
    path = write_network(two_port, tmp_path / "fixture.s2p")
    with pytest.raises(BenchError, match="has 2 ports; a 2x-thru must be a 4-port"):
        parse_bench({**SWITCH, **ROLES, "fixtures": {"deembed_2xthru": path.name}}, tmp_path)


def test_cli_refuses_a_bad_bench_file_before_touching_instruments(tmp_path):
    bench = tmp_path / "bench.toml"
    bench.write_text('[vna]\nresource = "TCPIP0::x::INSTR"\n')
    assert_cli_error(run("qualify", str(PLAN), "-o", str(tmp_path / "r.h5"), "--bench", str(bench)),
                     "[bert] is missing")
    assert not (tmp_path / "r.h5").exists()


def _bench_toml(path, resources: dict, backend: str, extra: str = "") -> None:
    roles = "".join(f'[{role}]\nresource = "{res}"\nbackend = "{backend}"\ntimeout_s = 5\n'
                    for role, res in resources.items())
    path.write_text(f'[bench]\nname = "test bench"\n{roles}[switch]\nvia = "vna"\n'
                    f'connect = "SIM:DUT \'{{serial}}\',{{lane}}"\n{extra}')


def _twin_for(plan, fixture=None) -> SimBench:
    duts = [SimDut(c.serial, wire_spec(plan.lots[c.lot], c), wire_lot=c.lot, lanes=c.lanes) for c in plan.cables]
    return SimBench(duts, plan.seed, fixture=fixture)


def test_a_run_on_instruments_of_a_bench_file_over_sockets(tmp_path):
    """pyvisa-py to the twin's socket server, cables switched by the SCPI command of the bench file:
    the same figures and verdicts as the embedded simulated bench."""
    plan = small_plan(carbons=(10, 160), lanes=2, rates=BERT_RATES)
    twin = _twin_for(plan)
    with SimServer(twin, "127.0.0.1", 0) as server:
        bench_file = tmp_path / "bench.toml"
        _bench_toml(bench_file, {role: server.resource(role) for role in ("vna", "bert", "power")}, "@py")
        real = run_plan(plan, tmp_path / "real.h5", bench=bench_file)
    embedded = run_plan(plan, tmp_path / "sim.h5")
    # the 160 mg/m^2 cable reaches 2.99 m of the 3 m gate: within the reach search's resolution, marginal
    assert [c.outcome for c in real.cables] == [c.outcome for c in embedded.cables] == ["pass", "marginal"]
    for a, b in zip(real.cables, embedded.cables, strict=True):
        assert a.il_db["106.25"] == pytest.approx(b.il_db["106.25"], abs=1e-9)
        assert [lane.lane for lane in a.rates[0].lanes] == [1, 2] and not a.rates[1].lanes
    assert real.instruments["bert"]["model"] == "M8040A"
    assert real.bench["kind"] == "instruments"


def test_fixtures_named_in_the_bench_file_are_deembedded(tmp_path):
    """The VNA sees fixture boards on both sides; with their 2x-thru in the bench file the cable's IL
    comes back within 0.15 dB of the bare cable's."""
    plan = small_plan(carbons=(10,))
    freq = np.linspace(10e6, 60e9, 6000)
    half = twinax_network(TwinaxSpec(awg=30, length_m=0.06, diff_impedance_ohm=92.0), freq)
    two_x = write_network(half ** half.flipped(), tmp_path / "2xthru.s4p")
    bare = run_plan(plan, tmp_path / "bare.h5").cables[0].il_db["106.25"]
    name = register(_twin_for(plan, fixture=half))
    try:
        for deembed, kind in ((False, "raw"), (True, "clean")):
            bench_file = tmp_path / f"{kind}.toml"
            _bench_toml(bench_file, RESOURCES, backend_for(name),
                        f'[fixtures]\ndeembed_2xthru = "{two_x.name}"\n' if deembed else "")
            il = run_plan(plan, tmp_path / f"{kind}.h5", bench=bench_file).cables[0].il_db["106.25"]
            if deembed:
                assert il == pytest.approx(bare, abs=0.15)
            else:
                assert il - bare > 1.0  # the fixtures matter
    finally:
        unregister(name)


def test_two_simulated_stations_in_one_process_answer_from_their_own_benches(tmp_path):
    """No process-global twin: each station registers its bench under its own name, and a run on one
    leaves the other alone (the backend finds the bench by the name it is opened with)."""
    from accbench.bench.stations import Instruments

    short, long_ = small_plan(carbons=(10,)), small_plan(carbons=(160,))
    with SimulatedStation.for_plan(short) as a, SimulatedStation.for_plan(long_) as b:
        assert a.backend != b.backend and a.backend.endswith("@accsim")
        with Instruments(a) as ia, Instruments(b) as ib:
            ia.open_all()
            ib.open_all()
            a.connect("C0-0")
            b.connect("C0-0")
            from accbench.dsp import AnalysisOptions, analyze
            from accbench.instruments.vna import SweepSettings

            sweep, options = SweepSettings(10e6, 60e9, 1201), AnalysisOptions(baud=106.25e9)
            il_a = analyze(ia["vna"].measure_sparams(sweep).network, options).il_db
            il_b = analyze(ib["vna"].measure_sparams(sweep).network, options).il_db
        assert il_b > il_a + 1  # 160 mg/m^2 of carbon, on the other station
    with pytest.raises(InputError, match="no simulated bench named"):
        lookup(a.name)


def test_plan_outside_the_benchs_instruments_is_refused_before_any_instrument_is_touched(tmp_path):
    """A declared M8040A cannot count at 106.25 GBd nor take PRBS7; a switch without {lane} cannot connect
    a second lane: every conflict in one line, and nothing opened (the resources do not even exist)."""
    plan = tmp_path / "plan.toml"
    plan.write_text('[run]\nname = "x"\nrates_gbd = [53.125, 106.25]\npattern = "PRBS7"\n'
                    '[[lots]]\nid = "L"\ncarbon_mg_m2 = 5\n'
                    '[[cables]]\nserial = "A"\nlot = "L"\nlength_m = 3\nlanes = 2\n')
    bench = tmp_path / "bench.toml"
    bench.write_text('[vna]\nresource = "TCPIP0::nowhere::inst0::INSTR"\nmodel = "N5247B"\n'
                     '[bert]\nresource = "TCPIP0::nowhere::inst1::INSTR"\nmodel = "M8040A"\n'
                     '[power]\nresource = "TCPIP0::nowhere::inst2::INSTR"\n'
                     '[sweep]\nstop_hz = 50e9\n[switch]\nvia = "vna"\nconnect = "ROUT:CLOS (@{serial})"\n')
    proc = run("qualify", str(plan), "-o", str(tmp_path / "r.h5"), "--bench", str(bench))
    assert_cli_error(proc, "the bench cannot run this plan")
    for needle in ("BER at 106.25 GBd: M8040A runs PAM4 at 2-64.8 GBd", "does not accept PRBS7",
                   "its Nyquist 53.125 GHz; the sweep stops at 50 GHz", "no {lane}"):
        assert needle in proc.stderr
    assert "cannot open" not in proc.stderr and not (tmp_path / "r.h5").exists()


@pytest.mark.parametrize(("table", "needle"), [
    ('[bert]\nresource = "X"\nmodel = "M8050A"\n', "model = 'M8050A': use one of M8040A, MP1900A"),
    ('[bert]\nresource = "X"\ned_module = "five"\n', "ed_module = 'five' must be a slot number"),
    ('[vna]\nresource = "X"\nanalyzer = "M2.DataIn"\n', "unknown key 'analyzer'"),
])
def test_bench_file_models_and_locations_are_checked(tmp_path, table, needle):
    roles = {r: v for r, v in ROLES.items() if f"[{r}]" not in table}
    data = tomllib.loads(table) | roles | SWITCH
    with pytest.raises(BenchError, match=re.escape(needle)):
        parse_bench(data, tmp_path)


def test_bert_locations_from_the_bench_file_reach_the_driver(tmp_path):
    """An M8046A in module 3 of the chassis: the bench file's [bert] analyzer makes the run work."""
    plan = small_plan(carbons=(10,), rates=BERT_RATES)
    twin = _twin_for(plan)
    twin.layout["m8040"] = {"M1": "M8045A", "M3": "M8046A"}
    with SimServer(twin, "127.0.0.1", 0) as server:
        bench_file = tmp_path / "bench.toml"
        _bench_toml(bench_file, {role: server.resource(role) for role in ("vna", "bert", "power")}, "@py")
        text = bench_file.read_text().replace('[power]', 'analyzer = "M3.DataIn"\nmodel = "M8040A"\n[power]')
        bench_file.write_text(text)
        out = run_plan(plan, tmp_path / "run.h5", bench=bench_file)
    assert out.cables[0].rates[0].lanes[0].bits == 106_250_000_000
    assert out.bench["roles"]["bert"]["locations"] == {"analyzer": "M3.DataIn"}


def test_the_simulated_bench_refuses_ber_beyond_its_bert(tmp_path):
    plan = small_plan(rates=(106.25,), ber_rates=(106.25,))
    with pytest.raises(InputError, match=r"BER at 106\.25 GBd: M8040A runs PAM4"):
        run_plan(plan, tmp_path / "run.h5")
