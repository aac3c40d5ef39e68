"""PAM4 BERT drivers: Keysight M8040A (M8070 SCPI) and Anritsu MP1900A (MP1800-family tree).

Keysight M8040A, M8070A programming guide: symbol rate ``:SOUR:FREQ 'M1.ClkGen',<Hz>``; line
coding ``:DATA:LIN '<loc>',PAM4`` with ``:DATA:LIN:PAM4:MAPP '<loc>',GRAY``; pattern
``:DATA:SEQ:SET '<loc>',PRBS,'2^13-1'`` then ``*OPC?`` (the detector re-synchronises); sync
state ``:STAT:INST:SLOS? '<loc>'`` (non-zero = sync lost); gated error ratio through the ERATio
plugin (``:PLUG:ERAT:NEW``, ``:ACQ:ALOC``, ``:ACQ:DUR FTIM``, ``:ACQ:TIME``, ``:STAR``,
``*OPC?``, ``:FETC?`` -> timestamp, "location", counted 1s/0s, errored 1s/0s, and for PAM4
compared and errored symbols).
Anritsu MP1900A: ``:MOD:ID <n>`` selects the PPG or ED module; PPG ``:OUTP:PAM4:SRAT <GBd>``,
``:SOUR:PATT:TYPE PRBS``, ``:SOUR:PATT:PAM4:PRBS:LENG <n>``; ED ``:SENS:PATT:TYPE PRBS``,
``:SENS:PATT:PRBS:LENG <n>``, gating ``:SENS:MEAS:EAL:MODE SING``, ``:SENS:MEAS:EAL:UNIT TIME``,
``:SENS:MEAS:EAL:PER d,h,m,s``, ``:SENS:MEAS:STAR``/``STOP``, running state
``:SENS:MEAS:EAL:STAT?``; results ``:CALC:DATA:EAL? "CURRent:EC:TOTal"`` / ``"CURRent:ER:TOTal"`` /
``"CURRent:CC:TOTal"`` (quoted text); sync-loss monitor ``:CALC:DATA:MON? "PSLoss"``.
The MP1900A subset used here has no symbol-error counter, so its SER is reported as unknown.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from accbench.errors import InputError, InstrumentError, InstrumentTimeout
from instruments.base import Instrument, MeasurementInfo, in_range
from instruments.confidence import ber_upper_bound

#: pattern name -> (PRBS order, PAM4 symbols built from it). "Q" patterns are PAM4 (Gray).
PATTERNS = {f"PRBS{n}": n for n in (7, 9, 11, 13, 15, 23, 31)} | {"PRBS13Q": 13, "PRBS31Q": 31}


class SyncLossError(InstrumentError):
    """The error detector cannot synchronise to the pattern (closed eye, wrong pattern or polarity)."""


@dataclass(frozen=True)
class BerSettings:
    """What to measure: symbol rate (Bd), pattern, gate time (s), PAM4 Gray mapping, BER confidence."""

    baud: float = 106.25e9
    pattern: str = "PRBS13Q"
    gate_s: float = 10.0
    gray: bool = True
    pattern_file: str | None = None  # SSPRQ: a pattern file on the instrument
    confidence: float = 0.95
    sync_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        in_range(1e9, 120e9, "symbol rate", " Bd")(self.baud)
        if self.gate_s <= 0:
            raise InputError(f"gate time {self.gate_s:g} s: must be > 0")
        name = self.pattern.upper()
        if name == "SSPRQ":
            if not self.pattern_file:
                raise InputError("SSPRQ needs the instrument's pattern file: give --pattern-file")
        elif name not in PATTERNS:
            raise InputError(f"pattern {self.pattern!r}: use one of {', '.join(PATTERNS)}, SSPRQ")


@dataclass
class BerResult:
    """Counts of one gated measurement, the derived ratios and the BER's upper confidence bound."""

    bits: int
    errors: int
    symbols: int
    symbol_errors: int | None
    gate_s: float
    sync_lost: bool
    confidence: float
    info: MeasurementInfo
    extra: dict = field(default_factory=dict)

    @property
    def ber(self) -> float:
        return self.errors / self.bits if self.bits else float("nan")

    @property
    def ser(self) -> float | None:
        if self.symbol_errors is None or not self.symbols:
            return None
        return self.symbol_errors / self.symbols

    @property
    def ber_upper(self) -> float:
        """The bound a gate must use: with zero errors it is about 3/bits at 95 %, never zero."""
        return ber_upper_bound(self.errors, self.bits, self.confidence) if self.bits else 1.0

    def to_dict(self) -> dict:
        key = f"ber_upper_{round(self.confidence * 100)}"
        return {"bits": self.bits, "errors": self.errors, "symbols": self.symbols,
                "symbol_errors": self.symbol_errors, "ber": self.ber, "ser": self.ser, key: self.ber_upper,
                "confidence": self.confidence, "gate_s": self.gate_s, "sync_lost": self.sync_lost,
                "idn": self.info.identity.to_dict(), "settings": self.info.settings, **self.extra}


