"""Commands that read measured S-parameters: ``analyze`` (loss figures, masks, crosstalk) and ``com`` (IEEE COM/ERL)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accbench.cli.options import ANALYZE_FLAGS, option_names
from accbench.cli.params import OutputFile, quantity
from accbench.errors import InputError


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--baud", default="53.125G", show_default=True, type=quantity("Bd", 0, open_low=True),
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
@click.option("--fit-fmin", default="50M", show_default=True, type=quantity("Hz", 0),
              help="Start of the IL fit band.")
@click.option("--fit-fmax", default=None, type=quantity("Hz", 0, open_low=True),
              help="End of the IL fit band [default: baud, capped at the usable band].")
@click.option("--allow-nonpassive", is_flag=True, help="Analyse clearly non-passive data anyway.")
@click.option("--plot", "plot_path", type=OutputFile(), default=None,
              help="Draw IL, fitted IL, ILD and RL (with the mask) to this PNG.")
@click.option("--crosstalk", type=click.Choice(["next", "fext"]), default=None,
              help="FILE is a NEXT or FEXT file: report its coupling and ICN on its own.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def analyze(file: Path, baud: float, thru: str, ports: str | None, deembed: str | None,
            mask: str | None, next_files: tuple[str, ...], fext_files: tuple[str, ...],
            fit_fmin: float, fit_fmax: float | None, allow_nonpassive: bool,
            plot_path: str | None, crosstalk: str | None, as_json: bool) -> None:
    """Loss figures of a Touchstone channel at the Nyquist frequency of BAUD."""
    from accbench.dsp.analysis import AnalysisOptions, analyze_file

    if crosstalk:
        _crosstalk_alone(file, crosstalk, baud, thru, as_json,
                         {"--ports": ports, "--deembed": deembed, "--mask": mask, "--next": next_files,
                          "--fext": fext_files, "--plot": plot_path, "--allow-nonpassive": allow_nonpassive})
        return
    with option_names(ANALYZE_FLAGS):
        options = AnalysisOptions(
            baud=baud, thru=thru, ports=_parse_ports(ports), deembed=deembed, mask=mask,
            next_files=next_files, fext_files=fext_files, fit_f_min_hz=fit_fmin,
            fit_f_max_hz=fit_fmax, allow_nonpassive=allow_nonpassive,
        )
        result = analyze_file(file, options)
    if plot_path:
        from accbench.dsp.plot import plot_analysis

        plot_analysis(result, plot_path, mask)
    from accbench.cli.report import print_analysis

    _emit(result, as_json, print_analysis)


def _crosstalk_alone(file: Path, kind: str, baud: float, thru: str, as_json: bool, unused: dict) -> None:
    """``analyze --crosstalk``: one NEXT/FEXT file on its own (the options of a thru do not apply)."""
    from accbench.dsp.aggressor import analyze_crosstalk_file

    given = [flag for flag, value in unused.items() if value]
    if given:
        raise click.UsageError(f"{', '.join(given)}: for a thru, not for a crosstalk file analysed alone "
                               "(--crosstalk); leave it out, or analyse the thru with --next/--fext")
    with option_names(ANALYZE_FLAGS):
        result = analyze_crosstalk_file(file, kind, baud, thru)
    from accbench.cli.report import print_crosstalk

    _emit(result, as_json, print_crosstalk)


def _emit(result, as_json: bool, print_table) -> None:
    """One JSON object or the table on stdout, then the result's warnings on stderr."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        print_table(result)
    for warning in result.warnings:
        click.echo(f"accbench: warning: {warning}", err=True)


@click.command()
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
    from accbench.dsp.com import compute_com

    with option_names(ANALYZE_FLAGS):
        result = compute_com(file, next_files, fext_files, clause=clause, tx_ffe=tx_ffe == "search",
                             host_class=host_class, mode=mode, thru_map=thru)
    from accbench.cli.report import print_com

    _emit(result, as_json, print_com)


def _parse_ports(text: str | None) -> tuple[int, ...] | None:
    """``--ports 1,2,3,4`` -> (1, 2, 3, 4), the four ports of one pair in a larger file."""
    if not text:
        return None
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError as exc:
        raise InputError(f"--ports {text!r}: give four port numbers, e.g. --ports 1,2,3,4") from exc
