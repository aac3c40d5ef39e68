"""A SCPI command engine for the simulated instruments (IEEE 488.2 / SCPI-1999 rules).

Headers are matched case-insensitively in short or long form (``FREQ`` / ``FREQuency``), with
optional nodes (``[:SCALar]``) and optional numeric suffixes (``SENSe#``, default 1);
``;`` separates messages, and a header without a leading ``:`` after ``;`` is relative to the
previous one's path. Errors go into a queue with the standard codes and set ``*ESR?`` bits.
Replies are text, or IEEE 488.2 definite-length blocks in REAL,64 of either byte order.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accbench.scpi_notation import compile_header, split_outside

ERROR_TEXT = {
    -100: "Command error", -102: "Syntax error", -104: "Data type error", -108: "Parameter not allowed",
    -109: "Missing parameter", -113: "Undefined header", -200: "Execution error", -221: "Settings conflict",
    -222: "Data out of range", -223: "Too much data", -224: "Illegal parameter value", -230: "Data corrupt or stale",
    -310: "System error", -350: "Queue overflow", -400: "Query error",
}
QUEUE_LENGTH = 30
HEADER_CACHE_ENTRIES = 1024  # resolved headers kept per instrument (suffixes make them unbounded)
_UNITS = ("HZ", "DBM", "DB", "BD", "S", "V", "A", "W")
_MULTIPLIERS = {"T": 1e12, "G": 1e9, "MA": 1e6, "M": 1e-3, "K": 1e3, "U": 1e-6, "N": 1e-9, "P": 1e-12}


class ScpiError(Exception):
    """An SCPI error: standard code and text (the text defaults to the standard one)."""

    def __init__(self, code: int, detail: str = ""):
        base = ERROR_TEXT.get(code, "Device-specific error")
        super().__init__(f"{base};{detail}" if detail else base)
        self.code = code
        self.text = f"{base};{detail}" if detail else base


def _split_outside(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quoted strings and parentheses; an open quote is error -102."""
    pieces, open_quote = split_outside(text, separator)
    if open_quote:
        raise ScpiError(-102, "unterminated string")
    return pieces


def split_params(text: str) -> list[str]:
    """Split a parameter list on commas outside quotes and parentheses; strings keep their quotes."""
    params = [p.strip() for p in _split_outside(text, ",")]
    return [] if params == [""] else params


def unquote(text: str) -> str:
    """A string parameter without its quotes (either kind)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    raise ScpiError(-104, f"expected a quoted string, got {text}")


def number(text: str, low: float | None = None, high: float | None = None, unit: str = "") -> float:
    """A numeric parameter (engineering suffixes and an optional unit allowed), range-checked (-222)."""
    raw = text.strip().upper()
    for name in ((unit.upper(),) if unit else ()) + _UNITS:
        if name and raw.endswith(name) and raw[: -len(name)][-1:].isalnum():
            raw = raw[: -len(name)]
            if name == "HZ" and raw.endswith("M"):  # SCPI: MHZ is mega-hertz
                raw = raw[:-1] + "MA"
            break
    scale = 1.0
    for suffix, mult in _MULTIPLIERS.items():
        if raw.endswith(suffix) and re.match(r"^[-+]?[\d.]+(E[-+]?\d+)?$", raw[: -len(suffix)]):
            raw, scale = raw[: -len(suffix)], mult
            break
    try:
        value = float(raw) * scale
    except ValueError as exc:
        raise ScpiError(-104, f"not a number: {text}") from exc
    if (low is not None and value < low) or (high is not None and value > high):
        raise ScpiError(-222, f"{value:g} outside {low:g}..{high:g}")
    return value


def boolean(text: str) -> bool:
    token = text.strip().upper()
    if token in ("1", "ON"):
        return True
    if token in ("0", "OFF"):
        return False
    raise ScpiError(-224, f"expected ON|OFF|1|0, got {text}")


def choice(text: str, options: dict[str, str]) -> str:
    """Match a character parameter against ``{long form: canonical}`` in short or long form."""
    token = text.strip().upper()
    for name, canonical in options.items():
        short = "".join(ch for ch in name if ch.isupper() or ch.isdigit())
        if token in (name.upper(), short.upper()):
            return canonical
    raise ScpiError(-224, f"{text}: use one of {', '.join(options)}")


def channel_list(text: str) -> list[int]:
    """``(@1,2)`` or ``(@1:3)`` -> [1, 2] / [1, 2, 3]."""
    match = re.fullmatch(r"\s*\(@([\d,:\s]+)\)\s*", text)
    if not match:
        raise ScpiError(-104, f"expected a channel list like (@1,2), got {text}")
    out = []
    for part in match.group(1).split(","):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            out += list(range(a, b + 1))
        elif part.strip():
            out.append(int(part))
    return out


def ieee_block(values: np.ndarray, big_endian: bool) -> bytes:
    """REAL,64 definite-length block ``#<n><len><bytes>``."""
    payload = np.asarray(values, dtype=">f8" if big_endian else "<f8").tobytes()
    length = str(len(payload))
    return f"#{len(length)}{length}".encode() + payload


@dataclass
class Command:
    pattern: str
    regex: re.Pattern
    setter: Callable | None
    query: Callable | None


