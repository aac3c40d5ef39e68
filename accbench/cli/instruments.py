"""Commands that talk to one instrument: ``identify`` and the ``measure`` group (sparams, ber, power).

Without ``--resource`` they open the in-process simulated bench.
"""

from __future__ import annotations

import json

import click

from accbench.cli.options import INSTRUMENT_FLAGS, errors_named_by, resource_options
from accbench.cli.params import OutputFile, count, quantity
from accbench.errors import InputError


def _parse_locations(items: tuple[str, ...]) -> dict:
    """``--location analyzer=M3.DataIn --location ed_module=5`` -> {"analyzer": "M3.DataIn", "ed_module": 5}."""
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"--location {item!r}: write key=value, e.g. analyzer=M2.DataIn or ed_module=5")
        value = value.strip()
        out[key.strip()] = int(value) if value.isdigit() else value
    return out


def _open(kind: str | None, resource: str | None, backend: str, dialect: str | None, timeout_s: float,
          sim_dut: str | None, locations: dict | None = None):
    """Open the instrument (the in-process simulated bench when no resource is given)."""
    from accbench.instruments import open_instrument
    from accbench.sim.visa import RESOURCES, is_simulated

    resource = resource or RESOURCES.get(kind or "vna")
    if is_simulated(resource):
        from accbench.sim.registry import backend_for, register
        from accbench.sim.twin import SimBench, parse_dut

        bench = SimBench([parse_dut(sim_dut)] if sim_dut else None)
        if backend in ("", "@accsim"):  # this command's own bench, named in the backend
            backend = backend_for(register(bench))
        if kind == "bert" and not locations:
            locations = bench.bert_locations()
    elif sim_dut:
        raise InputError("--sim-dut applies to the simulated bench only; drop it or the --resource")
    return open_instrument(resource, backend, dialect, kind=kind, timeout_s=timeout_s, locations=locations)


@click.command()
@resource_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@errors_named_by(INSTRUMENT_FLAGS)
def identify(resource: str | None, backend: str, dialect: str | None, timeout_s: float, sim_dut: str | None,
             as_json: bool) -> None:
    """Print the parsed *IDN? of an instrument, the dialect chosen for it and the model's capabilities."""
    inst = _open(None, resource, backend, dialect, timeout_s, sim_dut)
    try:
        cap = inst.capability
        data = {"resource": resource, "idn": inst.identity.to_dict(), "dialect": inst.DIALECT, "kind": inst.KIND,
                "capabilities": None if cap is None else cap.describe()}
        if inst.KIND == "power":
            data["modules"] = {str(ch): inst.module(ch) for ch in (1, 2, 3, 4)}
    finally:
        inst.close()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    ident = data["idn"]
    click.echo(f"{ident['maker']} {ident['model']} s/n {ident['serial']} fw {ident['firmware']}: "
               f"{data['kind']} dialect {data['dialect']}")
    from accbench.cli.report import print_capabilities

    if "modules" in data:
        click.echo("modules: " + ", ".join(f"channel {ch} {m}" for ch, m in data["modules"].items()))
    print_capabilities(data["capabilities"])


@click.group()
def measure() -> None:
    """One-off bench measurements with real (or simulated) instruments."""