class Bert(Instrument):
    """Shared flow: configure, wait for sync, run one gate, fetch the counts."""

    KIND = "bert"

    def measure_ber(self, settings: BerSettings) -> BerResult:
        """Configure rate, coding and pattern, then one gated error count."""
        self._configure(settings)
        self._wait_sync(settings.sync_timeout_s)
        counts = self._gate(settings)
        sync_lost = self.sync_lost()
        info = MeasurementInfo(self.identity, {"baud": settings.baud, "pattern": settings.pattern.upper(),
                                               "gate_s": settings.gate_s, "gray": settings.gray,
                                               "dialect": self.DIALECT})
        return BerResult(counts["bits"], counts["errors"], counts["symbols"], counts["symbol_errors"],
                         settings.gate_s, sync_lost, settings.confidence, info)

    def _wait_sync(self, timeout_s: float) -> None:
        """Poll the sync state until locked; a detector that never locks is a SyncLossError."""
        deadline = time.monotonic() + timeout_s
        while self.sync_lost():
            if time.monotonic() >= deadline:
                raise SyncLossError(f"{self.DIALECT}: the error detector did not synchronise within {timeout_s:g} s "
                                    "(eye closed, wrong pattern or polarity); check the channel and the pattern")
            time.sleep(min(0.2, timeout_s / 10))

    @staticmethod
    def _gate_timeout_s(gate_s: float) -> float:
        return 1.5 * gate_s + 10.0

    def sync_lost(self) -> bool:
        raise NotImplementedError

    def _configure(self, settings: BerSettings) -> None:
        raise NotImplementedError

    def _gate(self, settings: BerSettings) -> dict:
        raise NotImplementedError


