"""One exception hierarchy for the whole tool.

The CLI maps every ``AccbenchError`` to exit status 2 and one line on stderr; any
other exception is a bug and may show a traceback.
"""

from __future__ import annotations


class AccbenchError(Exception):
    """Base of every error the user can fix; its message names the problem and the fix.

    ``fields`` name the library parameters the problem is about, so a front end (the CLI) can put
    its own option names in front of the library's message.
    """

    def __init__(self, message: str = "", *fields: str) -> None:
        super().__init__(message)
        self.fields: tuple[str, ...] = fields


class InputError(AccbenchError):
    """Bad user input: a file, an option or a configuration value."""


class FieldError(InputError):
    """Bad value of named parameters (always with ``fields``)."""


class TouchstoneError(InputError):
    """A Touchstone file that cannot be read or is not fit for analysis."""


class BandError(InputError):
    """A frequency band that does not cover what the analysis needs (e.g. Nyquist)."""


class InstrumentError(AccbenchError):
    """An instrument reported an error (SCPI error queue or a refused command)."""


class InstrumentTimeout(InstrumentError):
    """An instrument operation did not finish in time."""


class ConnectionLost(InstrumentError):
    """The connection to an instrument dropped and could not be recovered."""


class RunInterrupted(AccbenchError):
    """A run stopped by Ctrl-C after its current write; the record says so and ``--resume`` continues it."""
