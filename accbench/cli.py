"""The ``accbench`` command line: a thin layer over the Python API of each package.

Every ``AccbenchError`` becomes one line on stderr and exit status 2; so do click's usage
errors. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from accbench import __version__
from accbench.errors import AccbenchError, InputError, RunInterrupted
from accbench.units import parse_si


def _si(unit: str, what: str):
    """click callback turning '106.25G' into 106.25e9."""

    def convert(_ctx, _param, value):
        if value is None:
            return None
        return parse_si(value, unit, what)

    return convert


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accbench")
def cli() -> None:
    """accbench: qualification bench for active copper cables (ACC)."""


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--baud", default="53.125G", show_default=True, callback=_si("Bd", "baud"),
              help="Symbol rate; Nyquist = baud/2. SI suffixes: 106.25G.")
@click.option("--thru", default="auto", show_default=True,
              help="Thru paths: auto, or P,N paths as 'a-b,c-d' (first port at end A).")
@click.option("--ports", default=None, help="Four 1-based ports of one pair in an 8-port file: 1,2,3,4.")
@click.option("--deembed", type=click.Path(dir_okay=False), default=None,
              help="2x-thru Touchstone of the fixtures (IEEE P370 de-embedding).")
@click.option("--mask", default=None,
              help="IL mask: 802.3ck-cr (alias ieee802.3ck-ca), or a CSV of frequency,max_il_db.")
@click.option("--next", "next_files", multiple=True, type=click.Path(dir_okay=False),
              help="NEXT aggressor Touchstone (repeatable).")
@click.option("--fext", "fext_files", multiple=True, type=click.Path(dir_okay=False),
              help="FEXT aggressor Touchstone (repeatable).")
@click.option("--fit-fmin", default="50M", show_default=True, callback=_si("Hz", "fit start"),
              help="Start of the IL fit band.")
@click.option("--fit-fmax", default=None, callback=_si("Hz", "fit end"),
              help="End of the IL fit band [default: baud, capped at the usable band].")
@click.option("--allow-nonpassive", is_flag=True, help="Analyse clearly non-passive data anyway.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Draw IL, fitted IL, ILD and RL (with the mask) to this PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def analyze(file: Path, baud: float, thru: str, ports: str | None, deembed: str | None,
            mask: str | None, next_files: tuple[str, ...], fext_files: tuple[str, ...],
            fit_fmin: float, fit_fmax: float | None, allow_nonpassive: bool,
            plot_path: str | None, as_json: bool) -> None:
    """Loss figures of a Touchstone channel at the Nyquist frequency of BAUD."""
    from dsp.analysis import AnalysisOptions, analyze_file

    options = AnalysisOptions(
        baud=baud, thru=thru, ports=_parse_ports(ports), deembed=deembed, mask=mask,
        next_files=next_files, fext_files=fext_files, fit_f_min_hz=fit_fmin,
        fit_f_max_hz=fit_fmax, allow_nonpassive=allow_nonpassive,
    )
    result = analyze_file(file, options)
    if plot_path:
        from dsp.plot import plot_analysis

        plot_analysis(result, plot_path, mask)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from accbench.report import print_analysis

        print_analysis(result)
    for warning in result.warnings:
        click.echo(f"accbench: warning: {warning}", err=True)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--clause", default="802.3dj-cr", show_default=True,
              help="Parameter table: 802.3dj-cr (200GBASE-CR1, Annex 178A) or 802.3ck-cr (100GBASE-CR1, Annex 93A).")
@click.option("--next", "next_files", multiple=True, type=click.Path(dir_okay=False),
              help="NEXT aggressor (4-port, same sweep as FILE); repeatable.")
@click.option("--fext", "fext_files", multiple=True, type=click.Path(dir_okay=False),
              help="FEXT aggressor (4-port, same sweep as FILE); repeatable.")
@click.option("--tx-ffe", type=click.Choice(["search", "off"]), default="search", show_default=True,
              help="Search the transmitter FFE as the clause defines, or keep it off (c(0) = 1).")
@click.option("--host-class", default=None,
              help="802.3dj host pair(s): HL, HL-HN, a cable class such as CA-B, or a comma list (default HL).")
@click.option("--search", "mode", type=click.Choice(["smart", "exhaustive"]), default="smart", show_default=True,
              help="Equaliser search: smart (fast, checked against exhaustive) or exhaustive (every grid point).")
@click.option("--thru", default="auto", show_default=True, help="Port map of the 4-port files (see analyze).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def com(file: Path, clause: str, next_files: tuple[str, ...], fext_files: tuple[str, ...], tx_ffe: str,
        host_class: str | None, mode: str, thru: str, as_json: bool) -> None:
    """IEEE 802.3 COM and ERL of a cable assembly (FILE: its 4-port thru) against a clause's limits."""
    from dsp.com import compute_com

    result = compute_com(file, next_files, fext_files, clause=clause, tx_ffe=tx_ffe == "search",
                         host_class=host_class, mode=mode, thru_map=thru)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from accbench.report import print_com

        print_com(result)
    for warning in result.warnings:
        click.echo(f"accbench: warning: {warning}", err=True)