def _counts(reply: str, dialect: str) -> list[int]:
    """Numbers of an M8070 counter reply: parentheses and the quoted location dropped."""
    text = re.sub(r"\"[^\"]*\"|'[^']*'", "", reply).replace("(", "").replace(")", "")
    try:
        return [int(float(v)) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise InstrumentError(f"{dialect}: cannot read counters from {reply[:80]!r}") from exc


class KeysightM8040A(Bert):
    """Keysight M8040A 64 GBd / 120 GBd PAM4 BERT through M8070 system software."""

    DIALECT = "keysight-m8040"
    MODELS = (r"M8040", r"M8070", r"M8045", r"M8046")
    generator = "M1.DataOut1"
    analyzer = "M1.DataIn1"
    clock = "M1.ClkGen"
    measurement_name = "accbench"

    def set_symbol_rate(self, baud: float) -> None:
        baud = in_range(1e9, 120e9, "symbol rate", " Bd")(baud)
        self.configure(f":SOUR:FREQ '{self.clock}',{baud:.12g}", key="rate")

    def set_coding(self, gray: bool) -> None:
        for loc in (self.generator, self.analyzer):
            self.configure(f":DATA:LIN '{loc}',PAM4", key=f"lin {loc}")
            self.configure(f":DATA:LIN:PAM4:MAPP '{loc}',{'GRAY' if gray else 'UNC'}", key=f"map {loc}")

    def set_pattern(self, pattern: str, pattern_file: str | None = None) -> None:
        name = pattern.upper()
        value = f"FILE,'{pattern_file}'" if name == "SSPRQ" else f"PRBS,'2^{PATTERNS[name]}-1'"
        for loc in (self.generator, self.analyzer):
            self.configure(f":DATA:SEQ:SET '{loc}',{value}", key=f"seq {loc}")
        self.wait_opc(30.0, "pattern change")

    def sync_lost(self) -> bool:
        return int(float(self.ask(f":STAT:INST:SLOS? '{self.analyzer}'"))) != 0

    def _configure(self, s: BerSettings) -> None:
        self.set_symbol_rate(s.baud)
        self.set_coding(s.gray)
        self.set_pattern(s.pattern, s.pattern_file)

    def _gate(self, s: BerSettings) -> dict:
        name = self.measurement_name
        catalog = self.ask(":PLUG:ERAT:CAT?")
        if name not in catalog.replace('"', "").split(","):
            self.configure(f":PLUG:ERAT:NEW '{name}'", key="erat new")
        self.configure(f":PLUG:ERAT:ACQ:ALOC '{name}','{self.analyzer}'", key="erat loc")
        self.configure(f":PLUG:ERAT:ACQ:DUR '{name}',FTIM", key="erat dur")
        self.configure(f":PLUG:ERAT:ACQ:TIME '{name}',{s.gate_s:g}", key="erat time")
        self.write(f":PLUG:ERAT:STAR '{name}'")
        self.wait_opc(self._gate_timeout_s(s.gate_s), f"BER gate of {s.gate_s:g} s")
        self.check_errors("BER gate")
        values = _counts(self.ask(f":PLUG:ERAT:FETC? '{name}'"), self.DIALECT)
        if len(values) < 5:
            raise InstrumentError(f"{self.DIALECT}: ERATio fetch returned {len(values)} numbers, expected >= 5")
        _, ones, zeros, err_ones, err_zeros = values[:5]
        symbols = values[5] if len(values) > 5 else (ones + zeros) // 2
        symbol_errors = values[6] if len(values) > 6 else None
        return {"bits": ones + zeros, "errors": err_ones + err_zeros, "symbols": symbols,
                "symbol_errors": symbol_errors}


def _quoted_number(reply: str, dialect: str, item: str) -> float:
    text = reply.strip().strip('"').strip()
    try:
        return float(text)
    except ValueError as exc:
        raise InstrumentError(f"{dialect}: {item} answered {reply!r} (no result: was the gate run?)") from exc


class AnritsuMP1900A(Bert):
    """Anritsu MP1900A signal quality analyzer with a PAM4 PPG and ED (MP1800-family SCPI)."""

    DIALECT = "anritsu-mp1900"
    MODELS = (r"MP1900", r"MP1800")
    ppg_module = 1
    ed_module = 2

    def _module(self, module: int) -> None:
        self.write(f":MOD:ID {module}")

    def set_symbol_rate(self, baud: float) -> None:
        baud = in_range(2.4e9, 64.2e9, "symbol rate", " Bd")(baud)
        self._module(self.ppg_module)
        self.configure(f":OUTP:PAM4:SRAT {baud / 1e9:.6f}", key="rate")

    def set_pattern(self, pattern: str) -> None:
        name = pattern.upper()
        if name == "SSPRQ":
            raise InputError("SSPRQ on the MP1900A: recall it on the instrument; this driver sets PRBS patterns")
        order = PATTERNS[name]
        self._module(self.ppg_module)
        self.configure(":SOUR:PATT:TYPE PRBS", key="ppg type")
        self.configure(f":SOUR:PATT:PAM4:PRBS:LENG {order}", key="ppg len")
        self._module(self.ed_module)
        self.configure(":SENS:PATT:TYPE PRBS", key="ed type")
        self.configure(f":SENS:PATT:PRBS:LENG {order}", key="ed len")

    def sync_lost(self) -> bool:
        self._module(self.ed_module)
        return self.ask(':CALC:DATA:MON? "PSLoss"').strip().strip('"').upper() == "OCCUR"

    def _configure(self, s: BerSettings) -> None:
        if abs(s.gate_s - round(s.gate_s)) > 1e-9 or s.gate_s < 1:
            raise InputError(f"gate {s.gate_s:g} s: the MP1900A gates in whole seconds (>= 1 s)")
        self.set_symbol_rate(s.baud)
        self.set_pattern(s.pattern)

    def _gate(self, s: BerSettings) -> dict:
        seconds = round(s.gate_s)
        d, rest = divmod(seconds, 86400)
        h, rest = divmod(rest, 3600)
        m, sec = divmod(rest, 60)
        self._module(self.ed_module)
        self.configure(":SENS:MEAS:EAL:MODE SING", key="gate mode")
        self.configure(":SENS:MEAS:EAL:UNIT TIME", key="gate unit")
        self.configure(f":SENS:MEAS:EAL:PER {d},{h},{m},{sec}", key="gate period")
        self.write(":SENS:MEAS:STAR")
        deadline = time.monotonic() + self._gate_timeout_s(s.gate_s)
        while int(float(self.ask(":SENS:MEAS:EAL:STAT?"))) != 0:
            if time.monotonic() > deadline:
                self.write(":SENS:MEAS:STOP")
                raise InstrumentTimeout(f"{self.DIALECT}: 'BER gate of {seconds} s' did not end within "
                                        f"{self._gate_timeout_s(s.gate_s):g} s; check the error detector")
            time.sleep(min(0.5, s.gate_s / 20))
        self.check_errors("BER gate")
        errors = int(_quoted_number(self.ask(':CALC:DATA:EAL? "CURRent:EC:TOTal"'), self.DIALECT, "EC:TOTal"))
        bits = int(_quoted_number(self.ask(':CALC:DATA:EAL? "CURRent:CC:TOTal"'), self.DIALECT, "CC:TOTal"))
        ratio = _quoted_number(self.ask(':CALC:DATA:EAL? "CURRent:ER:TOTal"'), self.DIALECT, "ER:TOTal")
        if bits and abs(ratio - errors / bits) > 0.01 * max(ratio, errors / bits) + 1e-15:
            raise InstrumentError(f"{self.DIALECT}: ER:TOTal {ratio:g} disagrees with EC/CC {errors}/{bits}")
        return {"bits": bits, "errors": errors, "symbols": bits // 2, "symbol_errors": None}
