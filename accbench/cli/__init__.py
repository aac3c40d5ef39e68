"""The ``accbench`` command line: a thin layer over the Python API of each package.

This module holds the click group, the entry point and the mapping of errors to exit codes;
the commands live in one module per job (analyze, model, instruments, run, sim) and their shared
options in ``options``. Every ``AccbenchError`` becomes one line on stderr and exit status 2; so
do click's usage errors. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click

from accbench import __version__
from accbench.cli import analyze, instruments, model, run, sim
from accbench.errors import AccbenchError, RunInterrupted


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accbench")
def cli() -> None:
    """accbench: qualification bench for active copper cables (ACC)."""


for _command in (analyze.analyze, analyze.com, model.synth, model.link, model.reach, instruments.identify,
                 instruments.measure, run.qualify, run.show, run.report, sim.sim_server):
    cli.add_command(_command)


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