def _parse_ports(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError as exc:
        raise InputError(f"--ports {text!r}: give four port numbers, e.g. --ports 1,2,3,4") from exc


def twinax_options(func):
    """The wire and twinax options shared by synth, link and reach."""
    options = [
        click.option("--awg", type=float, default=None, help="Wire gauge (AWG)."),
        click.option("--diameter-mm", type=float, default=None, help="Wire diameter in mm (instead of --awg)."),
        click.option("--grade", default="Cu-ETP", show_default=True,
                     help="Copper: Cu-ETP (CW004A) or Cu-OFC (CW008A)."),
        click.option("--temper", default="annealed", show_default=True, help="annealed or hard-drawn."),
        click.option("--iacs", type=float, default=None, help="Conductivity in %IACS (overrides grade)."),
        click.option("--rq-um", type=float, default=0.0, show_default=True, help="Surface roughness Rq in um."),
        click.option("--roughness-model", default="hammerstad", show_default=True,
                     help="none, hammerstad, groiss or gradient (scikit-rf)."),
        click.option("--dielectric", default="foamed-pe", show_default=True,
                     help="foamed-pe, solid-pe, fep or foamed-fep."),
        click.option("--eps-r", type=float, default=None, help="Relative permittivity at 10 GHz (overrides)."),
        click.option("--tan-delta", type=float, default=None, help="Loss tangent at 10 GHz (overrides)."),
        click.option("--zdiff", type=float, default=100.0, show_default=True, help="Pair impedance in ohm."),
        click.option("--zcomm", type=float, default=30.0, show_default=True, help="Common-mode impedance in ohm."),
        click.option("--skew-ps-per-m", type=float, default=0.0, show_default=True, help="P/N skew in ps/m."),
        click.option("--carbon-mg-m2", type=float, default=0.0, show_default=True,
                     help="Surface carbon in mg/m^2."),
        click.option("--carbon-model", default="roughening", show_default=True,
                     help="Carbon hypothesis: roughening, shell or none."),
        click.option("--carbon-threshold", type=float, default=50.0, show_default=True,
                     help="Carbon (mg/m^2) below which it has no effect."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _twinax_spec(kw: dict, length_m: float, fmax: float = 60e9, fstep: float = 10e6):
    """TwinaxSpec from the shared options, or None when no wire was given."""
    from dsp.carbon import CarbonHypothesis
    from dsp.twinax import TwinaxSpec

    awg, diameter_mm = kw.pop("awg"), kw.pop("diameter_mm")
    if awg is not None and diameter_mm is not None:
        raise InputError("give either --awg or --diameter-mm, not both")
    if awg is None and diameter_mm is None:
        return None
    return TwinaxSpec(
        length_m=length_m, awg=awg if diameter_mm is None else None,
        diameter_m=diameter_mm * 1e-3 if diameter_mm is not None else None,
        copper_grade=kw.pop("grade"), temper=kw.pop("temper"), conductivity_iacs_percent=kw.pop("iacs"),
        roughness_rq_m=kw.pop("rq_um") * 1e-6, roughness_model=kw.pop("roughness_model"),
        dielectric=kw.pop("dielectric"), eps_r=kw.pop("eps_r"), tan_delta=kw.pop("tan_delta"),
        diff_impedance_ohm=kw.pop("zdiff"), common_impedance_ohm=kw.pop("zcomm"),
        skew_s_per_m=kw.pop("skew_ps_per_m") * 1e-12, carbon_mg_m2=kw.pop("carbon_mg_m2"),
        carbon=CarbonHypothesis(mechanism=kw.pop("carbon_model"), threshold_mg_m2=kw.pop("carbon_threshold")),
        f_max_hz=fmax, f_step_hz=fstep,
    )


@cli.command()
@twinax_options
@click.option("--length-m", type=float, default=3.0, show_default=True, help="Cable length in m.")
@click.option("--fmax", default="60G", show_default=True, callback=_si("Hz", "fmax"), help="Top frequency.")
@click.option("--fstep", default="10M", show_default=True, callback=_si("Hz", "fstep"), help="Frequency step.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Touchstone file to write (.s4p).")
@click.option("--json", "as_json", is_flag=True, help="Print the model parameters and IL as JSON.")
def synth(length_m, fmax, fstep, output, as_json, **kw) -> None:
    """Write the S-parameters of a twinax pair synthesized from its wire (physics model)."""
    from dsp.touchstone import write_touchstone
    from dsp.twinax import differential_loss_db, twinax_comments, twinax_network

    spec = _twinax_spec(kw, length_m, fmax, fstep)
    if spec is None:
        raise InputError("give the wire: --awg N or --diameter-mm D")
    network = twinax_network(spec)
    path = write_touchstone(network, output, comments=twinax_comments(spec))
    loss = {f"il_db_at_{g}ghz": differential_loss_db(network, g * 1e9) for g in (26.5625, 53.125)
            if g * 1e9 <= spec.f_max_hz}
    if as_json:
        click.echo(json.dumps({"file": str(path), "points": int(network.frequency.npoints),
                               "spec": spec.to_dict(), **loss}, indent=2))
    else:
        parts = ", ".join(f"{v:.2f} dB at {k[9:-3]} GHz" for k, v in loss.items())
        click.echo(f"wrote {path} ({network.frequency.npoints} points, thru 1-3,2-4): IL {parts}")


def link_options(func):
    """Options of the link model shared by link and reach."""
    options = [
        click.option("--baud", default="106.25G", show_default=True, callback=_si("Bd", "baud"),
                     help="Symbol rate (53.125G, 106.25G presets; 1-200 GBd)."),
        click.option("--target-ber", type=float, default=2.4e-4, show_default=True,
                     help="BER target (KP4 pre-FEC threshold by default)."),
        click.option("--ffe", default="2,5", show_default=True, help="FFE pre,post taps."),
        click.option("--ffe-method", default="mmse", show_default=True, help="mmse or zf."),
        click.option("--ffe-limit", type=float, default=None,
                     help="Limit |c_k/c_0| of every FFE tap but the main one."),
        click.option("--dfe", is_flag=True, help="Add a 1-tap DFE (for comparison; an ACC is linear)."),
        click.option("--host-loss-db", type=float, default=0.0, show_default=True,
                     help="Loss of each host channel (PCB) at Nyquist."),
        click.option("--end-loss-db", type=float, default=0.0, show_default=True,
                     help="Fixed loss of each cable end (paddle card) at Nyquist."),
        click.option("--host-tx-file", type=click.Path(dir_okay=False), default=None,
                     help="Touchstone of the host TX channel (replaces --host-loss-db on that side)."),
        click.option("--host-rx-file", type=click.Path(dir_okay=False), default=None,
                     help="Touchstone of the host RX channel (replaces --host-loss-db on that side)."),
        click.option("--tx-ffe", default="0,0,1,0", show_default=True,
                     help="TX FFE preset c(-2),c(-1),c(0),c(1) within the 802.3dj limits."),
        click.option("--measured-length-m", type=float, default=None,
                     help="Length of the cable in FILE (needed to scale it to other lengths)."),
        click.option("--thru", default="auto", show_default=True, help="Port map of FILE (see analyze)."),
        click.option("--next", "next_files", multiple=True, type=click.Path(dir_okay=False),
                     help="NEXT aggressor Touchstone (repeatable)."),
        click.option("--fext", "fext_files", multiple=True, type=click.Path(dir_okay=False),
                     help="FEXT aggressor Touchstone (repeatable)."),
        click.option("--max-power-w", type=float, default=5.0, show_default=True, help="Power gate limit (W)."),
        click.option("--lanes", type=int, default=4, show_default=True, help="Lanes per cable end."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _link_setup(file, ideal, kw, length_m):
    """(channel, config, crosstalk channels, power model) from the CLI options."""
    from dsp.channel import IdealChannel, MeasuredChannel, TwinaxChannel
    from dsp.linkconfig import LinkConfig
    from dsp.power import PowerModel
    from dsp.touchstone import read_touchstone

    pre, post = _parse_pair(kw.pop("ffe"), "--ffe")
    tx_ffe = _parse_floats(kw.pop("tx_ffe"), "--tx-ffe", 4)
    host_files = (kw.pop("host_tx_file"), kw.pop("host_rx_file"))
    cfg = LinkConfig(baud=kw.pop("baud"), target_ber=kw.pop("target_ber"), ffe_pre=pre, ffe_post=post,
                     ffe_method=kw.pop("ffe_method"), ffe_tap_limit=kw.pop("ffe_limit"), dfe_tap=kw.pop("dfe"),
                     host_tx_loss_db=kw["host_loss_db"], host_rx_loss_db=kw.pop("host_loss_db"),
                     end_loss_db=kw.pop("end_loss_db"), tx_ffe=tx_ffe,
                     extra={"host_tx_file": host_files[0], "host_rx_file": host_files[1]})
    power = PowerModel(lanes_per_end=kw.pop("lanes"), max_w=kw.pop("max_power_w"))
    thru, measured = kw.pop("thru"), kw.pop("measured_length_m")
    xt_files = kw.pop("next_files") + kw.pop("fext_files")
    spec = _twinax_spec(kw, length_m or 3.0)
    sources = sum(x is not None and x is not False for x in (file, spec, ideal or None))
    if sources != 1:
        raise InputError("give exactly one channel: a Touchstone FILE, a wire (--awg/--diameter-mm), or --ideal")
    hosts = tuple(None if h is None else MeasuredChannel.from_network(read_touchstone(h), name=str(h))
                  for h in host_files)
    if ideal:
        return IdealChannel(), cfg, (), power, (None, None)
    if spec is not None:
        return TwinaxChannel(spec), cfg, (), power, hosts
    channel = MeasuredChannel.from_network(read_touchstone(file), measured, thru, str(file))
    xt = tuple(MeasuredChannel.from_xt(read_touchstone(x), channel, str(x)) for x in xt_files)
    return channel, cfg, xt, power, hosts


def _parse_floats(text: str, option: str, count: int) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise InputError(f"{option} {text!r}: give {count} comma-separated numbers") from exc
    if len(values) != count:
        raise InputError(f"{option} {text!r}: give {count} comma-separated numbers")
    return values


def _parse_pair(text: str, option: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.split(","))
    except ValueError as exc:
        raise InputError(f"{option} {text!r}: give two integers, e.g. {option} 2,5") from exc
    return a, b


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--ideal", is_flag=True, help="Ideal link: lossless, no filters, noise only from --noise-rms.")
@twinax_options
@link_options
@click.option("--length-m", type=float, default=None, help="Cable length in m (scales FILE; sets the wire).")
@click.option("--mode", type=click.Choice(["stat", "time", "time-os"]), default="stat", show_default=True,
              help="stat; time (symbol-spaced numba); time-os (32 samples/UI, jitter moves the sampling).")
@click.option("--symbols", type=int, default=1_000_000, show_default=True, help="Symbols in time mode.")
@click.option("--pattern", default="random", show_default=True,
              help="random, PRBS7/9/13/15/23/31, PRBS13Q, PRBS31Q, SSPRQ (with --pattern-file).")
@click.option("--pattern-file", type=click.Path(dir_okay=False), default=None, help="Symbol table (SSPRQ).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the random streams.")
@click.option("--noise-rms", type=float, default=None,
              help="Gaussian noise rms at the slicer (peak level 1); replaces the noise model.")
@click.option("--ctle", default="auto", show_default=True, help="auto, or a fixed gDC (dB) or gDC,gDC2.")
@click.option("--eye", "eye_path", type=click.Path(dir_okay=False), default=None, help="Eye diagram PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def link(file, ideal, length_m, mode, symbols, pattern, pattern_file, seed, noise_rms, ctle, eye_path, as_json,
         **kw) -> None:
    """BER of the PAM4 link over a cable, with the optimised linear equaliser."""
    from dsp.link import simulate_link

    channel, cfg, xt, power, hosts = _link_setup(file, ideal, kw, length_m)
    setting = None
    if ctle.strip().lower() != "auto":
        try:
            values = [float(v) for v in ctle.split(",")]
        except ValueError as exc:
            raise InputError(f"--ctle {ctle!r}: give auto, gDC or gDC,gDC2 in dB") from exc
        setting = (values[0], values[1] if len(values) > 1 else 0.0)
    if noise_rms is not None and noise_rms < 0:
        raise InputError("--noise-rms must be >= 0")
    result = simulate_link(channel, cfg, length_m, mode, symbols, noise_rms, setting, pattern, pattern_file,
                           seed, xt, ideal, power, eye_path, host_channels=hosts)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        from accbench.report import print_link

        print_link(result)


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@twinax_options
@link_options
@click.option("--required-m", type=float, default=3.0, show_default=True, help="Required reach in m.")
@click.option("--stretch-m", type=float, default=5.0, show_default=True, help="Stretch-goal reach in m.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def reach(file, required_m, stretch_m, as_json, **kw) -> None:
    """Longest cable length that closes the link at the target BER, and the power gate."""
    from dsp.reach import find_reach

    channel, cfg, xt, power, hosts = _link_setup(file, False, kw, required_m)
    result = find_reach(channel, cfg, required_m, stretch_m, crosstalk_channels=xt, power=power,
                        host_channels=hosts)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        from accbench.report import print_reach

        print_reach(result)


def resource_options(func):
    """VISA resource, backend and dialect options of the bench commands."""
    options = [
        click.option("--resource", default=None,
                     help="VISA resource, e.g. TCPIP::192.168.0.10::hislip0::INSTR (default: the simulated bench)."),
        click.option("--backend", default="", help="pyvisa backend: '' (system VISA), '@py' (pyvisa-py), '@accsim' "
                                                   "(simulated bench; the default for its resources)."),
        click.option("--dialect", default=None, help="Force a dialect instead of choosing it from *IDN?."),
        click.option("--timeout-s", type=float, default=10.0, show_default=True, help="Default I/O timeout."),
        click.option("--sim-dut", default=None,
                     help="Simulated bench only: the connected cable, e.g. awg=26,length_m=3,carbon_mg_m2=80."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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
    from instruments import open_instrument
    from sim_instruments.visa import RESOURCES, is_simulated

    resource = resource or RESOURCES.get(kind or "vna")
    if is_simulated(resource):
        from sim_instruments.twin import SimBench, current_bench, parse_dut, set_bench

        backend = backend or "@accsim"
        if sim_dut:
            set_bench(SimBench([parse_dut(sim_dut)], seed=current_bench().seed))
        if kind == "bert" and not locations:
            locations = current_bench().bert_locations()
    elif sim_dut:
        raise InputError("--sim-dut applies to the simulated bench only; drop it or the --resource")
    return open_instrument(resource, backend, dialect, kind=kind, timeout_s=timeout_s, locations=locations)


@cli.command()
@resource_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def identify(resource, backend, dialect, timeout_s, sim_dut, as_json) -> None:
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
    from accbench.report import print_capabilities

    if "modules" in data:
        click.echo("modules: " + ", ".join(f"channel {ch} {m}" for ch, m in data["modules"].items()))
    print_capabilities(data["capabilities"])


@cli.group()
def measure() -> None:
    """One-off bench measurements with real (or simulated) instruments."""


@measure.command("sparams")
@resource_options
@click.option("--start", default="10M", show_default=True, callback=_si("Hz", "start"))
@click.option("--stop", default="50G", show_default=True, callback=_si("Hz", "stop"))
@click.option("--points", type=int, default=5001, show_default=True)
@click.option("--ifbw", default="1k", show_default=True, callback=_si("Hz", "IF bandwidth"))
@click.option("--power-dbm", type=float, default=None, help="Source power (dBm).")
@click.option("--averages", type=int, default=1, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Touchstone to write (.s4p).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def measure_sparams(resource, backend, dialect, timeout_s, sim_dut, start, stop, points, ifbw, power_dbm, averages,
                    output, as_json) -> None:
    """Sweep the 4-port S-parameters of a cable and write them as Touchstone."""
    from instruments.vna import SweepSettings

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
@click.option("--baud", default="53.125G", show_default=True, callback=_si("Bd", "baud"),
              help="Symbol rate, within the BERT's range (accbench identify lists it).")
@click.option("--pattern", default="PRBS13Q", show_default=True, help="PRBS7..31, PRBS13Q, PRBS31Q or SSPRQ.")
@click.option("--pattern-file", default=None, help="Pattern file on the instrument (SSPRQ).")
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Gate time (s).")
@click.option("--confidence", type=float, default=0.95, show_default=True, help="Confidence of the BER bound.")
@click.option("--no-gray", is_flag=True, help="Uncoded PAM4 mapping instead of Gray.")
@click.option("--sync-timeout-s", type=float, default=10.0, show_default=True,
              help="How long the error detector may take to synchronise.")
@click.option("--location", "locations", multiple=True,
              help="Where the generator/analyzer sit: analyzer=M2.DataIn (M8040A), ppg_module=7, ed_module=5 "
                   "(MP1900A); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def measure_ber(resource, backend, dialect, timeout_s, sim_dut, baud, pattern, pattern_file, seconds, confidence,
                no_gray, sync_timeout_s, locations, as_json) -> None:
    """Gated PAM4 error count: bits, errors, symbols, BER, SER and the BER's upper confidence bound."""
    from instruments.bert import BerSettings

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
@click.option("--volts", type=float, default=None, help="Set every rail to this voltage and switch it on first.")
@click.option("--current-limit", type=float, default=2.0, show_default=True, help="Current limit (A) with --volts.")
@click.option("--points", type=int, default=0, show_default=True, help="Average an array capture of N points.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def measure_power(resource, backend, dialect, timeout_s, sim_dut, channels, volts, current_limit, points,
                  as_json) -> None:
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
    finally:
        supply.close()
    if as_json:
        click.echo(json.dumps(reading.to_dict(), indent=2))
    else:
        for rail in reading.channels:
            click.echo(f"rail {rail.channel}: {rail.volts:.4f} V  {rail.amps:.4f} A  {rail.watts:.4f} W")
        click.echo(f"total: {reading.total_w:.4f} W")


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Run record (HDF5).")
@click.option("--bench", "bench_file", type=click.Path(dir_okay=False), default=None,
              help="Bench file (TOML) naming the real instruments; without it the simulated bench is used.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in OUTPUT, skipping finished cables.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the verdicts and lot summary.")
def qualify(plan_file, output, bench_file, resume, as_json) -> None:
    """Qualify the plan's cables: sweep, link model, BER per lane, power, gates, HDF5 record, lot summary."""
    from accbench.progress import RunProgress
    from accbench.runtables import print_run
    from bench.benchfile import load_bench
    from bench.plan import load_plan
    from bench.qualify import run_plan
    from bench.stations import InstrumentBench
    from bench.summary import qualify_json

    plan = load_plan(plan_file)
    config = load_bench(bench_file) if bench_file else None
    with RunProgress(plan, enabled=not as_json) as progress:
        bench = InstrumentBench(config, confirm=progress.confirm) if config else None
        try:
            run = run_plan(plan, output, bench=bench, resume=resume, progress=progress.update)
        except KeyboardInterrupt:
            raise RunInterrupted(f"interrupted; finished cables are in {output} (status interrupted); "
                                 f"continue with: accbench qualify {plan_file} -o {output} --resume") from None
        finally:
            if bench is not None:
                bench.close()
    if as_json:
        click.echo(json.dumps(qualify_json(run, str(output)), indent=2))
        return
    print_run(run)


@cli.command()
@click.argument("record", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(record, as_json) -> None:
    """Summary of a finished or interrupted run record."""
    from accbench.runtables import print_run
    from bench.record import read_run
    from bench.summary import qualify_json

    run = read_run(record)
    if as_json:
        click.echo(json.dumps(qualify_json(run, str(record)) | {"events": run["events"], "plan": run["plan"],
                                                                 "instruments": run["instruments"],
                                                                 "timing_s": run["timing_s"]}, indent=2))
        return
    print_run(run)


@cli.command()
@click.argument("record", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(file_okay=False), required=True,
              help="Folder for index.html and the PNG figures.")
def report(record, output) -> None:
    """Self-contained HTML report of a run (IL with mask, eye and bathtub, reach vs carbon, lots) plus PNGs."""
    from bench.htmlreport import write_report

    page = write_report(record, output)
    click.echo(f"report: {page}")


@cli.command("sim-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--base-port", type=int, default=5025, show_default=True,
              help="VNA port; the BERT listens on +1, the power analyzer on +2.")
@click.option("--dut", "duts", multiple=True,
              help="A simulated cable, e.g. serial=A1,awg=26,length_m=3,carbon_mg_m2=80 (repeat for several; "
                   "select with SIM:DUT '<serial>').")
@click.option("--faults", default="", help="Faults, e.g. vna.stall@3,bert.sync_loss,power.drop~0.05.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the noise, counts and faults.")
@click.option("--vna", "--vna-dialect", "vna_model", default="N5247B", show_default=True,
              help="Simulated VNA: N5247B, E5080B or ZNA67 (or a dialect: keysight-pna, rs-zna).")
@click.option("--bert", "--bert-dialect", "bert_model", default="M8040A", show_default=True,
              help="Simulated BERT: M8040A or MP1900A (or a dialect: keysight-m8040, anritsu-mp1900).")
def sim_server(host, base_port, duts, faults, seed, vna_model, bert_model) -> None:
    """Serve the simulated VNA, BERT and power analyzer as SCPI sockets until SIGINT/SIGTERM."""
    import signal
    import threading

    from sim_instruments.faults import FaultPlan
    from sim_instruments.server import SimServer
    from sim_instruments.twin import SimBench, parse_dut

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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, mapping user errors to one line and exit status 2."""
    try:
        result = cli.main(args=argv, prog_name="accbench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("accbench: aborted", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"accbench: error: {exc.format_message()}", err=True)
        return 2
    except RunInterrupted as exc:
        click.echo(f"accbench: {exc}", err=True)
        return 130
    except AccbenchError as exc:
        click.echo(f"accbench: error: {exc}", err=True)
        return 2
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
