"""What every simulated instrument shares: its SCPI engine, its static (pyvisa-sim YAML) answers,
the handling of one message with the bench's faults applied, and the framing of a byte stream
into program messages (``MessageReader``: linear time, bounded memory)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from accbench.sim.scpi import ScpiEngine, ScpiError

YAML_PATH = Path(__file__).with_name("bench.yaml")
RESOURCE_PREFIX = "TCPIP0::accbench-sim::"
MAX_MESSAGE_BYTES = 1 << 20  # longest program message accepted (1 MiB); longer ones get -223
IDENTITY_QUERY = "*IDN?"  # answered without waiting for the instrument's lock (identity is immutable)


@lru_cache(maxsize=4)
def static_devices(path: str = str(YAML_PATH)) -> dict:
    """pyvisa-sim devices of the YAML by device name (identity, dialogues, terminations)."""
    from pyvisa_sim import parser

    devices = parser.get_devices(path, False)
    return {devices[name].name: devices[name] for name in devices.list_resources()}


@dataclass
class Outcome:
    """What one message produces: reply bytes (no terminator), and whether the link drops or stalls."""

    reply: bytes | None
    drop: bool = False
    stall: bool = False


def truncated_block(reply: bytes) -> bytes:
    """A definite-length block cut to half its payload, its header rewritten to match."""
    if not reply.startswith(b"#"):
        return reply[: len(reply) // 2]
    digits = int(reply[1:2])
    payload = reply[2 + digits:]
    half = payload[: (len(payload) // 16) * 8]
    return f"#{len(str(len(half)))}{len(half)}".encode() + half


class MessageReader:
    """Splits a byte stream into ``\\n``-terminated program messages, in time linear in the bytes fed
    and in memory bounded by ``limit``.

    Each newline is searched for once (from where the last scan stopped). A message longer than
    ``limit`` bytes is reported once, as ``None``, as soon as it overflows, and the rest of it is
    discarded up to its terminator, as an instrument's input buffer does.
    """

    def __init__(self, limit: int = MAX_MESSAGE_BYTES):
        self.limit = int(limit)
        self._buffer = bytearray()  # the unterminated tail: never holds a newline between feeds
        self._discarding = False  # inside an over-long message, dropping bytes to its terminator

    def feed(self, chunk: bytes) -> list[bytes | None]:
        """The messages ``chunk`` completes (without terminator), ``None`` for each over-long one."""
        buffer = self._buffer
        scanned = len(buffer)
        buffer += chunk
        messages: list[bytes | None] = []
        start = 0
        while (end := buffer.find(b"\n", max(start, scanned))) >= 0:
            if self._discarding:
                self._discarding = False
            else:
                messages.append(bytes(buffer[start:end]) if end - start <= self.limit else None)
            start = end + 1
        del buffer[:start]
        if self._discarding or len(buffer) > self.limit:
            if not self._discarding:
                messages.append(None)
            self._discarding = True
            buffer.clear()
        return messages


class Stall(Exception):
    """Raised by a query handler whose answer never comes (the instrument waits for a trigger)."""


class SimInstrument:
    """Base of the simulated instruments: one SCPI engine answering from the bench's twin.

    ``model`` is the model field of the instrument's ``*IDN?`` (from ``bench.yaml``); its entry in
    ``accbench.capabilities`` sets the limits the simulated instrument enforces, as the real one does.
    """

    ROLE = ""
    DEVICE = ""  # device name in bench.yaml

    def __init__(self, bench):
        self.bench = bench
        self.lock = threading.RLock()  # this instrument's settings and engine: one message at a time
        self.identity = self._static(IDENTITY_QUERY)
        self.model = self._identity_model()
        self.engine = ScpiEngine(static=self._static)
        self.engine.add("*RST", setter=lambda p, s: self.reset())
        self.engine.add("SIMulation:DUT", setter=lambda p, s: self._select(p),
                        query=lambda p, s: f'"{bench.selected}",{bench.lane}')
        self.register()
        self.reset()

    def _identity_model(self) -> str:
        idn = self.identity or ""
        parts = idn.split(",")
        return parts[1].strip() if len(parts) > 1 else ""

    def _select(self, params: list[str]) -> None:
        from accbench.sim.scpi import number, unquote

        from accbench.errors import InputError

        try:
            lane = int(number(params[1])) if len(params) > 1 else 1
            self.bench.select(unquote(params[0]) if params else "", lane)
        except InputError as exc:
            raise ScpiError(-224, str(exc)) from exc

    def _static(self, unit: str) -> str | None:
        device = static_devices().get(self.DEVICE)
        if device is None:
            return None
        answer = device._match(unit.strip().encode())
        if answer is None:
            return None
        return answer.decode() if isinstance(answer, bytes) else ""

    def register(self) -> None:
        """Add the dialect's commands to ``self.engine``."""

    def reset(self) -> None:
        """Back to the power-on settings (``*RST``, or a reboot)."""
        self.engine.reset_format()

    def before_message(self) -> None:
        """Called before each program message (a personality may snapshot state for message-level rules)."""

    def after_message(self) -> None:
        """Called after each program message; may raise ScpiError to refuse what the message did as a whole."""

    def _fault_for(self, message: str) -> str | None:
        """Count the message against the fault schedule and return the fault that fires on it, if
        any (under the bench's lock: the schedule is bench-wide)."""
        bench, faults = self.bench, self.bench.faults
        with bench.lock:
            faults.tick(self.ROLE)
            is_query = "?" in message
            kind = faults.fire(self.ROLE, ("reboot", "error", "sync_loss", "overcurrent")
                               + (("stall", "drop") if is_query else ()))
            if kind in ("sync_loss", "overcurrent"):
                bench.dut_faults.add((bench.selected, kind))
            return kind

    def queue_error(self, code: int, text: str | None = None) -> None:
        """Put an error in the instrument's queue from outside a message (the input side refusing one)."""
        with self.lock:
            self.engine.push_error(code, text)

    def handle(self, message: str) -> Outcome:
        """Execute one program message, with the fault plan applied, under this instrument's lock.

        A bare ``*IDN?`` with no fault firing is answered without the lock: the identity is fixed,
        so another client's ``*IDN?`` never waits behind a long sweep.
        """
        kind = self._fault_for(message)
        if kind is None and self.identity is not None and message == IDENTITY_QUERY:
            return Outcome(self.identity.encode())
        with self.lock:
            return self._execute(message, kind)

    def _execute(self, message: str, kind: str | None) -> Outcome:
        """The message under the fault ``kind`` (or none): reply, drop or stall."""
        faults = self.bench.faults
        if kind == "reboot":
            self.reset()
            self.engine.clear_status()
            return Outcome(None, drop=True)
        if kind == "stall":
            return Outcome(None, stall=True)
        self.before_message()
        try:
            reply = self.engine.execute(message)
        except Stall:
            return Outcome(None, stall=True)
        try:
            self.after_message()
        except ScpiError as exc:
            self.engine.push_error(exc.code, exc.text)
        if kind == "error":
            self.engine.push_error(-200, "Execution error;injected fault")
        if isinstance(reply, bytes):
            with self.bench.lock:
                truncate = faults.fire(self.ROLE, ("truncate",))
            if truncate:
                reply = truncated_block(reply)
        data = None if reply is None else reply if isinstance(reply, bytes) else reply.encode()
        if kind == "drop":
            return Outcome((data or b"")[: len(data or b"") // 2], drop=True)
        return Outcome(data)
