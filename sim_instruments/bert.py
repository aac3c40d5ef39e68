"""Simulated PAM4 BERTs: Keysight M8040A (M8070 SCPI) and Anritsu MP1900A, counting errors drawn
from the link model of the connected cable (binomial in the model's symbol-error ratio, so a
short gate at a low BER shows zero errors). Gates run in simulated time: ``*OPC?`` answers at once."""

from __future__ import annotations

import time

from sim_instruments.base import SimInstrument
from sim_instruments.scpi import ScpiError, choice, number, split_params, unquote

M8070_LOCATIONS = ("M1.DataOut1", "M1.DataOut2", "M1.DataIn1", "M1.DataIn2", "M1.ClkGen", "M1.System")


class SimKeysightM8040(SimInstrument):
    """M8070 dialect: locations as quoted identifiers, ERATio plugin measurements."""

    ROLE = "bert"
    DEVICE = "bert-m8040"

    def reset(self) -> None:
        super().reset()
        self.baud = 53.125e9
        self.coding = {loc: "NRZ" for loc in M8070_LOCATIONS}
        self.mapping = {loc: "GRAY" for loc in M8070_LOCATIONS}
        self.sequence = {loc: "PRBS,'2^31-1'" for loc in M8070_LOCATIONS}
        self.erat: dict[str, dict] = {}
        self.bench.baud = self.baud

    def register(self) -> None:
        e = self.engine
        e.add("SOURce:FREQuency", self._set_rate, lambda p, s: f"{self.baud:.12g}")
        e.add("DATA:LINecoding", self._set_coding, lambda p, s: self.coding[self._loc(p[0])])
        e.add("DATA:LINecoding:PAM4:MAPPing", self._set_mapping, lambda p, s: self.mapping[self._loc(p[0])])
        e.add("DATA:SEQuence:SET", self._set_sequence, lambda p, s: self.sequence[self._loc(p[0])])
        e.add("STATus:INSTrument:SLOSs", query=lambda p, s: "1" if self._sync_lost(self._loc(p[0])) else "0")
        e.add("PLUGin:ERATio:CATalog", query=lambda p, s: ",".join(f'"{n}"' for n in self.erat) or '""')
        e.add("PLUGin:ERATio:NEW", lambda p, s: self.erat.setdefault(self._name(p, new=True), self._new_erat()))
        e.add("PLUGin:ERATio:DELete", lambda p, s: self.erat.pop(self._name(p)))
        e.add("PLUGin:ERATio:ACQuisition:ALOCation", self._set_alloc, lambda p, s: f"'{self._erat(p)['loc']}'")
        e.add("PLUGin:ERATio:ACQuisition:DURation", self._set_duration, lambda p, s: self._erat(p)["duration"])
        e.add("PLUGin:ERATio:ACQuisition:TIME", self._set_time, lambda p, s: f"{self._erat(p)['time']:g}")
        e.add("PLUGin:ERATio:STARt", self._start)
        e.add("PLUGin:ERATio:STOP", lambda p, s: None)
        e.add("PLUGin:ERATio:RUN", query=lambda p, s: "0")
        e.add("PLUGin:ERATio:FETCh", query=self._fetch)

    # --- parameters
    @staticmethod
    def _loc(text: str) -> str:
        loc = unquote(text)
        for known in M8070_LOCATIONS:
            if known.upper() == loc.upper():
                return known
        raise ScpiError(-224, f"unknown location {loc!r}")

    def _name(self, params: list[str], new: bool = False) -> str:
        if not params:
            raise ScpiError(-109, "measurement name")
        name = unquote(params[0])
        if not new and name not in self.erat:
            raise ScpiError(-224, f"no ERATio measurement {name!r}")
        return name

    def _erat(self, params: list[str]) -> dict:
        return self.erat[self._name(params)]

    @staticmethod
    def _new_erat() -> dict:
        return {"loc": "M1.DataIn1", "duration": "IND", "time": 1.0, "result": None}

    def _set_rate(self, params: list[str], _s) -> None:
        if len(params) != 2 or self._loc(params[0]) != "M1.ClkGen":
            raise ScpiError(-224, "use :SOUR:FREQ 'M1.ClkGen',<Hz>")
        self.baud = number(params[1], 2e9, 120e9, "HZ")
        self.bench.baud = self.baud

    def _set_coding(self, params: list[str], _s) -> None:
        self.coding[self._loc(params[0])] = choice(params[1], {"NRZ": "NRZ", "PAM4": "PAM4", "PAM3": "PAM3"})

    def _set_mapping(self, params: list[str], _s) -> None:
        self.mapping[self._loc(params[0])] = choice(params[1], {"GRAY": "GRAY", "UNCoded": "UNC"})

    def _set_sequence(self, params: list[str], _s) -> None:
        if len(params) < 3:
            raise ScpiError(-109, "DATA:SEQ:SET '<loc>',PRBS,'2^n-1'")
        kind = choice(params[1], {"PRBS": "PRBS", "FILE": "FILE"})
        value = unquote(params[2])
        if kind == "PRBS" and value not in {f"2^{n}-1" for n in (7, 9, 10, 11, 13, 15, 23, 31)}:
            raise ScpiError(-224, f"PRBS {value}")
        self.sequence[self._loc(params[0])] = f"{kind},'{value}'"

    def _set_alloc(self, params: list[str], _s) -> None:
        self._erat(params)["loc"] = self._loc(params[1])

    def _set_duration(self, params: list[str], _s) -> None:
        self._erat(params)["duration"] = choice(params[1], {"FTIMe": "FTIM", "INDefinite": "IND"})

    def _set_time(self, params: list[str], _s) -> None:
        self._erat(params)["time"] = number(params[1], 1e-3, 1e6, "S")

    # --- the measurement
    def _patterns_match(self, loc: str) -> bool:
        gen = "M1.DataOut1" if loc.endswith("1") else "M1.DataOut2"
        return (self.sequence[gen] == self.sequence[loc] and self.coding[gen] == self.coding[loc]
                and self.mapping[gen] == self.mapping[loc])

    def _sync_lost(self, loc: str) -> bool:
        return self.bench.sync_lost(self.baud, self._patterns_match(loc))

    def _start(self, params: list[str], _s) -> None:
        m = self._erat(params)
        if m["duration"] != "FTIM":
            raise ScpiError(-221, "set ACQ:DUR FTIM for a gated measurement")
        counts = self.bench.bert_gate(self.baud, m["time"], self._patterns_match(m["loc"]))
        m["result"] = (time.time(), m["loc"], counts)

    def _fetch(self, params: list[str], _s) -> str:
        m = self._erat(params)
        if m["result"] is None:
            raise ScpiError(-230, "no accumulated result; start the measurement first")
        stamp, loc, c = m["result"]
        ones = c["bits"] // 2
        per_level = [c["symbols"] // 4, c["symbol_errors"] // 4] * 4
        fields = [f"{stamp:.3f}", f'"{loc}"', ones, c["bits"] - ones, c["errors"] // 2, c["errors"] - c["errors"] // 2,
                  c["symbols"], c["symbol_errors"], *per_level]
        return "(" + ",".join(str(f) for f in fields) + ")"


class SimAnritsuMP1900(SimInstrument):
    """MP1900A dialect: module selection, :SENS:MEAS gating, quoted :CALC:DATA:EAL? results."""

    ROLE = "bert"
    DEVICE = "bert-mp1900"

    def reset(self) -> None:
        super().reset()
        self.module = 1
        self.baud = 53.125e9
        self.ppg_pattern = ("PRBS", 31)
        self.ed_pattern = ("PRBS", 31)
        self.gate_mode, self.gate_unit, self.gate_s = "REP", "TIME", 1.0
        self.counts: dict | None = None
        self.bench.baud = self.baud

    def register(self) -> None:
        e = self.engine
        e.add("MODule:ID", lambda p, s: setattr(self, "module", int(number(p[0], 1, 8))), lambda p, s: str(self.module))
        e.add("OUTPut:PAM4:SRATe", self._set_rate, lambda p, s: f"{self.baud / 1e9:.6f}")
        e.add("SOURce:PATTern:TYPE", lambda p, s: self._set_type("ppg", p), lambda p, s: self.ppg_pattern[0])
        e.add("SOURce:PATTern:PAM4:PRBS:LENGth", lambda p, s: self._set_length("ppg", p),
              lambda p, s: str(self.ppg_pattern[1]))
        e.add("SENSe:PATTern:TYPE", lambda p, s: self._set_type("ed", p), lambda p, s: self.ed_pattern[0])
        e.add("SENSe:PATTern:PRBS:LENGth", lambda p, s: self._set_length("ed", p), lambda p, s: str(self.ed_pattern[1]))
        modes = {"SINGle": "SING", "REPeat": "REP", "UNTimed": "UNT"}
        e.add("SENSe:MEASure:EALarm:MODE", lambda p, s: setattr(self, "gate_mode", choice(p[0], modes)),
              lambda p, s: self.gate_mode)
        e.add("SENSe:MEASure:EALarm:UNIT",
              lambda p, s: setattr(self, "gate_unit", choice(p[0], {"TIME": "TIME", "CLOCk": "CLOC", "ERRor": "ERR",
                                                                    "BLOCk": "BLOC"})),
              lambda p, s: self.gate_unit)
        e.add("SENSe:MEASure:EALarm:PERiod", self._set_period, lambda p, s: self._period_text())
        e.add("SENSe:MEASure:STARt", self._start)
        e.add("SENSe:MEASure:STOP", lambda p, s: None)
        e.add("SENSe:MEASure:EALarm:STATe", query=lambda p, s: "0")
        e.add("CALCulate:DATA:EALarm", query=self._result)
        e.add("CALCulate:DATA:MONitor", query=self._monitor)

    def _set_rate(self, params: list[str], _s) -> None:
        self.baud = number(params[0], 2.4, 64.2) * 1e9
        self.bench.baud = self.baud

    def _set_type(self, which: str, params: list[str]) -> None:
        kind = choice(params[0], {"PRBS": "PRBS", "DATA": "DATA", "ZSUBstitution": "ZSUB"})
        current = getattr(self, f"{which}_pattern")
        setattr(self, f"{which}_pattern", (kind, current[1]))

    def _set_length(self, which: str, params: list[str]) -> None:
        order = int(number(params[0]))
        if order not in (7, 9, 10, 11, 13, 15, 20, 23, 31):
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

    def _start(self, _p, _s) -> None:
        if self.gate_unit != "TIME":
            raise ScpiError(-221, "only time gating is simulated")
        self.counts = self.bench.bert_gate(self.baud, self.gate_s, self.ppg_pattern == self.ed_pattern)

    def _result(self, params: list[str], _s) -> str:
        item = unquote(split_params(",".join(params))[0]).upper() if params else ""
        if self.counts is None:
            return '"-------"'
        c = self.counts
        values = {"CURRENT:EC:TOTAL": str(c["errors"]), "CURRENT:CC:TOTAL": str(c["bits"]),
                  "CURRENT:ER:TOTAL": f"{c['errors'] / c['bits']:.4E}"}
        if item not in values:
            raise ScpiError(-224, f"result item {item!r} is not simulated")
        return f'"{values[item]}"'

    def _monitor(self, params: list[str], _s) -> str:
        item = unquote(params[0]).upper() if params else ""
        if item != "PSLOSS":
            raise ScpiError(-224, f"monitor item {item!r} is not simulated")
        lost = self.bench.sync_lost(self.baud, self.ppg_pattern == self.ed_pattern)
        return '"Occur"' if lost else '"Not Occur"'
