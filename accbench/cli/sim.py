"""``sim-server``: the simulated VNA, BERT and power analyzer as SCPI sockets for other programs."""

from __future__ import annotations

import sys

import click

from accbench.cli.options import errors_named_by
from accbench.cli.params import count
from accbench.errors import InputError


@click.command("sim-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--base-port", type=count(0, 65533), default=5025, show_default=True,
              help="VNA port; the BERT listens on +1, the power analyzer on +2.")
@click.option("--dut", "duts", multiple=True,
              help="A simulated cable, e.g. serial=A1,awg=26,length_m=3,carbon_mg_m2=80 (repeat for several; "
                   "select with SIM:DUT '<serial>').")
@click.option("--faults", default="", help="Faults, e.g. vna.stall@3,bert.sync_loss,power.drop~0.05.")
@click.option("--seed", type=count(0, 2**63 - 1), default=1, show_default=True,
              help="Seed of the noise, counts and faults.")
@click.option("--vna", "--vna-dialect", "vna_model", default="N5247B", show_default=True,
              help="Simulated VNA: N5247B, E5080B or ZNA67 (or a dialect: keysight-pna, rs-zna).")
@click.option("--bert", "--bert-dialect", "bert_model", default="M8040A", show_default=True,
              help="Simulated BERT: M8040A or MP1900A (or a dialect: keysight-m8040, anritsu-mp1900).")
@errors_named_by({"dut": "--dut"})
def sim_server(host, base_port, duts, faults, seed, vna_model, bert_model) -> None:
    """Serve the simulated VNA, BERT and power analyzer as SCPI sockets until SIGINT/SIGTERM."""
    import signal
    import threading

    from accbench.sim.faults import FaultPlan
    from accbench.sim.server import SimServer
    from accbench.sim.twin import SimBench, parse_dut

    if not 0 <= base_port <= 65533:
        raise InputError(f"--base-port {base_port}: use 0..65533")
    cables = [parse_dut(d) for d in duts] or None
    bench = SimBench(cables, seed, FaultPlan(faults, seed), vna_model=vna_model, bert_model=bert_model)
    try:
        server = SimServer(bench, host, base_port)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{base_port}..{base_port + 2} ({exc.strerror}); "
                         "pick another --base-port") from exc
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with server:
        for role, resource in server.resources().items():
            click.echo(f"{role:6s} {resource}")
        where = ", ".join(f"{k}={v}" for k, v in bench.bert_locations().items())
        click.echo(f"{bench.models['vna']} / {bench.models['bert']} ({where}) / {bench.models['power']}", err=True)
        click.echo(f"cable {bench.selected} connected; Ctrl-C to stop", err=True)
        sys.stdout.flush()
        while not stop.wait(0.2):
            pass
    click.echo("sim-server stopped", err=True)
