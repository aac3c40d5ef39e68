"""Simulated PAM4 BERTs: Keysight M8040A (M8070 SCPI) and Anritsu MP1900A, counting errors drawn from
the link model of the connected cable (binomial in the model's symbol-error ratio, so a short gate
at a low BER shows zero errors).

Written from the documents (M8070A programming guide, M8000 user guide) and, where no document
was in reach, from independent public drivers, never from accbench's drivers; limits come from
``accbench.capabilities``:

* M8040A: locations from the chassis layout (M8045A generator ``M<n>.DataOut1/2``, ``M<n>.ClkGen``;
  M8046A analyzer ``M<n>.DataIn``, no channel suffix); symbol rate 2-64.8 GBd (-222 beyond); PAM4
  mapping NONE|GRAY|CUSTom (anything else -224); the analyzer takes every PRBS but 2^7-1 (-224);
  the two generator channels' line coding must change in one message (-221 otherwise, and
  nothing is set); after a change of rate, coding or pattern the analyzer has no sync until it is
  aligned (``:INP:ALIG:EYE:AUTO``); ERATio measurements run for their gate after ``STARt``
  (``*OPC?`` does not wait for them): ``RUN?`` reads 1 until the gate has passed, and a fetch
  before that returns the counts so far.
* MP1900A: unit and slot selection (``:UENT:ID``, ``:MOD:ID``); a command for a module not in the
  selected slot is -113; the PPG's PAM4 commands need ``:SOUR:MOD:TYPE PAM4`` first (-221); rate
  2.4-64.2 GBd; time gating with ``:SENS:MEAS:EAL:STAT?`` 1 while it runs.

Gates take ``bench.time_scale`` x their length in real time (0, the default: they end at once).
"""

from __future__ import annotations

import time

from accbench.sim.base import SimInstrument
from accbench.sim.scpi import ScpiError, choice, number, split_params, unquote

from accbench.capabilities import BERTS

M8040 = BERTS["M8040A"]
MP1900 = BERTS["MP1900A"]
PRBS_VALUES = {f"2^{n}-1": n for n in (7, 9, 10, 11, 13, 15, 20, 23, 31)}


class Gate:
    """One gated count running in (scaled) real time: the counts so far and whether it still runs."""

    def __init__(self, counts: dict, gate_s: float, time_scale: float):
        self.counts, self.length_s = counts, gate_s * time_scale
        self.started = time.monotonic()

    @property
    def done_fraction(self) -> float:
        if self.length_s <= 0:
            return 1.0
        return min((time.monotonic() - self.started) / self.length_s, 1.0)

    @property
    def running(self) -> bool:
        return self.done_fraction < 1.0

    def so_far(self) -> dict:
        f = self.done_fraction
        return {k: int(v * f) if type(v) is int else v for k, v in self.counts.items()}


