"""A scripted stand-in for a pyvisa resource: asserts the exact SCPI exchange (PyMeasure's
expected_protocol idea). Binary replies are real IEEE 488.2 blocks parsed by pyvisa itself.

With ``family`` (and ``model``) every command of the script must be one the instrument family's
dialect reference documents (``instruments/dialects``): the expected exchanges come from the
documents, so a script cannot silently agree with a driver on a command no document backs."""

from __future__ import annotations

import numpy as np
from pyvisa import util


def block(values, big_endian: bool = False) -> bytes:
    """An IEEE 488.2 definite-length block of float64 values."""
    return bytes(util.to_ieee_block(list(values), datatype="d", is_big_endian=big_endian))


class ScriptedResource:
    """Plays a script of (sent, reply) pairs; reply None for writes, str for queries, bytes for
    binary queries, an exception instance to raise."""

    def __init__(self, script, family: str | None = None, model: str | None = None):
        self.script = list(script)
        self.timeout = 2000
        self.closed = False
        if family is not None:
            from instruments.reference import load_reference

            reference = load_reference(family)
            for sent, _ in self.script:
                for verdict in reference.check_message(sent, model):
                    assert verdict.ok, f"scripted {sent!r} is not documented: {verdict.problem}"

    def _next(self, sent: str):
        assert self.script, f"unexpected command {sent!r}: the script is finished"
        expected, reply = self.script.pop(0)
        assert sent == expected, f"sent {sent!r}, expected {expected!r}"
        if isinstance(reply, Exception):
            raise reply
        return reply

    def write(self, command: str) -> None:
        reply = self._next(command)
        assert reply is None, f"{command!r} should have been a query"

    def query(self, command: str) -> str:
        reply = self._next(command)
        assert isinstance(reply, str), f"{command!r}: scripted reply is not text"
        return reply + "\n"

    def query_binary_values(self, command, datatype="f", is_big_endian=False, container=list, **_):
        reply = self._next(command)
        assert isinstance(reply, bytes), f"{command!r}: scripted reply is not a block"
        return util.from_ieee_block(reply, datatype=datatype, is_big_endian=is_big_endian, container=container)

    def close(self) -> None:
        self.closed = True

    def finished(self) -> bool:
        return not self.script


NO_ERROR = ("SYST:ERR?", '+0,"No error"')


def configured(command: str) -> list:
    """A configuration write followed by an empty error queue."""
    return [(command, None), NO_ERROR]


__all__ = ["NO_ERROR", "ScriptedResource", "block", "configured", "np"]
