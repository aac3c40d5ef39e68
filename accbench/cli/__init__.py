"""The ``accbench`` command line: a thin layer over the Python API of each package.

This module holds the click group, the entry point and the mapping of errors to exit codes;
the commands live in one module per job (analyze, model, instruments, run, sim) and their shared
options in ``options``. Every ``AccbenchError`` becomes one line on stderr and exit status 2; so
do click's usage errors and running out of memory. Anything else is a bug in accbench: one line
and exit status 3, with the traceback only when ``ACCBENCH_DEBUG=1`` asks for it.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from accbench import __version__
from accbench.cli import analyze, db, instruments, model, run, sim, sweep, trend
from accbench.errors import AccbenchError, RunInterrupted


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accbench")
def cli() -> None:
    """accbench: qualification bench for active copper cables (ACC)."""


for _command in (analyze.analyze, analyze.com, model.synth, model.link, model.reach, instruments.identify,
                 instruments.measure, run.qualify, run.show, run.report, sim.sim_server, sweep.sweep,
                 db.db, trend.trend):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, mapping user errors to one line and exit status 2."""
    try:
        result = cli.main(args=argv, prog_name="accbench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("accbench: aborted", err=True)
        return 2
    except click.ClickException as exc:
        _error(exc.format_message())
        return 2
    except RunInterrupted as exc:
        click.echo(f"accbench: {one_line(str(exc))}", err=True)
        return 130
    except AccbenchError as exc:
        _error(str(exc))
        return 2
    except MemoryError:
        _error("not enough memory for this job: make it smaller (fewer points, symbols or cables) "
               "or run it on a machine with more memory")
        return 2
    except Exception as exc:  # the last line of defence: one line, never a wall of text
        if os.environ.get("ACCBENCH_DEBUG") == "1":
            traceback.print_exc()
        _error(f"internal error ({type(exc).__name__}): this is a bug in accbench; please report it with "
               "the command line (ACCBENCH_DEBUG=1 shows the traceback)")
        return 3
    return result if isinstance(result, int) else 0


MAX_MESSAGE_CHARS = 1000


def one_line(text: str) -> str:
    """``text`` on one line, bounded: a message must never spill a file or a wall of text onto the terminal."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE_CHARS else line[:MAX_MESSAGE_CHARS - 3] + "..."


def _error(message: str) -> None:
    click.echo(f"accbench: error: {one_line(message)}", err=True)


if __name__ == "__main__":
    sys.exit(main())
