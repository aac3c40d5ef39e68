"""PAM4 BERT drivers: Keysight M8040A (M8070 system software) and Anritsu MP1900A (MP1800-family tree).

Every command sent is listed with its source in ``instruments/dialects/keysight-m8040.toml`` and
``anritsu-mp1900.toml``. A request outside the model's capabilities (``accbench.capabilities``:
symbol-rate range, the patterns its error detector accepts) is refused before anything is sent.

Keysight M8040A: symbol rate ``:SOUR:FREQ '<clock>',<Bd>``; PAM4 line coding set on both generator
channels in one message, Gray or transparent (``NONE``) mapping; pattern ``:DATA:SEQ:SET
'<loc>',PRBS,'2^n-1'``; the analyzer's automatic alignment (``:INP:ALIG:EYE:AUTO``) before
counting; sync ``:STAT:INST:SLOS?``; a gated ERATio plug-in measurement whose end is read from the
plug-in's run state (``:PLUG:ERAT:RUN?``), never from ``*OPC?`` alone, with the counts checked to
cover the whole gate. Locations default to the programming guide's example (generator
``M1.DataOut1``, analyzer ``M2.DataIn``, clock ``M1.ClkGen``); module numbers depend on the chassis,
so a bench file may name them.
Anritsu MP1900A: unit and slot selected in the same message as each command (``:UENT:ID 1;:MOD:ID
<slot>;...``), so a replayed setting reaches the right module; the PPG's modulation set to PAM4
before its PAM4 commands; gating ``:SENS:MEAS:EAL:...``, results ``:CALC:DATA:EAL?``. The slots
must be given (no documented way to list the modules).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from accbench.instruments.base import Instrument, MeasurementInfo, in_range
from accbench.instruments.confidence import ber_upper_bound

from accbench.capabilities import GRAY_PATTERNS, PATTERN_ORDERS
from accbench.errors import InputError, InstrumentError, InstrumentTimeout

#: pattern name -> PRBS order of its bit stream ("Q" patterns are PAM4, Gray-mapped)
PATTERNS = PATTERN_ORDERS
FULL_GATE = 0.99  # counted bits must cover this share of rate x gate, else the counts are partial


class SyncLossError(InstrumentError):
    """The error detector cannot synchronise to the pattern (closed eye, wrong pattern or polarity)."""


@dataclass(frozen=True)
class BerSettings:
    """What to measure: symbol rate (Bd), pattern, gate time (s), PAM4 Gray mapping, BER confidence."""

    baud: float = 53.125e9
    pattern: str = "PRBS13Q"
    gate_s: float = 10.0
    gray: bool = True
    pattern_file: str | None = None  # SSPRQ: a pattern file on the instrument
    confidence: float = 0.95
    sync_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        in_range(1e9, 200e9, "symbol rate", " Bd")(self.baud)
        if not self.gate_s > 0:
            raise InputError(f"gate time {self.gate_s:g} s: must be > 0")
        name = self.pattern.upper()
        if name == "SSPRQ":
            if not self.pattern_file:
                raise InputError("SSPRQ needs the instrument's pattern file: give the pattern file", "pattern_file")
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
    """Shared flow: check against the model, configure, align, wait for sync, one gate, the counts."""

    KIND = "bert"
    LOCATION_KEYS: tuple[str, ...] = ()
    COUNTS_BITS = False  # whether the dialect's count is documented as compared bits (checked against the gate)

    def __init__(self, *args, locations: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.locations: dict = {}
        self.use_locations(locations or {})

    def use_locations(self, locations: dict) -> None:
        """Where the generator and analyzer live (the model's defaults, overridden by ``locations``)."""
        unknown = sorted(set(locations) - set(self.LOCATION_KEYS))
        if unknown:
            raise InputError(f"{self.DIALECT}: unknown location {', '.join(unknown)}; "
                             f"use {', '.join(self.LOCATION_KEYS)}")
        cap = self.capability if self._identity is not None else None
        defaults = dict(cap.locations) if cap is not None else {}
        self.locations = {k: v for k, v in {**defaults, **self.locations, **locations}.items()
                          if k in self.LOCATION_KEYS}

    def problems(self, settings: BerSettings) -> list[str]:
        """Why ``settings`` cannot run on this instrument (its capability entry and its locations)."""
        cap = self.capability
        return cap.problems(settings.baud, settings.pattern, settings.gray) if cap is not None else []

    def measure_ber(self, settings: BerSettings) -> BerResult:
        """One gated error count; refused before anything is sent when the model cannot run it."""
        problems = self.problems(settings)
        if problems:
            raise InputError("; ".join(problems))
        counts, sync_lost = self.run_step(f"BER gate of {settings.gate_s:g} s", lambda: self._measure(settings))
        info = MeasurementInfo(self.identity, {"baud": settings.baud, "pattern": settings.pattern.upper(),
                                               "gate_s": settings.gate_s, "gray": settings.gray,
                                               "dialect": self.DIALECT, "locations": dict(self.locations)})
        return BerResult(counts["bits"], counts["errors"], counts["symbols"], counts["symbol_errors"],
                         settings.gate_s, sync_lost, settings.confidence, info)

    def _measure(self, settings: BerSettings) -> tuple[dict, bool]:
        self._configure(settings)
        self._align()
        self._wait_sync(settings.sync_timeout_s)
        counts = self._gate(settings)
        expected = 2 * settings.baud * settings.gate_s
        if self.COUNTS_BITS and counts["bits"] < FULL_GATE * expected:
            raise InstrumentError(f"{self.DIALECT}: the gate counted {counts['bits']:.4g} bits, not the "
                                  f"{expected:.4g} of {settings.gate_s:g} s at {settings.baud / 1e9:g} GBd: "
                                  "the counts are partial; check the gate settings")
        return counts, self.sync_lost()

    def _wait_sync(self, timeout_s: float) -> None:
        """Poll the sync state until locked; a detector that never locks is a SyncLossError."""
        deadline = time.monotonic() + timeout_s
        while self.sync_lost():
            if time.monotonic() >= deadline:
                raise SyncLossError(f"{self.DIALECT}: the error detector did not synchronise within {timeout_s:g} s "
                                    "(eye closed, wrong pattern or polarity); check the channel and the pattern")
            time.sleep(min(0.2, timeout_s / 10))

    def _poll_until_idle(self, query: str, gate_s: float) -> None:
        """Poll a run-state query (1 running, 0 idle) until the gate has ended."""
        limit = self._gate_timeout_s(gate_s)
        deadline = time.monotonic() + limit
        while int(float(self.ask(query).strip().strip('"'))) != 0:
            if time.monotonic() > deadline:
                raise InstrumentTimeout(f"{self.DIALECT}: 'BER gate of {gate_s:g} s' did not end within {limit:g} s; "
                                        "check the error detector")
            time.sleep(min(0.5, max(gate_s / 20, 0.005)))

    @staticmethod
    def _gate_timeout_s(gate_s: float) -> float:
        return 1.5 * gate_s + 10.0

    def _align(self) -> None:
        """The analyzer's automatic alignment, where the dialect has a documented one."""

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
    """Keysight M8040A 64 GBd PAM4 BERT (M8045A generator, M8046A analyzer) through M8070 system software."""

    DIALECT = "keysight-m8040"
    MODELS = (r"M8040", r"M8070", r"M8045", r"M8046")
    LOCATION_KEYS = ("generator", "generator_group", "analyzer", "clock")
    COUNTS_BITS = True  # ERATio fetch: counted ones + counted zeros
    measurement_name = "accbench"
    ALIGN_TIMEOUT_S = 60.0

    @property
    def generator(self) -> str:
        return str(self.locations.get("generator", "M1.DataOut1"))

    @property
    def analyzer(self) -> str:
        return str(self.locations.get("analyzer", "M2.DataIn"))

    @property
    def clock(self) -> str:
        return str(self.locations.get("clock", "M1.ClkGen"))

    @property
    def generator_group(self) -> list[str]:
        """The generator channels whose line coding must change together (in one message)."""
        group = [g.strip() for g in str(self.locations.get("generator_group", self.generator)).split(",") if g.strip()]
        return group if self.generator in group else [self.generator, *group]

    def set_symbol_rate(self, baud: float) -> None:
        cap = self.capability
        low, high = cap.pam4_baud if cap is not None else (1e9, 200e9)
        baud = in_range(low, high, f"{self.identity.model} symbol rate", " Bd")(baud)
        self.configure(f":SOUR:FREQ '{self.clock}',{baud:.12g}", key="rate")

    def set_coding(self, gray: bool) -> None:
        """PAM4 with Gray or transparent mapping: both generator channels in one message, then the analyzer."""
        mapping = "GRAY" if gray else "NONE"
        group = self.generator_group
        self.configure(";".join(f":DATA:LIN '{loc}',PAM4" for loc in group), key="lin generator")
        self.configure(";".join(f":DATA:LIN:PAM4:MAPP '{loc}',{mapping}" for loc in group), key="map generator")
        self.configure(f":DATA:LIN '{self.analyzer}',PAM4", key="lin analyzer")
        self.configure(f":DATA:LIN:PAM4:MAPP '{self.analyzer}',{mapping}", key="map analyzer")

    def set_pattern(self, pattern: str, pattern_file: str | None = None) -> None:
        name = pattern.upper()
        value = f"MEMORY,'{pattern_file}'" if name == "SSPRQ" else f"PRBS,'2^{PATTERNS[name]}-1'"
        for loc in (self.generator, self.analyzer):
            self.configure(f":DATA:SEQ:SET '{loc}',{value}", key=f"seq {loc}")
        self.wait_opc(30.0, "pattern change")

    def align(self) -> None:
        """Automatic eye alignment of the analyzer (thresholds and delay); a failure means no eye to count."""
        self.write(f":INP:ALIG:EYE:AUTO '{self.analyzer}'")
        self.wait_opc(self.ALIGN_TIMEOUT_S, "analyzer auto-alignment")
        state = self.ask(f":INP:ALIG:STAT:VAL? '{self.analyzer}'").strip().strip("'\"").upper()
        if state != "SUCCESS":
            raise SyncLossError(f"{self.DIALECT}: the analyzer's auto-alignment ended {state} (no eye to align to: "
                                "closed eye, wrong pattern or polarity); check the channel and the pattern")

    _align = align

    def sync_lost(self) -> bool:
        return int(float(self.ask(f":STAT:INST:SLOS? '{self.analyzer}'"))) != 0

    def _configure(self, s: BerSettings) -> None:
        self.set_symbol_rate(s.baud)
        self.set_coding(s.gray)
        self.set_pattern(s.pattern, s.pattern_file)

    def prepare(self) -> None:
        """Create the error-ratio measurement at open (the M8070 keeps it until deleted or reset)."""
        self._ensure_measurement()

    def _ensure_measurement(self) -> None:
        name = self.measurement_name
        catalog = self.ask(":PLUG:ERAT:CAT?")
        if name not in catalog.replace('"', "").replace("'", "").split(","):
            self.configure(f":PLUG:ERAT:NEW '{name}'", key="erat new")

    def _gate(self, s: BerSettings) -> dict:
        name = self.measurement_name
        self._ensure_measurement()
        self.configure(f":PLUG:ERAT:ACQ:ALOC '{name}','{self.analyzer}'", key="erat loc")
        self.configure(f":PLUG:ERAT:ACQ:AEND '{name}',FDUR", key="erat end")
        self.configure(f":PLUG:ERAT:ACQ:DUR '{name}',FTIM", key="erat dur")
        self.configure(f":PLUG:ERAT:ACQ:TIME '{name}',{s.gate_s:g}", key="erat time")
        self.write(f":PLUG:ERAT:STAR '{name}'")
        self._poll_until_idle(f":PLUG:ERAT:RUN? '{name}'", s.gate_s)
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
    LOCATION_KEYS = ("ppg_module", "ed_module", "unit")

    def _slot(self, role: str) -> int:
        slot = self.locations.get(f"{role}_module")
        if slot is None:
            raise InputError(f"{self.DIALECT}: the {role.upper()} slot is not known (slots depend on the chassis and "
                             f"the MP1900A offers no documented way to list them); give {role}_module = N "
                             "([bert] in the bench file, or the locations)", "locations")
        return int(slot)

    def _at(self, role: str, command: str) -> str:
        """``command`` addressed to the role's unit and slot in one message (replay-safe)."""
        return f":UENT:ID {int(self.locations.get('unit', 1))};:MOD:ID {self._slot(role)};{command}"

    def problems(self, settings: BerSettings) -> list[str]:
        out = super().problems(settings)
        for role in ("ppg", "ed"):
            if self.locations.get(f"{role}_module") is None:
                out.append(f"the {role.upper()} slot is not known: give {role}_module = N "
                           "([bert] in the bench file, or the locations)")
        if abs(settings.gate_s - round(settings.gate_s)) > 1e-9 or settings.gate_s < 1:
            out.append(f"gate {settings.gate_s:g} s: the MP1900A gates in whole seconds (>= 1 s)")
        if settings.pattern.upper() == "SSPRQ":
            out.append("SSPRQ on the MP1900A: recall it on the instrument; this driver sets PRBS patterns")
        return out

    def set_symbol_rate(self, baud: float) -> None:
        cap = self.capability
        low, high = cap.pam4_baud if cap is not None else (2.4e9, 64.2e9)
        baud = in_range(low, high, f"{self.identity.model} symbol rate", " Bd")(baud)
        self.configure(self._at("ppg", ":SOUR:MOD:TYPE PAM4"), key="ppg modulation")
        self.configure(self._at("ppg", f":OUTP:PAM4:SRAT {baud / 1e9:.6f}"), key="rate")

    def set_pattern(self, pattern: str) -> None:
        order = PATTERNS[pattern.upper()]
        self.configure(self._at("ppg", ":SOUR:PATT:TYPE PRBS"), key="ppg type")
        self.configure(self._at("ppg", f":SOUR:PATT:PAM4:PRBS:LENG {order}"), key="ppg len")
        self.configure(self._at("ed", ":SENS:PATT:TYPE PRBS"), key="ed type")
        self.configure(self._at("ed", f":SENS:PATT:PRBS:LENG {order}"), key="ed len")

    def sync_lost(self) -> bool:
        return self.ask(self._at("ed", ':CALC:DATA:MON? "PSLoss"')).strip().strip('"').upper() == "OCCUR"

    def _configure(self, s: BerSettings) -> None:
        self.set_symbol_rate(s.baud)
        self.set_pattern(s.pattern)

    def _gate(self, s: BerSettings) -> dict:
        seconds = round(s.gate_s)
        d, rest = divmod(seconds, 86400)
        h, rest = divmod(rest, 3600)
        m, sec = divmod(rest, 60)
        self.configure(self._at("ed", ":SENS:MEAS:EAL:MODE SING"), key="gate mode")
        self.configure(self._at("ed", ":SENS:MEAS:EAL:UNIT TIME"), key="gate unit")
        self.configure(self._at("ed", f":SENS:MEAS:EAL:PER {d},{h},{m},{sec}"), key="gate period")
        self.write(self._at("ed", ":SENS:MEAS:STAR"))
        try:
            self._poll_until_idle(self._at("ed", ":SENS:MEAS:EAL:STAT?"), s.gate_s)
        except InstrumentTimeout:
            self.write(self._at("ed", ":SENS:MEAS:STOP"))
            raise
        self.check_errors("BER gate")
        errors = int(_quoted_number(self.ask(self._at("ed", ':CALC:DATA:EAL? "CURRent:EC:TOTal"')), self.DIALECT,
                                    "EC:TOTal"))
        bits = int(_quoted_number(self.ask(self._at("ed", ':CALC:DATA:EAL? "CURRent:CC:TOTal"')), self.DIALECT,
                                  "CC:TOTal"))
        ratio = _quoted_number(self.ask(self._at("ed", ':CALC:DATA:EAL? "CURRent:ER:TOTal"')), self.DIALECT,
                               "ER:TOTal")
        if bits and abs(ratio - errors / bits) > 0.01 * max(ratio, errors / bits) + 1e-15:
            raise InstrumentError(f"{self.DIALECT}: ER:TOTal {ratio:g} disagrees with EC/CC {errors}/{bits}")
        return {"bits": bits, "errors": errors, "symbols": bits // 2, "symbol_errors": None}


__all__ = ["GRAY_PATTERNS", "PATTERNS", "AnritsuMP1900A", "BerResult", "BerSettings", "KeysightM8040A",
           "SyncLossError"]