class SimKeysightM8040(SimInstrument):
    """M8070 system software with an M8045A generator and an M8046A analyzer."""

    ROLE = "bert"
    DEVICE = "bert-m8040"

    def reset(self) -> None:
        super().reset()
        layout = self.bench.layout.get("m8040", {"M1": "M8045A", "M2": "M8046A"})
        self.generators = [f"{m}.DataOut{k}" for m, kind in layout.items() if kind == "M8045A" for k in (1, 2)]
        self.analyzers = [f"{m}.DataIn" for m, kind in layout.items() if kind == "M8046A"]
        self.clocks = [f"{m}.ClkGen" for m, kind in layout.items() if kind == "M8045A"]
        self.locations = self.generators + self.analyzers + self.clocks + [f"{m}.System" for m in layout]
        self.baud = 53.125e9
        data = self.generators + self.analyzers
        self.coding = dict.fromkeys(data, "NRZ")
        self.mapping = dict.fromkeys(data, "GRAY")
        self.sequence = dict.fromkeys(data, "PRBS,'2^31-1'")
        self.aligned = dict.fromkeys(self.analyzers, False)
        self.alignment = dict.fromkeys(self.analyzers, "UNKNOWN")
        self.erat: dict[str, dict] = {}
        self.bench.baud = self.baud
        self._before: dict | None = None

    def register(self) -> None:
        e = self.engine
        e.add("[SOURce]:FREQuency", self._set_rate, lambda p, s: f"{self.baud:.12g}")
        e.add("DATA:LINecoding[:VALue]", self._set_coding, lambda p, s: self.coding[self._loc(p[0], "data")])
        e.add("DATA:LINecoding:PAM4:MAPPing", self._set_mapping,
              lambda p, s: self.mapping[self._loc(p[0], "data")])
        e.add("DATA:SEQuence:SET", self._set_sequence, lambda p, s: self.sequence[self._loc(p[0], "data")])
        e.add("STATus:INSTrument:SLOSs", query=lambda p, s: "1" if self._sync_lost(self._loc(p[0], "analyzer"))
              else "0")
        e.add("INPut:ALIGnment:EYE:AUTO", self._align)
        e.add("INPut:ALIGnment:STATus:VALue", query=lambda p, s: f'"{self.alignment[self._loc(p[0], "analyzer")]}"')
        e.add("PLUGin:ERATio:CATalog", query=lambda p, s: ",".join(f'"{n}"' for n in self.erat) or '""')
        e.add("PLUGin:ERATio:NEW", lambda p, s: self.erat.setdefault(self._name(p, new=True), self._new_erat()))
        e.add("PLUGin:ERATio:DELete", lambda p, s: self.erat.pop(self._name(p)))
        e.add("PLUGin:ERATio:RESet", lambda p, s: self._erat(p).update(gate=None))
        e.add("PLUGin:ERATio:ACQuisition:ALOCation", self._set_alloc, lambda p, s: f"'{self._erat(p)['loc']}'")
        e.add("PLUGin:ERATio:ACQuisition:AEND", self._set_end, lambda p, s: self._erat(p)["end"])
        e.add("PLUGin:ERATio:ACQuisition:DURation", self._set_duration, lambda p, s: self._erat(p)["duration"])
        e.add("PLUGin:ERATio:ACQuisition:TIME", self._set_time, lambda p, s: f"{self._erat(p)['time']:g}")
        e.add("PLUGin:ERATio:STARt", self._start)
        e.add("PLUGin:ERATio:STOP", self._stop)
        e.add("PLUGin:ERATio:RUN", query=lambda p, s: "1" if self._running(self._erat(p)) else "0")
        e.add("PLUGin:ERATio:FETCh[:DATA]", query=self._fetch)

    # --- parameters
    def _loc(self, text: str, kind: str = "any") -> str:
        """A location identifier as the chassis has it; the wrong kind of location is -224."""
        loc = unquote(text)
        pool = {"data": self.generators + self.analyzers, "analyzer": self.analyzers, "clock": self.clocks,
                "any": self.locations}[kind]
        for known in pool:
            if known.upper() == loc.upper():
                return known
        raise ScpiError(-224, f"{loc!r} is not a {kind if kind != 'any' else ''} location of this system "
                              f"(have {', '.join(pool)})")

    def _name(self, params: list[str], new: bool = False) -> str:
        if not params:
            raise ScpiError(-109, "measurement name")
        name = unquote(params[0])
        if not new and name not in self.erat:
            raise ScpiError(-224, f"no ERATio measurement {name!r}")
        return name

    def _erat(self, params: list[str]) -> dict:
        return self.erat[self._name(params)]

    def _new_erat(self) -> dict:
        return {"loc": self.analyzers[0] if self.analyzers else "", "duration": "IND", "end": "FDUR", "time": 1.0,
                "gate": None}

    def _unalign(self, loc: str | None = None) -> None:
        for a in self.analyzers if loc is None else [loc]:
            if a in self.aligned:
                self.aligned[a], self.alignment[a] = False, "UNKNOWN"

    def _set_rate(self, params: list[str], _s) -> None:
        if len(params) != 2:
            raise ScpiError(-109, "use :SOUR:FREQ '<clock>',<Hz>")
        self._loc(params[0], "clock")
        low, high = M8040.pam4_baud
        self.baud = number(params[1], low, high, "HZ")
        self.bench.baud = self.baud
        self._unalign()

    def _set_coding(self, params: list[str], _s) -> None:
        if len(params) != 2:
            raise ScpiError(-109, "use :DATA:LIN '<location>',NRZ|PAM4")
        loc = self._loc(params[0], "data")
        self.coding[loc] = choice(params[1], {"NRZ": "NRZ", "PAM4": "PAM4"})
        self._unalign(loc if loc in self.analyzers else None)

    def _set_mapping(self, params: list[str], _s) -> None:
        if len(params) != 2:
            raise ScpiError(-109, "use :DATA:LIN:PAM4:MAPP '<location>',NONE|GRAY|CUSTom")
        loc = self._loc(params[0], "data")
        self.mapping[loc] = choice(params[1], {"NONE": "NONE", "GRAY": "GRAY", "CUSTom": "CUST"})
        self._unalign(loc if loc in self.analyzers else None)

    def _set_sequence(self, params: list[str], _s) -> None:
        if len(params) < 3:
            raise ScpiError(-109, ":DATA:SEQ:SET '<location>',PRBS,'2^n-1'")
        loc = self._loc(params[0], "data")
        kind = choice(params[1], {"PRBS": "PRBS", "MEMory": "MEMORY", "CLOCk": "CLOCK"})
        value = unquote(params[2])
        if kind == "PRBS":
            order = PRBS_VALUES.get(value)
            allowed = M8040.analyzer_prbs if loc in self.analyzers else M8040.generator_prbs
            if order is None or order not in allowed:
                raise ScpiError(-224, f"PRBS {value} is not available at {loc}")
        self.sequence[loc] = f"{kind},'{value}'"
        self._unalign(loc if loc in self.analyzers else None)

    # --- message-level rule: the generator channels' line coding changes together
    def before_message(self) -> None:
        self._before = dict(self.coding)

    def after_message(self) -> None:
        codings = {self.coding[g] for g in self.generators}
        if len(codings) > 1 and self._before is not None:
            self.coding.update(self._before)
            raise ScpiError(-221, "the generator channels must have the same line coding: set them in one message")

    # --- sync, alignment, the measurement
    def _source_of(self, analyzer: str) -> str:
        return self.generators[0] if self.generators else ""

    def _patterns_match(self, analyzer: str) -> bool:
        gen = self._source_of(analyzer)
        return all(getattr(self, key)[gen] == getattr(self, key)[analyzer]
                   for key in ("sequence", "coding", "mapping"))

    def _eye_open(self, analyzer: str) -> bool:
        return not self.bench.sync_lost(self.baud, self._patterns_match(analyzer))

    def _sync_lost(self, analyzer: str) -> bool:
        return not self.aligned[analyzer] or not self._eye_open(analyzer)

    def _align(self, params: list[str], _s) -> None:
        loc = self._loc(params[0], "analyzer") if params else self.analyzers[0]
        ok = self._eye_open(loc)
        self.aligned[loc], self.alignment[loc] = ok, "SUCCESS" if ok else "FAILED"

    def _set_alloc(self, params: list[str], _s) -> None:
        self._erat(params)["loc"] = self._loc(params[1], "analyzer")

    def _set_end(self, params: list[str], _s) -> None:
        self._erat(params)["end"] = choice(params[1], {"FDURation": "FDUR", "PFAil": "PFA", "NBITs": "NBIT"})

    def _set_duration(self, params: list[str], _s) -> None:
        self._erat(params)["duration"] = choice(params[1], {"FTIMe": "FTIM", "INDefinite": "IND"})

    def _set_time(self, params: list[str], _s) -> None:
        self._erat(params)["time"] = number(params[1], 1e-3, 1e6, "S")

    def _running(self, m: dict) -> bool:
        return m["gate"] is not None and m["gate"].running

    def _start(self, params: list[str], _s) -> None:
        m = self._erat(params)
        if m["duration"] != "FTIM":
            raise ScpiError(-221, "set ACQ:DUR FTIM for a gated measurement")
        loc = m["loc"]
        counts = self.bench.bert_gate(self.baud, m["time"], lost=self._sync_lost(loc))
        m["gate"] = Gate(counts, m["time"], self.bench.time_scale)
        m["stamp"] = time.time()

    def _stop(self, params: list[str], _s) -> None:
        m = self._erat(params)
        if m["gate"] is not None and m["gate"].running:
            m["gate"].counts = m["gate"].so_far()
            m["gate"].length_s = 0.0

    def _fetch(self, params: list[str], _s) -> str:
        m = self._erat(params)
        if m["gate"] is None:
            raise ScpiError(-230, "no accumulated result; start the measurement first")
        c = m["gate"].so_far()
        ones = c["bits"] // 2
        per_level = [c["symbols"] // 4, c["symbol_errors"] // 4] * 4
        fields = [f'"{m["loc"]}"', f"{m['stamp']:.3f}", ones, c["bits"] - ones, c["errors"] // 2,
                  c["errors"] - c["errors"] // 2, c["symbols"], c["symbol_errors"], *per_level]
        return "(" + ",".join(str(f) for f in fields) + ")"


class SimAnritsuMP1900(SimInstrument):
    """MP1900A mainframe with a PAM4 PPG (MU196020A) and a PAM4 ED (MU196040B) in chassis slots."""

    ROLE = "bert"
    DEVICE = "bert-mp1900"

    def reset(self) -> None:
        super().reset()
        self.slots = self.bench.layout.get("mp1900", {7: "MU196020A", 5: "MU196040B"})
        self.unit, self.module = 1, min(self.slots)
        self.baud = 53.125e9
        self.modulation = "NRZ"
        self.ppg_pattern = ("PRBS", 31)
        self.ed_pattern = ("PRBS", 31)
        self.gate_mode, self.gate_unit, self.gate_s = "REP", "TIME", 1.0
        self.gate: Gate | None = None
        self.bench.baud = self.baud

    def register(self) -> None:
        e = self.engine
        e.add("UENTry:ID", self._set_unit, lambda p, s: str(self.unit))
        e.add("MODule:ID", lambda p, s: setattr(self, "module", int(number(p[0], 1, 8))), lambda p, s: str(self.module))
        ppg, ed = self._on("MU196020A"), self._on("MU196040B")
        e.add("SOURce:MODulation:TYPE", ppg(self._set_modulation), ppg(lambda p, s: self.modulation))
        e.add("OUTPut:PAM4:SRATe", ppg(self._pam4(self._set_rate)),
              ppg(self._pam4(lambda p, s: f"{self.baud / 1e9:.6f}")))
        e.add("SOURce:PATTern:TYPE", ppg(lambda p, s: self._set_type("ppg", p)), ppg(lambda p, s: self.ppg_pattern[0]))
        e.add("SOURce:PATTern:PAM4:PRBS:LENGth", ppg(self._pam4(lambda p, s: self._set_length("ppg", p))),
              ppg(self._pam4(lambda p, s: str(self.ppg_pattern[1]))))
        e.add("SENSe:PATTern:TYPE", ed(lambda p, s: self._set_type("ed", p)), ed(lambda p, s: self.ed_pattern[0]))
        e.add("SENSe:PATTern:PRBS:LENGth", ed(lambda p, s: self._set_length("ed", p)),
              ed(lambda p, s: str(self.ed_pattern[1])))
        modes = {"SINGle": "SING", "REPeat": "REP", "UNTimed": "UNT"}
        e.add("SENSe:MEASure:EALarm:MODE", ed(lambda p, s: setattr(self, "gate_mode", choice(p[0], modes))),
              ed(lambda p, s: self.gate_mode))
        units = {"TIME": "TIME", "CLOCk": "CLOC", "ERRor": "ERR", "BLOCk": "BLOC"}
        e.add("SENSe:MEASure:EALarm:UNIT", ed(lambda p, s: setattr(self, "gate_unit", choice(p[0], units))),
              ed(lambda p, s: self.gate_unit))
        e.add("SENSe:MEASure:EALarm:PERiod", ed(self._set_period), ed(lambda p, s: self._period_text()))
        e.add("SENSe:MEASure:STARt", ed(self._start))
        e.add("SENSe:MEASure:STOP", ed(self._stop))
        e.add("SENSe:MEASure:EALarm:STATe", query=ed(lambda p, s: "1" if self.gate and self.gate.running else "0"))
        e.add("CALCulate:DATA:EALarm", query=ed(self._result))
        e.add("CALCulate:DATA:MONitor", query=ed(self._monitor))

    def _on(self, module: str):
        """Wrap a handler so that it runs only while a ``module`` is the selected slot (-113 otherwise)."""
        def wrap(handler):
            def run(params, suffixes):
                if self.slots.get(self.module) != module:
                    raise ScpiError(-113, f"no {module} in slot {self.module} ({self.slots.get(self.module, 'empty')})")
                return handler(params, suffixes)
            return run
        return wrap

    def _pam4(self, handler):
        def run(params, suffixes):
            if self.modulation != "PAM4":
                raise ScpiError(-221, "PAM4 command while the modulation type is " + self.modulation)
            return handler(params, suffixes)
        return run

    def _set_unit(self, params: list[str], _s) -> None:
        self.unit = int(number(params[0], 1, 1))

    def _set_modulation(self, params: list[str], _s) -> None:
        self.modulation = choice(params[0], {"NRZ": "NRZ", "PAM3": "PAM3", "PAM4": "PAM4"})

    def _set_rate(self, params: list[str], _s) -> None:
        low, high = MP1900.pam4_baud
        self.baud = number(params[0], low / 1e9, high / 1e9) * 1e9
        self.bench.baud = self.baud

    def _set_type(self, which: str, params: list[str]) -> None:
        kind = choice(params[0], {"PRBS": "PRBS", "DATA": "DATA", "PRTS": "PRTS", "ZSUBstitution": "ZSUB"})
        current = getattr(self, f"{which}_pattern")
        setattr(self, f"{which}_pattern", (kind, current[1]))

    def _set_length(self, which: str, params: list[str]) -> None:
        order = int(number(params[0]))
        if order not in (7, 9, 10, 11, 13, 15, 19, 20, 23, 31):
            raise ScpiError(-222, f"PRBS length {order}")
        setattr(self, f"{which}_pattern", (getattr(self, f"{which}_pattern")[0], order))

    def _set_period(self, params: list[str], _s) -> None:
        if len(params) != 4:
            raise ScpiError(-109, "PER d,h,m,s")
        d, h, m, s = (int(number(v, 0, 99)) for v in params)
        total = d * 86400 + h * 3600 + m * 60 + s
        if total < 1:
            raise ScpiError(-222, "gating period must be >= 1 s")
        self.gate_s = float(total)

    def _period_text(self) -> str:
        total = int(self.gate_s)
        d, rest = divmod(total, 86400)
        h, rest = divmod(rest, 3600)
        m, s = divmod(rest, 60)
        return f"{d},{h},{m},{s}"

    def _match(self) -> bool:
        return self.ppg_pattern == self.ed_pattern and self.modulation == "PAM4"

    def _start(self, _p, _s) -> None:
        if self.gate_unit != "TIME":
            raise ScpiError(-221, "only time gating is simulated")
        counts = self.bench.bert_gate(self.baud, self.gate_s, lost=self.bench.sync_lost(self.baud, self._match()))
        self.gate = Gate(counts, self.gate_s, self.bench.time_scale)

    def _stop(self, _p, _s) -> None:
        if self.gate is not None and self.gate.running:
            self.gate.counts, self.gate.length_s = self.gate.so_far(), 0.0

    def _result(self, params: list[str], _s) -> str:
        item = unquote(split_params(",".join(params))[0]).upper() if params else ""
        if self.gate is None:
            return '"-------"'
        c = self.gate.so_far()
        values = {"CURRENT:EC:TOTAL": str(c["errors"]), "CURRENT:CC:TOTAL": str(c["bits"]),
                  "CURRENT:ER:TOTAL": f"{c['errors'] / c['bits']:.4E}" if c["bits"] else "-------"}
        if item not in values:
            raise ScpiError(-224, f"result item {item!r} is not simulated")
        return f'"{values[item]}"'

    def _monitor(self, params: list[str], _s) -> str:
        item = unquote(params[0]).upper() if params else ""
        if item != "PSLOSS":
            raise ScpiError(-224, f"monitor item {item!r} is not simulated")
        lost = self.bench.sync_lost(self.baud, self._match())
        return '"Occur"' if lost else '"Not Occur"'