class ScpiEngine:
    """Command tree, error queue, event status register and data format of one instrument."""

    def __init__(self, static: Callable[[str], str | None] | None = None):
        self.commands: list[Command] = []
        self.errors: deque[tuple[int, str]] = deque()
        self.esr = 0
        self.ese = 0
        self.ascii_format = True
        self.big_endian = True  # FORM:BORD NORM
        self.static = static
        self._cache: dict[str, tuple[Command, list[int]]] = {}
        self._register_common()

    # --- registration
    def add(self, pattern: str, setter: Callable | None = None, query: Callable | None = None) -> None:
        """Register ``pattern`` (replacing an earlier one of the same pattern); handlers get
        ``(params: list[str], suffixes: list[int])``."""
        self.commands = [c for c in self.commands if c.pattern != pattern]
        self.commands.append(Command(pattern, compile_header(pattern), setter, query))
        self._cache.clear()

    def _register_common(self) -> None:
        self.add("*CLS", setter=lambda p, s: self.clear_status())
        self.add("*ESR", query=lambda p, s: self._read_esr())
        self.add("*ESE", setter=lambda p, s: setattr(self, "ese", int(number(p[0], 0, 255))),
                 query=lambda p, s: str(self.ese))
        self.add("*OPC", setter=lambda p, s: self._set_esr(1), query=lambda p, s: "1")
        self.add("*WAI", setter=lambda p, s: None)
        self.add("*STB", query=lambda p, s: str(self.status_byte()))
        self.add("*TST", query=lambda p, s: "0")
        self.add("SYSTem:ERRor[:NEXT]", query=lambda p, s: self.next_error())
        self.add("SYSTem:ERRor:COUNt", query=lambda p, s: str(len(self.errors)))
        self.add("FORMat[:DATA]", setter=self._set_format,
                 query=lambda p, s: "ASC,0" if self.ascii_format else "REAL,64")
        self.add("FORMat:BORDer", setter=self._set_border,
                 query=lambda p, s: "NORM" if self.big_endian else "SWAP")

    # --- status
    def push_error(self, code: int, text: str | None = None) -> None:
        if len(self.errors) >= QUEUE_LENGTH:
            self.errors[-1] = (-350, ERROR_TEXT[-350])
        else:
            self.errors.append((code, text or ERROR_TEXT.get(code, "Device-specific error")))
        bit = 32 if -199 <= code <= -100 else 16 if -299 <= code <= -200 else 4 if -499 <= code <= -400 else 8
        self._set_esr(bit)

    def next_error(self) -> str:
        if not self.errors:
            return '+0,"No error"'
        code, text = self.errors.popleft()
        return f'{code:+d},"{text}"'

    def clear_status(self) -> None:
        self.errors.clear()
        self.esr = 0

    def status_byte(self) -> int:
        return (4 if self.errors else 0) | (32 if self.esr & self.ese else 0)

    def _set_esr(self, bit: int) -> None:
        self.esr |= bit

    def _read_esr(self) -> str:
        value, self.esr = self.esr, 0
        return str(value)

    def _set_format(self, params: list[str], _s) -> None:
        kind = choice(params[0], {"ASCii": "ASC", "REAL": "REAL"}) if params else ""
        if kind == "REAL":
            if len(params) > 1 and int(number(params[1])) != 64:
                raise ScpiError(-224, "only REAL,64 is supported")
            self.ascii_format = False
        elif kind == "ASC":
            self.ascii_format = True
        else:
            raise ScpiError(-109)

    def _set_border(self, params: list[str], _s) -> None:
        if not params:
            raise ScpiError(-109)
        self.big_endian = choice(params[0], {"NORMal": "N", "SWAPped": "S"}) == "N"

    def reset_format(self) -> None:
        self.ascii_format, self.big_endian = True, True

    def data(self, values: np.ndarray) -> str | bytes:
        """Numbers as the current FORMat says: ASCII list or a REAL,64 block."""
        if self.ascii_format:
            return ",".join(f"{v:.12g}" for v in np.asarray(values, dtype=float))
        return ieee_block(values, self.big_endian)

    # --- execution
    def _lookup(self, header: str) -> tuple[Command, list[int]]:
        hit = self._cache.get(header)
        if hit is not None:
            return hit
        for cmd in self.commands:
            match = cmd.regex.match(header)
            if match:
                suffixes = [int(g) if g else 1 for g in match.groups()]
                if len(self._cache) >= HEADER_CACHE_ENTRIES:
                    self._cache.clear()
                self._cache[header] = (cmd, suffixes)
                return cmd, suffixes
        raise ScpiError(-113, header)

    def execute(self, message: str) -> str | bytes | None:
        """Run one program message; the joined replies of its queries (None when there are none)."""
        replies: list[str | bytes] = []
        base = ""
        try:
            units = _split_outside(message, ";")
        except ScpiError as exc:
            self.push_error(exc.code, exc.text)
            return None
        for unit in units:
            unit = unit.strip()
            if not unit:
                continue
            header, _, rest = unit.partition(" ")
            if not header.startswith((":", "*")) and base:
                header = base + ":" + header
            header = header.lstrip(":").upper()
            if not header.startswith("*"):
                base = header.rsplit(":", 1)[0] if ":" in header else ""
            try:
                reply = self._run(header, rest.strip(), unit)
            except ScpiError as exc:
                self.push_error(exc.code, exc.text)
                continue
            if reply is not None:
                replies.append(reply)
        if not replies:
            return None
        if len(replies) == 1:
            return replies[0]
        return b";".join(r if isinstance(r, bytes) else r.encode() for r in replies)

    def _run(self, header: str, params_text: str, unit: str) -> str | bytes | None:
        is_query = header.endswith("?")
        key = header[:-1] if is_query else header
        try:
            cmd, suffixes = self._lookup(key)
        except ScpiError:
            if self.static is not None:
                answer = self.static(unit)
                if answer is not None:
                    return answer if is_query else None
            raise
        params = split_params(params_text) if params_text else []
        if is_query:
            if cmd.query is None:
                raise ScpiError(-113, f"{key} has no query form")
            return cmd.query(params, suffixes)
        if cmd.setter is None:
            raise ScpiError(-113, f"{key} is a query only")
        cmd.setter(params, suffixes)
        return None