@measure.command("sparams")
@resource_options
@click.option("--start", default="10M", show_default=True, type=quantity("Hz", 0, open_low=True))
@click.option("--stop", default="50G", show_default=True, type=quantity("Hz", 0, open_low=True))
@click.option("--points", type=count(2, 1_000_001), default=5001, show_default=True)
@click.option("--ifbw", default="1k", show_default=True, type=quantity("Hz", 0, open_low=True))
@click.option("--power-dbm", type=quantity("dBm", -150, 40), default=None, help="Source power (dBm).")
@click.option("--averages", type=count(1, 100_000), default=1, show_default=True)
@click.option("-o", "--output", type=OutputFile(), required=True, help="Touchstone to write (.s4p).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@errors_named_by(INSTRUMENT_FLAGS)
def measure_sparams(resource: str | None, backend: str, dialect: str | None, timeout_s: float, sim_dut: str | None,
                    start: float, stop: float, points: int, ifbw: float, power_dbm: float | None, averages: int,
                    output: str, as_json: bool) -> None:
    """Sweep the 4-port S-parameters of a cable and write them as Touchstone."""
    from accbench.instruments.vna import SweepSettings

    settings = SweepSettings(start, stop, points, ifbw, power_dbm, averages)
    vna = _open("vna", resource, backend, dialect, timeout_s, sim_dut)
    try:
        result = vna.measure_sparams(settings)
    finally:
        vna.close()
    path = result.to_touchstone(output)
    data = {"file": str(path), "idn": result.info.identity.to_dict(), "points": points, "start_hz": start,
            "stop_hz": stop, "ifbw_hz": ifbw, "averages": averages, "dialect": vna.DIALECT}
    click.echo(json.dumps(data, indent=2) if as_json else f"wrote {path} ({points} points, {vna.DIALECT})")


@measure.command("ber")
@resource_options
@click.option("--baud", default="53.125G", show_default=True, type=quantity("Bd", 0, open_low=True),
              help="Symbol rate, within the BERT's range (accbench identify lists it).")
@click.option("--pattern", default="PRBS13Q", show_default=True, help="PRBS7..31, PRBS13Q, PRBS31Q or SSPRQ.")
@click.option("--pattern-file", default=None, help="Pattern file on the instrument (SSPRQ).")
@click.option("--seconds", type=quantity("s", 0, 1e7, open_low=True), default=10.0, show_default=True,
              help="Gate time (s).")
@click.option("--confidence", type=quantity("", 0, 0.999999999, open_low=True), default=0.95, show_default=True,
              help="Confidence of the BER bound.")
@click.option("--no-gray", is_flag=True, help="Uncoded PAM4 mapping instead of Gray.")
@click.option("--sync-timeout-s", type=quantity("s", 0, 86400, open_low=True), default=10.0, show_default=True,
              help="How long the error detector may take to synchronise.")
@click.option("--location", "locations", multiple=True,
              help="Where the generator/analyzer sit: analyzer=M2.DataIn (M8040A), ppg_module=7, ed_module=5 "
                   "(MP1900A); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@errors_named_by(INSTRUMENT_FLAGS)
def measure_ber(resource: str | None, backend: str, dialect: str | None, timeout_s: float, sim_dut: str | None,
                baud: float, pattern: str, pattern_file: str | None, seconds: float, confidence: float,
                no_gray: bool, sync_timeout_s: float, locations: tuple[str, ...], as_json: bool) -> None:
    """Gated PAM4 error count: bits, errors, symbols, BER, SER and the BER's upper confidence bound."""
    from accbench.instruments.bert import BerSettings

    settings = BerSettings(baud, pattern, seconds, not no_gray, pattern_file, confidence, sync_timeout_s)
    bert = _open("bert", resource, backend, dialect, timeout_s, sim_dut, _parse_locations(locations))
    try:
        result = bert.measure_ber(settings)
    finally:
        bert.close()
    data = result.to_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    ser = "n/a" if result.ser is None else f"{result.ser:.3e}"
    click.echo(f"{result.bits} bits, {result.errors} errors in {seconds:g} s ({bert.DIALECT})")
    click.echo(f"BER {result.ber:.3e}  (<= {result.ber_upper:.3e} at {confidence:.0%})  SER {ser}"
               + ("  SYNC LOST during the gate" if result.sync_lost else ""))


@measure.command("power")
@resource_options
@click.option("--channels", default="1", show_default=True, help="Rails, e.g. 1,2.")
@click.option("--volts", type=quantity("V", 0, 100), default=None,
              help="Set every rail to this voltage and switch it on first.")
@click.option("--current-limit", type=quantity("A", 0, 100, open_low=True), default=2.0, show_default=True,
              help="Current limit (A) with --volts.")
@click.option("--points", type=count(0, 1_000_000), default=0, show_default=True,
              help="Average an array capture of N points.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@errors_named_by(INSTRUMENT_FLAGS)
def measure_power(resource: str | None, backend: str, dialect: str | None, timeout_s: float, sim_dut: str | None,
                  channels: str, volts: float | None, current_limit: float, points: int, as_json: bool) -> None:
    """Volts, amps and watts of the cable's supply rails (DC power analyzer)."""
    try:
        rails = [int(c) for c in channels.split(",")]
    except ValueError as exc:
        raise InputError(f"--channels {channels!r}: give rail numbers, e.g. 1,2") from exc
    supply = _open("power", resource, backend, dialect, timeout_s, sim_dut)
    try:
        if volts is not None:
            supply.power_up(rails, volts, current_limit)
        reading = supply.measure(rails, points)
        off = [rail for rail in rails if not supply.output_on(rail)]
    finally:
        supply.close()
    if as_json:
        click.echo(json.dumps({**reading.to_dict(), "rails_off": off}, indent=2))
    else:
        for rail in reading.channels:
            state = "  (output off)" if rail.channel in off else ""
            click.echo(f"rail {rail.channel}: {rail.volts:.4f} V  {rail.amps:.4f} A  {rail.watts:.4f} W{state}")
        click.echo(f"total: {reading.total_w:.4f} W")
    if off:
        click.echo(f"accbench: warning: rail(s) {', '.join(map(str, off))} switched off, so they read 0 W: "
                   "give --volts (and --current-limit) to switch them on first", err=True)
