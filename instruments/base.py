"""Common base of the drivers: IEEE 488.2, error queue, timeouts, recovery, exchange log.

Properties are declared, not coded (PyMeasure style): ``control`` names the SCPI get/set strings,
the validator and the value map; ``measurement`` names a query. Every configuration write is
followed by draining ``SYST:ERR?``; any entry raises ``InstrumentError`` with code and text.
A dropped connection is recovered by a bounded policy: close, reopen, re-apply the settings
written so far, then repeat. Outside a measurement step the one operation is repeated (a setting
or a single query is idempotent); inside a step (``run_step``: configure, trigger, wait, fetch)
the whole step starts again, so a recovered link never yields data of a sweep or gate that was
not run after the reconnect.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accbench.capabilities import capability_for
from accbench.errors import ConnectionLost, InputError, InstrumentError, InstrumentTimeout

VI_ERROR_TMO = -1073807339
VI_ERROR_CONN_LOST = -1073807194
VI_ERROR_IO = -1073807298


@dataclass(frozen=True)
class Identity:
    """``*IDN?`` parsed: maker, model, serial number, firmware."""

    maker: str
    model: str
    serial: str
    firmware: str

    @classmethod
    def parse(cls, idn: str) -> Identity:
        parts = [p.strip() for p in idn.strip().split(",")]
        if len(parts) < 2 or not parts[1]:
            raise InstrumentError(f"*IDN? answered {idn.strip()!r}, not 'maker,model,serial,firmware'")
        parts += [""] * (4 - len(parts))
        return cls(parts[0], parts[1], parts[2], ",".join(parts[3:]).strip(","))

    def to_dict(self) -> dict:
        return {"maker": self.maker, "model": self.model, "serial": self.serial, "firmware": self.firmware}


@dataclass(frozen=True)
class ReconnectPolicy:
    """How often to reopen a dropped connection before giving up."""

    attempts: int = 2
    pause_s: float = 0.2


@dataclass
class Exchange:
    """One logged SCPI exchange: time, direction ('>' sent, '<' received) and text or block size."""

    time_s: float
    direction: str
    text: str


class _RestartStep(Exception):
    """Internal: the link was recovered inside a measurement step, which must start again."""


class control:  # noqa: N801 - lower-case like PyMeasure's Instrument.control
    """A settable, queryable instrument property declared by its SCPI strings.

    ``get_cmd``/``set_cmd`` are format strings over the instrument's attributes (e.g. ``{ch}``)
    and, for set, ``{value}``; ``validator(value)`` returns the value or raises InputError;
    ``values`` maps user values to SCPI tokens.
    """

    def __init__(self, get_cmd: str | None, set_cmd: str, doc: str, validator: Callable | None = None,
                 values: dict | None = None, cast: Callable = float):
        self.get_cmd, self.set_cmd, self.__doc__ = get_cmd, set_cmd, doc
        self.validator, self.values, self.cast = validator, values, cast
        self.name = ""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, inst, owner=None):
        if inst is None:
            return self
        if self.get_cmd is None:
            raise AttributeError(f"{self.name} cannot be queried")
        reply = inst.ask(self.get_cmd.format(**inst.scpi_context))
        if self.values:
            inverse = {str(v).upper(): k for k, v in self.values.items()}
            return inverse.get(reply.strip().upper(), reply.strip())
        return self.cast(reply)

    def __set__(self, inst, value) -> None:
        if self.validator is not None:
            value = self.validator(value)
        if self.values is not None:
            if value not in self.values:
                raise InputError(f"{self.name} = {value!r}: use one of {', '.join(map(str, self.values))}")
            value = self.values[value]
        inst.configure(self.set_cmd.format(value=value, **inst.scpi_context), key=self.name)


class measurement:  # noqa: N801
    """A read-only instrument property declared by its SCPI query."""

    def __init__(self, get_cmd: str, doc: str, cast: Callable = float):
        self.get_cmd, self.__doc__, self.cast = get_cmd, doc, cast

    def __get__(self, inst, owner=None):
        if inst is None:
            return self
        return self.cast(inst.ask(self.get_cmd.format(**inst.scpi_context)))


def in_range(low: float, high: float, what: str, unit: str = "") -> Callable[[float], float]:
    """Validator: a number within [low, high]."""

    def check(value: float) -> float:
        value = float(value)
        if not low <= value <= high:
            raise InputError(f"{what} {value:g}{unit} is out of range; use {low:g}..{high:g}{unit}")
        return value

    return check


class Instrument:
    """A SCPI instrument behind any pyvisa-like resource (write, read, query, query_binary_values)."""

    DIALECT = "generic"
    MODELS: tuple[str, ...] = ()  # regular expressions matched against the *IDN? model field
    KIND = "instrument"

    def __init__(self, resource, identity: Identity | None = None, opener: Callable[[], Any] | None = None,
                 log: bool = False, reconnect: ReconnectPolicy | None = None, timeout_s: float = 10.0):
        self.resource = resource
        self.opener = opener
        self.reconnect = reconnect or ReconnectPolicy()
        self.timeout_s = timeout_s
        self.log: list[Exchange] | None = [] if log else None
        self._settings: dict[str, str] = {}
        self._set_timeout(timeout_s)
        self._identity = identity
        self._step: str | None = None

    # --- context used by the declarative properties
    @property
    def scpi_context(self) -> dict:
        return {"ch": getattr(self, "channel", 1)}

    # --- transport with error mapping and recovery
    def _record(self, direction: str, text: str) -> None:
        if self.log is not None:
            self.log.append(Exchange(time.time(), direction, text))

    def _set_timeout(self, seconds: float) -> None:
        if hasattr(self.resource, "timeout"):
            self.resource.timeout = int(seconds * 1000)

    def _translate(self, exc: Exception, operation: str) -> Exception:
        code = getattr(exc, "error_code", None)
        if code == VI_ERROR_TMO or isinstance(exc, TimeoutError):
            return InstrumentTimeout(f"{self.DIALECT}: '{operation}' timed out after {self.timeout_s:g} s; "
                                     "check the instrument and the timeout")
        if code in (VI_ERROR_CONN_LOST, VI_ERROR_IO) or isinstance(exc, (ConnectionError, OSError, EOFError)):
            return ConnectionLost(f"{self.DIALECT}: connection lost during '{operation}'; check the link")
        return InstrumentError(f"{self.DIALECT}: '{operation}' failed: {exc}")

    def _call(self, operation: str, func: Callable[[], Any], recover_timeout: bool = True) -> Any:
        """Run one transport operation, mapping errors; recover a lost link within the policy.

        A peer that vanished often shows as a timeout rather than a reset, so a timeout of a
        short exchange is also recovered (reopen, re-apply); a long wait (``*OPC?``) is not,
        because the instrument may simply still be busy. Inside a measurement step the
        recovered step restarts (``run_step``); outside one the operation is repeated.
        """
        attempts = 0
        while True:
            try:
                return func()
            except (InstrumentError, InputError):
                raise
            except Exception as exc:  # pyvisa, socket and OS errors are mapped to typed ones
                error = self._translate(exc, operation)
                recoverable = isinstance(error, ConnectionLost) or (
                    recover_timeout and isinstance(error, InstrumentTimeout))
                if not recoverable or self.opener is None or attempts >= self.reconnect.attempts:
                    raise error from exc
                attempts += 1
                self._reopen()
                if self._step is not None:
                    raise _RestartStep(f"{error}") from exc

    def run_step(self, name: str, body: Callable[[], Any]) -> Any:
        """Run a whole measurement step (configure, trigger, wait, fetch) as one unit.

        When the link drops and is recovered anywhere inside it, the step runs again from its
        first command (bounded by the reconnect policy): a sweep or gate is repeated, never only
        its last query. Steps do not nest: an inner step is part of the outer one. A step ends with
        an error-queue check, so an error its last queries caused is its own, not the next step's.
        """
        if self._step is not None:
            return body()
        for _ in range(self.reconnect.attempts + 1):
            self._step = name
            try:
                result = body()
                self.check_errors(name)
                return result
            except _RestartStep as restart:
                last = restart
                self._record("!", f"link recovered during '{name}': the step starts again")
            finally:
                self._step = None
        raise ConnectionLost(f"{self.DIALECT}: connection lost during '{name}' {self.reconnect.attempts + 1} times "
                             f"({last}); check the link")

    def _reopen(self) -> None:
        """Close, reopen, and re-apply every setting written so far (in order)."""
        try:
            self.resource.close()
        except Exception:
            pass
        time.sleep(self.reconnect.pause_s)
        try:
            self.resource = self.opener()
        except Exception as exc:
            raise ConnectionLost(f"{self.DIALECT}: could not reopen the connection: {exc}") from exc
        self._set_timeout(self.timeout_s)
        for command in list(self._settings.values()):
            self._record(">", command)
            self.resource.write(command)

    def write(self, command: str) -> None:
        self._record(">", command)
        self._call(command, lambda: self.resource.write(command))

    def ask(self, command: str) -> str:
        self._record(">", command)
        reply = self._call(command, lambda: self.resource.query(command))
        self._record("<", reply.strip())
        return reply.strip()

    def ask_binary(self, command: str, expected: int | None = None) -> np.ndarray:
        """REAL,64 little-endian definite-length block; a short block is an error, never returned."""
        self._record(">", command)
        values = self._call(command, lambda: self.resource.query_binary_values(
            command, datatype="d", is_big_endian=False, container=np.array))
        self._record("<", f"<block {values.size * 8} bytes>")
        if expected is not None and values.size != expected:
            raise InstrumentError(f"{self.DIALECT}: '{command}' returned {values.size} values, expected "
                                  f"{expected}: the block is truncated")
        return values

    # --- IEEE 488.2 and the error queue
    @property
    def capability(self):
        """This model's entry in the capability table (``accbench.capabilities``), or None when unknown."""
        return capability_for(self.KIND, self.identity.model)

    def prepare(self) -> None:
        """Read or set up, once per session, what later steps rely on (called by ``open_instrument``).

        So a measurement sends the same messages whatever was measured before it on this session.
        """

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = Identity.parse(self.ask("*IDN?"))
        return self._identity

    def errors(self) -> list[tuple[int, str]]:
        """Drain ``SYST:ERR?``: all (code, text) entries until code 0 (at most 64)."""
        found = []
        for _ in range(64):
            reply = self.ask("SYST:ERR?")
            match = re.match(r"\s*([+-]?\d+)\s*,\s*\"?(.*?)\"?\s*$", reply)
            if not match:
                raise InstrumentError(f"{self.DIALECT}: SYST:ERR? answered {reply!r}")
            code = int(match.group(1))
            if code == 0:
                return found
            found.append((code, match.group(2)))
        return found

    def check_errors(self, after: str = "") -> None:
        """Raise InstrumentError for the first queued error (all of them in the message)."""
        found = self.errors()
        if found:
            listed = "; ".join(f"{c}, \"{t}\"" for c, t in found)
            where = f" after '{after}'" if after else ""
            raise InstrumentError(f"{self.DIALECT} reported {listed}{where}")

    def configure(self, command: str, key: str | None = None) -> None:
        """Write a setting and drain the error queue. Outside a measurement step the setting is
        remembered and re-applied after a reconnect; inside one the restarted step sets it again."""
        self.write(command)
        self.check_errors(command)
        if self._step is None:
            self._settings[key or command.split()[0]] = command

    def wait_opc(self, timeout_s: float, operation: str) -> None:
        """``*OPC?`` with a timeout sized for the operation, not a global one."""
        previous = self.timeout_s
        self.timeout_s = timeout_s
        self._set_timeout(timeout_s)
        try:
            reply = self._call(operation, lambda: self.resource.query("*OPC?"), recover_timeout=False)
        finally:
            self.timeout_s = previous
            self._set_timeout(previous)
        self._record("<", reply.strip())
        if reply.strip() not in ("1", "+1"):
            raise InstrumentError(f"{self.DIALECT}: *OPC? answered {reply.strip()!r} after {operation}")

    def reset(self) -> None:
        """``*RST`` and ``*CLS``; forgets the remembered settings."""
        self.write("*RST")
        self.write("*CLS")
        self._settings.clear()

    def close(self) -> None:
        try:
            self.resource.close()
        except Exception:
            pass


@dataclass
class MeasurementInfo:
    """Where a result came from: identity, settings and time, for the record."""

    identity: Identity
    settings: dict = field(default_factory=dict)
    timestamp: float = field(default_factory=time.time)
