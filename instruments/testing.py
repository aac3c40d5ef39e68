"""Scripted-protocol testing of SCPI drivers (PyMeasure's ``expected_protocol`` idea), shipped with the library.

A test states the exact exchange a driver must have with its instrument as a script of
``(sent, reply)`` pairs and runs the driver against a scripted stand-in for the pyvisa resource:
every command the driver sends must be the next one of the script, and at the end the whole
script must have been used. Binary replies are real IEEE 488.2 blocks parsed by pyvisa itself.

Script replies: ``None`` for a write, ``str`` for a query (the newline is added), ``bytes`` for a
binary query (build it with :func:`block`), or an exception instance to raise (e.g.
``pyvisa.errors.VisaIOError(VI_ERROR_TMO)``) to test error handling.

With ``family`` (and ``model``) every command of the script must also be one the instrument
family's dialect reference documents (``accbench/instruments/dialects/<family>.toml``), so a
script cannot silently agree with a driver on a command no document backs.

Usage, for a driver written outside this repository (any test runner; no pytest needed here)::

    from accbench.instruments.base import Instrument, measurement
    from accbench.instruments.testing import NO_ERROR, expected_protocol

    class MySupply(Instrument):
        DIALECT = "acme-ps"
        volts = measurement("MEAS:VOLT? (@{ch})", "Output voltage in V.")

        def set_volts(self, v: float) -> None:
            self.configure(f"VOLT {v:g}")      # writes, then drains SYST:ERR?

    def test_set_and_read():
        with expected_protocol(MySupply, [("VOLT 1.5", None), NO_ERROR,
                                          ("MEAS:VOLT? (@1)", "+1.50E+00")]) as supply:
            supply.set_volts(1.5)
            assert supply.volts == 1.5

A wrong command, an unexpected extra command or an unused script line fails with an
``AssertionError`` naming what was sent and what the script expected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from accbench.instruments.base import Instrument
from pyvisa import util

Reply = str | bytes | BaseException | None
Step = tuple[str, Reply]
InstrumentT = TypeVar("InstrumentT", bound=Instrument)

NO_ERROR: Step = ("SYST:ERR?", '+0,"No error"')
"""The error queue read empty: what ``Instrument.configure`` expects after each setting."""


def block(values: Iterable[float], big_endian: bool = False) -> bytes:
    """An IEEE 488.2 definite-length block of float64 values (a binary query's scripted reply)."""
    return bytes(util.to_ieee_block(list(values), datatype="d", is_big_endian=big_endian))


def configured(command: str) -> list[Step]:
    """A configuration write followed by an empty error queue (``Instrument.configure``)."""
    return [(command, None), NO_ERROR]


class ScriptedResource:
    """A pyvisa-like resource that plays a script of ``(sent, reply)`` pairs and asserts each exchange.

    ``family``/``model``: check up front that every scripted command is documented in that
    dialect reference (for that model). The first failed assertion is also kept in ``failure``,
    because a driver may translate the ``AssertionError`` into its own error type.
    """

    def __init__(self, script: Iterable[Step], family: str | None = None, model: str | None = None):
        self.script: list[Step] = list(script)
        self.used = 0
        self.timeout = 2000
        self.closed = False
        self.failure: AssertionError | None = None
        if family is not None:
            from accbench.instruments.reference import load_reference

            reference = load_reference(family)
            for sent, _ in self.script:
                for verdict in reference.check_message(sent, model):
                    if not verdict.ok:  # not an assert: python -O must not strip the check
                        raise AssertionError(f"scripted {sent!r} is not documented: {verdict.problem}")

    def _fail(self, message: str) -> AssertionError:
        error = AssertionError(message)
        if self.failure is None:
            self.failure = error
        return error

    def _next(self, sent: str) -> Reply:
        if not self.script:
            raise self._fail(f"unexpected command {sent!r}: the script is finished")
        expected, reply = self.script.pop(0)
        self.used += 1
        if sent != expected:
            raise self._fail(f"exchange {self.used}: sent {sent!r}, expected {expected!r}")
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def write(self, command: str) -> None:
        reply = self._next(command)
        if reply is not None:
            raise self._fail(f"{command!r} should have been a query")

    def query(self, command: str) -> str:
        reply = self._next(command)
        if not isinstance(reply, str):
            raise self._fail(f"{command!r}: scripted reply is not text")
        return reply + "\n"

    def query_binary_values(self, command: str, datatype: str = "f", is_big_endian: bool = False,
                            container: Callable = list, **_: Any) -> Any:
        reply = self._next(command)
        if not isinstance(reply, bytes):
            raise self._fail(f"{command!r}: scripted reply is not a block")
        return util.from_ieee_block(reply, datatype=datatype, is_big_endian=is_big_endian, container=container)

    def close(self) -> None:
        self.closed = True

    def finished(self) -> bool:
        """Has the whole script been used?"""
        return not self.script

    def assert_finished(self) -> None:
        """Raise AssertionError naming the first unused exchange, if any is left."""
        if self.script:
            sent, reply = self.script[0]
            raise AssertionError(f"script not finished: {len(self.script)} exchange(s) left, the first "
                                 f"(exchange {self.used + 1}) is {sent!r} -> {reply!r}")


@contextmanager
def expected_protocol(instrument_cls: type[InstrumentT], script: Iterable[Step], *, family: str | None = None,
                      model: str | None = None, **kwargs: Any) -> Iterator[InstrumentT]:
    """Build ``instrument_cls(ScriptedResource(script), **kwargs)``, yield it, and check the exchange.

    ``kwargs`` go to the driver (e.g. ``identity=Identity(...)`` so it skips ``*IDN?``). With
    ``family`` every scripted command must be documented in that dialect reference; ``model``
    defaults to the model of an ``identity`` keyword. On exit the whole script must be used. A
    mismatch the driver wrapped in its own error (``InstrumentError``) is raised as the
    ``AssertionError`` it was.
    """
    if family is not None and model is None and kwargs.get("identity") is not None:
        model = kwargs["identity"].model
    resource = ScriptedResource(script, family=family, model=model)
    instrument = instrument_cls(resource, **kwargs)
    try:
        yield instrument
    except BaseException as exc:
        if resource.failure is not None and exc is not resource.failure:
            raise resource.failure from exc
        raise
    if resource.failure is not None:  # the driver swallowed the mismatch
        raise resource.failure
    resource.assert_finished()


__all__ = ["NO_ERROR", "ScriptedResource", "block", "configured", "expected_protocol"]
