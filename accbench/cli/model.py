"""Commands over the physics and link models: ``synth`` (twinax S-parameters), ``link`` (BER), ``reach`` (length).

Each parses its flags, hands them to the library builders (``spec_from_wire``, ``build_link``) and
prints the result; the builders do the checking, and ``option_names`` turns their parameter names
back into these flags.
"""

from __future__ import annotations

import json
from typing import Any

import click

from accbench.cli.options import (
    ANALYZE_FLAGS,
    LINK_FLAGS,
    TWINAX_FLAGS,
    link_arguments,
    link_options,
    option_names,
    twinax_options,
    wire_arguments,
)
from accbench.cli.params import OutputFile, count, quantity
from accbench.errors import InputError


def _wire_or_none(wire: dict[str, Any]) -> dict[str, Any] | None:
    """The wire arguments when the user gave a wire (--awg or --diameter-mm), else None (another channel)."""
    return wire if wire["awg"] is not None or wire["diameter_m"] is not None else None


@click.command()
@twinax_options
@click.option("--length-m", type=quantity("m", 0, 100, open_low=True), default=3.0, show_default=True,
              help="Cable length in m.")
@click.option("--fmax", default="60G", show_default=True, type=quantity("Hz", 0, open_low=True), help="Top frequency.")
@click.option("--fstep", default="10M", show_default=True, type=quantity("Hz", 0, open_low=True),
              help="Frequency step.")
@click.option("-o", "--output", type=OutputFile(), required=True,
              help="Touchstone file to write (.s4p).")
@click.option("--json", "as_json", is_flag=True, help="Print the model parameters and IL as JSON.")
def synth(length_m: float, fmax: float, fstep: float, output: str, as_json: bool, **kw: Any) -> None:
    """Write the S-parameters of a twinax pair synthesized from its wire (physics model)."""
    from accbench.dsp.touchstone import write_touchstone
    from accbench.dsp.twinax import differential_loss_db, spec_from_wire, twinax_comments, twinax_network

    with option_names(TWINAX_FLAGS):
        spec = spec_from_wire(length_m=length_m, f_max_hz=fmax, f_step_hz=fstep, **wire_arguments(kw))
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


def _ctle_setting(text: str) -> tuple[float, float] | None:
    """``--ctle auto`` -> None (searched), ``-6`` -> (-6, 0), ``-6,-2`` -> (-6, -2) in dB."""
    if text.strip().lower() == "auto":
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise InputError(f"--ctle {text!r}: give auto, gDC or gDC,gDC2 in dB") from exc
    if len(values) > 2:
        raise InputError(f"--ctle {text!r}: give auto, gDC or gDC,gDC2 in dB (two values at most)")
    return values[0], values[1] if len(values) > 1 else 0.0


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--ideal", is_flag=True, help="Ideal link: lossless, no filters, noise only from --noise-rms.")
@twinax_options
@link_options
@click.option("--length-m", type=quantity("m", 0, 100, open_low=True), default=None,
              help="Cable length in m (scales FILE; sets the wire).")
@click.option("--mode", type=click.Choice(["stat", "time", "time-os"]), default="stat", show_default=True,
              help="stat; time (symbol-spaced numba); time-os (32 samples/UI, jitter moves the sampling).")
@click.option("--symbols", type=count(1), default=1_000_000, show_default=True, help="Symbols in time mode.")
@click.option("--pattern", default="random", show_default=True,
              help="random, PRBS7/9/13/15/23/31, PRBS13Q, PRBS31Q, SSPRQ (with --pattern-file).")
@click.option("--pattern-file", type=click.Path(dir_okay=False), default=None, help="Symbol table (SSPRQ).")
@click.option("--seed", type=count(0, 2**63 - 1), default=1, show_default=True, help="Seed of the random streams.")
@click.option("--noise-rms", type=quantity("", 0, 10), default=None,
              help="Gaussian noise rms at the slicer (peak level 1); replaces the noise model.")
@click.option("--ctle", default="auto", show_default=True, help="auto, or a fixed gDC (dB) or gDC,gDC2.")
@click.option("--eye", "eye_path", type=OutputFile(), default=None, help="Eye diagram PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def link(file: str | None, ideal: bool, length_m: float | None, mode: str, symbols: int, pattern: str,
         pattern_file: str | None, seed: int, noise_rms: float | None, ctle: str, eye_path: str | None,
         as_json: bool, **kw: Any) -> None:
    """BER of the PAM4 link over a cable, with the optimised linear equaliser."""
    from accbench.dsp.linksetup import build_link

    if mode == "stat" and click.get_current_context().get_parameter_source("symbols") \
            is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--symbols counts the symbols of the time modes; the stat mode computes the BER "
                               "without simulating symbols: leave it out, or give --mode time")

    with option_names(LINK_FLAGS):
        setup = build_link(file, wire=_wire_or_none(wire_arguments(kw)), ideal=ideal, length_m=length_m,
                           **link_arguments(kw))
    setting = _ctle_setting(ctle)
    with option_names({**ANALYZE_FLAGS, **LINK_FLAGS}):
        result = setup.simulate(mode=mode, n_symbols=symbols, noise_rms=noise_rms, ctle_setting=setting,
                                pattern=pattern, pattern_file=pattern_file, seed=seed, eye_path=eye_path)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        from accbench.cli.report import print_link

        print_link(result)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@twinax_options
@link_options
@click.option("--required-m", type=quantity("m", 0, 100, open_low=True), default=3.0, show_default=True,
              help="Required reach in m.")
@click.option("--stretch-m", type=quantity("m", 0, 100, open_low=True), default=5.0, show_default=True,
              help="Stretch-goal reach in m.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def reach(file: str | None, required_m: float, stretch_m: float, as_json: bool, **kw: Any) -> None:
    """Longest cable length that closes the link at the target BER, and the power gate."""
    from accbench.dsp.linksetup import build_link

    with option_names({**LINK_FLAGS, "length_m": "--required-m"}):
        setup = build_link(file, wire=_wire_or_none(wire_arguments(kw)), length_m=required_m,
                           **link_arguments(kw))
    result = setup.reach(required_m, stretch_m)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=float))
    else:
        from accbench.cli.report import print_reach

        print_reach(result)
