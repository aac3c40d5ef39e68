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
from accbench.errors import AccbenchError, InputError
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
@click.option("--mask", default=None, help="IL mask: ieee802.3ck-ca, or a CSV of frequency,max_il_db.")
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


def _parse_ports(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError as exc:
        raise InputError(f"--ports {text!r}: give four port numbers, e.g. --ports 1,2,3,4") from exc


@cli.command()
@click.option("--awg", type=float, default=None, help="Wire gauge (AWG) [default: 26].")
@click.option("--diameter-mm", type=float, default=None, help="Wire diameter in mm (instead of --awg).")
@click.option("--length-m", type=float, default=3.0, show_default=True, help="Cable length in m.")
@click.option("--grade", default="Cu-ETP", show_default=True, help="Copper: Cu-ETP (CW004A) or Cu-OFC (CW008A).")
@click.option("--temper", default="annealed", show_default=True, help="annealed or hard-drawn.")
@click.option("--iacs", type=float, default=None, help="Conductivity in %IACS (overrides grade).")
@click.option("--rq-um", type=float, default=0.0, show_default=True, help="Surface roughness Rq in um.")
@click.option("--roughness-model", default="hammerstad", show_default=True,
              help="none, hammerstad, groiss or gradient (scikit-rf).")
@click.option("--dielectric", default="foamed-pe", show_default=True,
              help="foamed-pe, solid-pe, fep or foamed-fep.")
@click.option("--eps-r", type=float, default=None, help="Relative permittivity at 10 GHz (overrides).")
@click.option("--tan-delta", type=float, default=None, help="Loss tangent at 10 GHz (overrides).")
@click.option("--zdiff", type=float, default=100.0, show_default=True, help="Pair impedance in ohm.")
@click.option("--zcomm", type=float, default=30.0, show_default=True, help="Common-mode impedance in ohm.")
@click.option("--skew-ps-per-m", type=float, default=0.0, show_default=True, help="P/N skew in ps/m.")
@click.option("--carbon-mg-m2", type=float, default=0.0, show_default=True, help="Surface carbon in mg/m^2.")
@click.option("--carbon-model", default="roughening", show_default=True,
              help="Carbon hypothesis: roughening, shell or none.")
@click.option("--carbon-threshold", type=float, default=50.0, show_default=True,
              help="Carbon (mg/m^2) below which it has no effect.")
@click.option("--fmax", default="60G", show_default=True, callback=_si("Hz", "fmax"), help="Top frequency.")
@click.option("--fstep", default="10M", show_default=True, callback=_si("Hz", "fstep"), help="Frequency step.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Touchstone file to write (.s4p).")
@click.option("--json", "as_json", is_flag=True, help="Print the model parameters and IL as JSON.")
def synth(awg, diameter_mm, length_m, grade, temper, iacs, rq_um, roughness_model, dielectric,
          eps_r, tan_delta, zdiff, zcomm, skew_ps_per_m, carbon_mg_m2, carbon_model,
          carbon_threshold, fmax, fstep, output, as_json) -> None:
    """Write the S-parameters of a twinax pair synthesized from its wire (physics model)."""
    from dsp.carbon import CarbonHypothesis
    from dsp.touchstone import write_touchstone
    from dsp.twinax import TwinaxSpec, differential_loss_db, twinax_comments, twinax_network

    if awg is not None and diameter_mm is not None:
        raise InputError("give either --awg or --diameter-mm, not both")
    spec = TwinaxSpec(
        length_m=length_m, awg=awg if diameter_mm is None else None,
        diameter_m=diameter_mm * 1e-3 if diameter_mm is not None else None,
        copper_grade=grade, temper=temper, conductivity_iacs_percent=iacs,
        roughness_rq_m=rq_um * 1e-6, roughness_model=roughness_model, dielectric=dielectric,
        eps_r=eps_r, tan_delta=tan_delta, diff_impedance_ohm=zdiff, common_impedance_ohm=zcomm,
        skew_s_per_m=skew_ps_per_m * 1e-12, carbon_mg_m2=carbon_mg_m2,
        carbon=CarbonHypothesis(mechanism=carbon_model, threshold_mg_m2=carbon_threshold),
        f_max_hz=fmax, f_step_hz=fstep,
    ) if (awg is not None or diameter_mm is not None) else None
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
    except AccbenchError as exc:
        click.echo(f"accbench: error: {exc}", err=True)
        return 2
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
