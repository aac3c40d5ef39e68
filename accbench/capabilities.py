"""What each supported instrument model can do, with the document each limit comes from.

One table, used by the drivers (a request outside it is refused before anything is sent) and by
the simulated instruments (which reject the same requests with the SCPI error the real one
gives). A shared leaf: it imports nothing of the project but the errors. Values a document did
not give are ``None`` (not checked here; the instrument itself answers) and say so in ``notes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from accbench.errors import InputError

#: PAM4 test patterns -> (PRBS order of the bit stream, whether the pattern is defined Gray-coded).
#: PRBS13Q / PRBS31Q are the PRBS13 / PRBS31 bit streams Gray-mapped to PAM4 (IEEE 802.3 120.5.11.2).
PATTERN_ORDERS = {f"PRBS{n}": n for n in (7, 9, 10, 11, 13, 15, 20, 23, 31)} | {"PRBS13Q": 13, "PRBS31Q": 31}
GRAY_PATTERNS = ("PRBS13Q", "PRBS31Q", "SSPRQ")

M8000_UG = "Keysight M8000 Series of BER Test Solutions User Guide"
M8070_PG = "Keysight M8070A Programming Guide (M8020-91040, ed. 9.1)"
MP1900_DRV = "public MP1900A PPG driver (code corpus, class InstrumentBertAnritsu)"
KEYSIGHT_HELP = "Keysight VNA Series Help A.19.30 (Zeus-Kairos/Metis Docs/VNA_Help_MD)"
N6705_GUIDES = "Keysight N6705C User's Guide / N6700 User's Guide; NI-CVI N6700 IVI driver range table"


@dataclass(frozen=True)
class BertModel:
    """A PAM4 BERT: symbol-rate range, patterns of generator and analyzer, codings, locations."""

    model: str
    maker: str
    dialect: str
    pam4_baud: tuple[float, float]  # programmable PAM4 symbol-rate range (Bd)
    specified_max_baud: float  # top of the specified (not over-programmed) range
    generator_prbs: frozenset[int]
    analyzer_prbs: frozenset[int]
    mappings: tuple[str, ...]  # PAM4 bit-to-symbol mappings the instrument names
    locations: dict[str, str | int | None]  # where generator/analyzer live; None: must be given
    sources: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    kind: str = "bert"

    def patterns(self, side: str = "analyzer") -> list[str]:
        """Names of the patterns a side (generator/analyzer) accepts; SSPRQ needs a pattern file."""
        orders = self.analyzer_prbs if side == "analyzer" else self.generator_prbs
        return [name for name, n in PATTERN_ORDERS.items() if n in orders] + ["SSPRQ"]

    def problems(self, baud: float, pattern: str, gray: bool = True) -> list[str]:
        """Why a PAM4 error count at ``baud`` with ``pattern`` cannot run on this model (empty: it can)."""
        out = []
        low, high = self.pam4_baud
        if not low <= baud <= high:
            out.append(f"{self.model} runs PAM4 at {low / 1e9:g}-{high / 1e9:g} GBd "
                       f"({self.specified_max_baud / 1e9:g} GBd specified), not {baud / 1e9:g} GBd "
                       f"[{self.sources.get('rate', '')}]")
        name = pattern.upper()
        if name != "SSPRQ":
            if name not in PATTERN_ORDERS:
                out.append(f"pattern {pattern!r} is not one of {', '.join(PATTERN_ORDERS)}, SSPRQ")
            elif PATTERN_ORDERS[name] not in self.analyzer_prbs:
                order = PATTERN_ORDERS[name]
                out.append(f"the {self.model}'s error detector does not accept {name} (PRBS 2^{order}-1); "
                           f"use one of {', '.join(self.patterns())} [{self.sources.get('patterns', '')}]")
        if name in GRAY_PATTERNS and not gray:
            out.append(f"{name} is defined Gray-coded; drop --no-gray")
        return out

    def describe(self) -> dict:
        return {"model": self.model, "maker": self.maker, "dialect": self.dialect,
                "pam4_gbd_range": [b / 1e9 for b in self.pam4_baud], "specified_max_gbd": self.specified_max_baud / 1e9,
                "generator_patterns": self.patterns("generator"), "analyzer_patterns": self.patterns("analyzer"),
                "mappings": list(self.mappings), "locations": dict(self.locations), "sources": dict(self.sources),
                "notes": list(self.notes)}


@dataclass(frozen=True)
class VnaModel:
    """A vector network analyzer: ports, frequency range, points, IF bandwidth, stimulus query."""

    model: str
    maker: str
    dialect: str
    ports: int
    freq_hz: tuple[float, float] | None
    max_points: int | None
    ifbw_hz: tuple[float, float] | None
    sens_x_query: bool  # whether the superseded SENS:X? exists on this model
    sources: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    kind: str = "vna"

    def problems(self, start_hz: float, stop_hz: float, points: int) -> list[str]:
        """Why a sweep cannot run on this model (empty: it can, as far as the table knows)."""
        out = []
        if self.freq_hz is not None:
            low, high = self.freq_hz
            if start_hz < low or stop_hz > high:
                out.append(f"the {self.model} sweeps {low / 1e9:g}-{high / 1e9:g} GHz, not "
                           f"{start_hz / 1e9:g}-{stop_hz / 1e9:g} GHz [{self.sources.get('range', '')}]")
        if self.max_points is not None and points > self.max_points:
            out.append(f"the {self.model} sweeps at most {self.max_points} points, not {points}")
        return out

    def describe(self) -> dict:
        return {"model": self.model, "maker": self.maker, "dialect": self.dialect, "ports": self.ports,
                "freq_ghz_range": None if self.freq_hz is None else [f / 1e9 for f in self.freq_hz],
                "max_points": self.max_points, "ifbw_hz_range": None if self.ifbw_hz is None else list(self.ifbw_hz),
                "sources": dict(self.sources), "notes": list(self.notes)}


@dataclass(frozen=True)
class PowerModule:
    """One module of an N6700-family mainframe: ratings and how its current limit is set."""

    model: str
    max_v: float
    max_a: float
    max_w: float
    smu: bool  # N678xA: CURR:LIM in voltage priority; others: CURR is the limit
    min_interval_s: float  # shortest array-capture sample interval, one quantity
    source: str


@dataclass(frozen=True)
class PowerModel:
    """A DC power analyzer mainframe."""

    model: str
    maker: str
    dialect: str
    channels: int
    max_points: int
    sources: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    kind: str = "power"

    def describe(self) -> dict:
        return {"model": self.model, "maker": self.maker, "dialect": self.dialect, "channels": self.channels,
                "max_points": self.max_points,
                "modules_known": [f"{m.model} ({'SMU, ' if m.smu else ''}{m.max_v:g} V, {m.max_a:g} A, {m.max_w:g} W)"
                                  for m in POWER_MODULES.values()],
                "sources": dict(self.sources), "notes": list(self.notes)}


_ALL_PRBS = frozenset((7, 9, 10, 11, 13, 15, 20, 23, 31))

BERTS: dict[str, BertModel] = {
    "M8040A": BertModel(
        "M8040A", "Keysight", "keysight-m8040", (2.0e9, 64.8e9), 58.0e9, _ALL_PRBS, _ALL_PRBS - {7},
        ("NONE", "GRAY", "CUSTom"),
        {"generator": "M1.DataOut1", "generator_group": "M1.DataOut1,M1.DataOut2", "analyzer": "M2.DataIn",
         "clock": "M1.ClkGen"},
        {"rate": f"{M8000_UG} p. 277 (M8045A-G64: 2.0-58.0 GBd, over-programmable to 64.8 GBd)",
         "patterns": f"{M8000_UG} p. 358 (analyzer: every PRBS except 2^7-1)",
         "mappings": f"{M8070_PG} p. 490 (:DATA:LIN:PAM4:MAPP NONE|GRAY|CUSTom)",
         "locations": f"{M8070_PG} p. 490 (example 'M2.DataIn'); module numbers depend on the chassis"},
        ("106.25 GBd PAM4 is beyond the M8040A; no 106.25 GBd BERT with documented SCPI error counting was "
         "found (M8050A / M8070B guides not available), so accbench measures BER at the rates documented models reach",
         "the PRBS orders beyond those the guides name (7, 9, 15, 23, 31) are taken from public drivers: unconfirmed")),
    "MP1900A": BertModel(
        "MP1900A", "Anritsu", "anritsu-mp1900", (2.4e9, 64.2e9), 58.2e9, _ALL_PRBS, _ALL_PRBS,
        ("GRAY",), {"ppg_module": None, "ed_module": None, "unit": 1},
        {"rate": f"{MP1900_DRV}: :OUTP:PAM4:SRAT guarded to 2.4-64.2 GBd (no Anritsu manual in reach)",
         "patterns": f"{MP1900_DRV}: PAM4 PRBS lengths 7|9|10|11|13|15|19|20|23|31 (unconfirmed)",
         "locations": f"{MP1900_DRV} (PPG in slot 7 on its chassis); slots depend on the chassis: give them"},
        ("no Anritsu manual was reachable: every command is confirmed by public driver code only, the PAM4 ED "
         "commands by none (marked unconfirmed in the dialect reference)",
         "the PPG and ED slots must be given (bench file [bert] ppg_module / ed_module, CLI --location): "
         "no documented way to list the modules")),
}

VNAS: dict[str, VnaModel] = {
    "N5247B": VnaModel("N5247B", "Keysight", "keysight-pna", 4, (10e6, 67e9), 100_003, (1.0, 15e6), True,
                       {"range": f"{KEYSIGHT_HELP} Support/Configurations.md",
                        "points": f"{KEYSIGHT_HELP} S1_Settings/Sweep.md (1 to 100,003 points)"}),
    "N5227B": VnaModel("N5227B", "Keysight", "keysight-pna", 4, (10e6, 67e9), 100_003, (1.0, 15e6), True,
                       {"range": f"{KEYSIGHT_HELP} Support/Configurations.md"}),
    "N5225B": VnaModel("N5225B", "Keysight", "keysight-pna", 4, (10e6, 50e9), 100_003, (1.0, 15e6), True,
                       {"range": f"{KEYSIGHT_HELP} Support/Configurations.md"}),
    "N5245B": VnaModel("N5245B", "Keysight", "keysight-pna", 4, (10e6, 50e9), 100_003, (1.0, 15e6), True,
                       {"range": f"{KEYSIGHT_HELP} Support/Configurations.md"}),
    "E5080B": VnaModel("E5080B", "Keysight", "keysight-pna", 4, None, None, None, False,
                       {"commands": f"{KEYSIGHT_HELP}: SENS:X? not applicable (Sense/X-Axis.md)"},
                       ("frequency range, points and IF bandwidth depend on options and were not found in a "
                        "document here: the instrument's own -222 answers them",)),
    "ZNA67": VnaModel("ZNA67", "Rohde & Schwarz", "rs-zna", 4, None, None, None, False,
                      {"commands": "R&S ZNA user manual 1178.6462.02"},
                      ("frequency range, points and IF bandwidth were not found in a document here "
                       "(10 MHz-67 GHz expected): the instrument's own -222 answers them",)),
}

POWER_MODULES: dict[str, PowerModule] = {
    m.model: m for m in (
        PowerModule("N6781A", 20.4, 3.06, 20.0, True, 5.12e-6, N6705_GUIDES),
        PowerModule("N6782A", 20.4, 3.06, 20.0, True, 5.12e-6, N6705_GUIDES),
        PowerModule("N6784A", 20.4, 3.06, 20.0, True, 5.12e-6, N6705_GUIDES),
        PowerModule("N6785A", 20.4, 8.0, 80.0, True, 5.12e-6, N6705_GUIDES),
        PowerModule("N6786A", 20.4, 8.0, 80.0, True, 5.12e-6, N6705_GUIDES),
        PowerModule("N6761A", 51.0, 1.53, 50.0, False, 10.24e-6, N6705_GUIDES),
        PowerModule("N6762A", 51.0, 3.06, 100.0, False, 10.24e-6, N6705_GUIDES),
        PowerModule("N6751A", 51.0, 5.1, 50.0, False, 10.24e-6, N6705_GUIDES),
        PowerModule("N6752A", 51.0, 10.2, 100.0, False, 10.24e-6, N6705_GUIDES),
        PowerModule("N6732B", 8.16, 6.375, 50.0, False, 10.24e-6, N6705_GUIDES),
        PowerModule("N6742B", 8.16, 12.75, 100.0, False, 10.24e-6, N6705_GUIDES),
    )
}

POWERS: dict[str, PowerModel] = {
    "N6705C": PowerModel("N6705C", "Keysight", "keysight-n6705", 4, 524_288,
                         {"current_limit": "N6705C User's Guide p. 198; NI-CVI range table: CURR:LIM on N678xA "
                                           "SMUs only, CURR elsewhere",
                          "status": "N6705C Operating and Service Guide p. 350 (STAT:QUES bit 1 = OC)",
                          "array": "N6705C User's Guide p. 213 (SENS:SWE:TINT minima)"},
                         ("array points 1..524288 are from public drivers (unconfirmed)",)),
}

_TABLES: dict[str, dict] = {"bert": BERTS, "vna": VNAS, "power": POWERS}


def capability_for(kind: str, model: str):
    """The capability of ``model`` (an ``*IDN?`` model field: matched by the table's model names)."""
    table = _TABLES.get(kind)
    if table is None:
        raise InputError(f"unknown instrument kind {kind!r}")
    for name, cap in table.items():
        if re.search(re.escape(name), model, re.IGNORECASE) or model.upper().startswith(name.upper()):
            return cap
    if kind == "bert" and re.search(r"M80(40|45|46|70)", model, re.IGNORECASE):
        return BERTS["M8040A"]  # M8070 system software reports itself; the only M8070 BERT supported here
    return None


def known_models(kind: str) -> list[str]:
    return list(_TABLES[kind])
