"""Qualification plan (TOML): run settings, gates, cables and the wire lots they were made from.

Every input is validated before any instrument is touched; all problems are reported together,
each naming the field (and the CSV line for lots read from a file) and the fix.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accbench.bench.tomlfile import read_toml

from accbench.errors import InputError

GRADES = ("Cu-ETP", "Cu-OFC")


class PlanError(InputError):
    """A plan that cannot be run; the message lists every problem found."""


@dataclass(frozen=True)
class Lot:
    """A wire lot: surface carbon (mg/m^2) and the properties that set the wire's loss."""

    id: str
    carbon_mg_m2: float
    grade: str = "Cu-ETP"
    awg: float | None = 26.0
    diameter_mm: float | None = None
    roughness_um: float = 0.0
    oxygen_ppm: float | None = None


@dataclass(frozen=True)
class Cable:
    serial: str
    lot: str
    length_m: float
    awg: float | None = None
    lanes: int = 1


@dataclass(frozen=True)
class Gates:
    reach_m: float = 3.0
    stretch_m: float = 5.0
    power_w_max: float = 5.0
    il_mask: str | None = None
    com_db_min: float = 3.0  # IEEE COM of each com_clauses rate
    erl_db_min: float | None = None  # None: the clause's own ERL limit, where it gives one


@dataclass(frozen=True)
class Plan:
    name: str
    rates_gbd: tuple[float, ...]
    target_ber: float
    seed: int
    gates: Gates
    lots: dict[str, Lot]
    cables: tuple[Cable, ...]
    source: str = ""
    gate_s: float = 1.0
    pattern: str = "PRBS13Q"
    sim: dict = field(default_factory=dict)  # the [sim] table as written: the simulator validates and uses it
    ber_rates_gbd: tuple[float, ...] | None = None  # rates the BERT measures (None: all); the rest by the models
    com_clauses: tuple[str, ...] = ()  # IEEE COM/ERL clauses, each at the rate equal to its baud

    @property
    def measured_rates_gbd(self) -> tuple[float, ...]:
        """The rates at which the BERT counts errors; the others are judged by the link model alone."""
        return self.rates_gbd if self.ber_rates_gbd is None else self.ber_rates_gbd

    def to_dict(self) -> dict:
        return {"name": self.name, "rates_gbd": list(self.rates_gbd), "ber_rates_gbd": list(self.measured_rates_gbd),
                "com_clauses": list(self.com_clauses),
                "target_ber": self.target_ber,
                "seed": self.seed, "gate_s": self.gate_s, "pattern": self.pattern, "gates": asdict(self.gates),
                "lots": [asdict(lot) for lot in self.lots.values()], "cables": [asdict(c) for c in self.cables],
                "sim": self.sim}


class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def number(self, where: str, value, low: float | None = None, high: float | None = None,
               required: bool = True) -> float | None:
        if value is None:
            if required:
                self.add(f"{where} is missing")
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.add(f"{where} = {value!r} is not a number")
            return None
        if (low is not None and number < low) or (high is not None and number > high):
            self.add(f"{where} = {number:g} is out of range {low:g}..{high:g}")
            return None
        return number


def _lot(p: _Problems, where: str, row: dict) -> Lot | None:
    known = {"id", "carbon_mg_m2", "grade", "awg", "diameter_mm", "roughness_um", "oxygen_ppm"}
    for key in set(row) - known:
        p.add(f"{where}: unknown column/key {key!r} (use {', '.join(sorted(known))})")
    raw_id = str(row.get("id") if row.get("id") is not None else "")
    lot_id = raw_id.strip()
    if not lot_id:
        p.add(f"{where}: id is missing")
    elif _bad_name(raw_id):
        p.add(f"{where}: id {raw_id!r} {_bad_name(raw_id)}")
        lot_id = ""
    carbon = p.number(f"{where} carbon_mg_m2", row.get("carbon_mg_m2"), 0, 1000)
    grade = str(row.get("grade") or "Cu-ETP").strip()
    if grade not in GRADES:
        p.add(f"{where} grade = {grade!r}: use {' or '.join(GRADES)}")
    awg = p.number(f"{where} awg", _blank(row.get("awg")), 20, 40, required=False)
    diameter = p.number(f"{where} diameter_mm", _blank(row.get("diameter_mm")), 0.02, 5, required=False)
    rough = p.number(f"{where} roughness_um", _blank(row.get("roughness_um")), 0, 5, required=False) or 0.0
    oxygen = p.number(f"{where} oxygen_ppm", _blank(row.get("oxygen_ppm")), 0, 1000, required=False)
    if awg is None and diameter is None:
        awg = 26.0
    if not lot_id or carbon is None:
        return None
    return Lot(lot_id, carbon, grade, awg, diameter, rough, oxygen)


def _bad_name(name: str) -> str | None:
    """Why a serial or lot id cannot name its group in the HDF5 run record (and a report file); None if it can."""
    if name in (".", ".."):
        return f"cannot be {name!r} alone (it is a path in the run record)"
    if "/" in name:
        return "contains '/' (the run record's path separator)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "contains a control character (NUL, newline or tab)"
    if name != name.strip():
        return "has leading or trailing spaces"
    return None


def _blank(value):
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _lots_from_csv(p: _Problems, path: Path) -> list[Lot]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        p.add(f"lots_csv {path}: cannot read ({exc.strerror})")
        return []
    lots = []
    reader = csv.DictReader(text.splitlines())
    for line, row in enumerate(reader, start=2):
        if None in row:
            p.add(f"{path.name} line {line}: more values than columns")
            continue
        lot = _lot(p, f"{path.name} line {line}", row)
        if lot:
            lots.append(lot)
    return lots


def _com_clauses(p: _Problems, value, rates: list[float]) -> tuple[str, ...]:
    """``[run] com_clauses``: known clause tables, each at one of the plan's rates."""
    from accbench.dsp.com.params import clause_names, load_clause

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        p.add(f"[run] com_clauses = {value!r}: give a list of clause names, e.g. [\"802.3ck-cr\", \"802.3dj-cr\"]")
        return ()
    known = clause_names()
    at: dict[str, str] = {}
    for name in value:
        if name not in known:
            p.add(f"[run] com_clauses: unknown clause {name!r}; use {', '.join(known)}")
            continue
        gbd = load_clause(name).baud / 1e9
        if f"{gbd:g}" in at:
            p.add(f"[run] com_clauses: {name} and {at[f'{gbd:g}']} both run at {gbd:g} GBd; give one per rate")
        at[f"{gbd:g}"] = name
        if not any(abs(gbd - r) < 1e-6 for r in rates):
            p.add(f"[run] com_clauses: {name} runs at {gbd:g} GBd, which is not one of rates_gbd")
    return tuple(value)


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan; a ``PlanError`` lists every problem (nothing is run)."""
    path = Path(path)
    data, source = read_toml(path, "plan", PlanError)
    return parse_plan(data, path.parent, source)


def parse_plan(data: dict, base_dir: Path = Path("."), source: str = "") -> Plan:
    p = _Problems()
    run = data.get("run", {})
    name = str(run.get("name") or "").strip()
    if not name:
        p.add("[run] name is missing")
    rates = run.get("rates_gbd", [53.125, 106.25])
    if not isinstance(rates, list) or not rates:
        p.add("[run] rates_gbd must be a list, e.g. [53.125, 106.25]")
        rates = []
    rates = [r for r in (p.number("[run] rates_gbd", r, 1, 200) for r in rates) if r is not None]
    seen: set[str] = set()
    for r in rates:  # a rate names its group in the record (53.125): two that print alike would collide
        if f"{r:g}" in seen:
            p.add(f"[run] rates_gbd: {r:g} GBd is given twice")
        seen.add(f"{r:g}")
    ber_rates = run.get("ber_rates_gbd")
    if ber_rates is not None:
        if not isinstance(ber_rates, list):
            p.add("[run] ber_rates_gbd must be a list of rates from rates_gbd, e.g. [53.125]")
            ber_rates = []
        ber_rates = [r for r in (p.number("[run] ber_rates_gbd", r, 1, 200) for r in ber_rates) if r is not None]
        for r in ber_rates:
            if r not in rates:
                p.add(f"[run] ber_rates_gbd: {r:g} GBd is not one of rates_gbd ({', '.join(f'{x:g}' for x in rates)})")
        ber_rates = tuple(r for r in rates if r in ber_rates)
    target = p.number("[run] target_ber", run.get("target_ber", 2.4e-4), 1e-18, 0.1)
    seed = run.get("seed", 1)
    if not isinstance(seed, int):
        p.add(f"[run] seed = {seed!r} must be an integer")
        seed = 1
    gate_s = p.number("[run] gate_s", run.get("gate_s", 1.0), 0.001, 86400) or 1.0
    pattern = str(run.get("pattern", "PRBS13Q")).upper()
    if pattern not in ("PRBS13Q", "PRBS31Q", "PRBS13", "PRBS31", "PRBS15", "PRBS23", "PRBS7", "PRBS9", "PRBS11"):
        p.add(f"[run] pattern = {pattern!r}: use PRBS13Q, PRBS31Q or a PRBSn pattern")
    g = data.get("gates", {})
    reach = p.number("[gates] reach_m", g.get("reach_m", 3.0), 0.1, 20)
    stretch = p.number("[gates] stretch_m", g.get("stretch_m", 5.0), 0.1, 20)
    power = p.number("[gates] power_w_max", g.get("power_w_max", 5.0), 0.1, 100)
    com_min = p.number("[gates] com_db_min", g.get("com_db_min", 3.0), -50, 50)
    erl_min = p.number("[gates] erl_db_min", g.get("erl_db_min"), 0, 100, required=False)
    clauses = _com_clauses(p, run.get("com_clauses", []), rates)
    mask = g.get("il_mask")
    from accbench.dsp.masks import BUILTIN_MASKS

    if mask is not None and str(mask).lower() not in BUILTIN_MASKS and not (base_dir / str(mask)).is_file():
        p.add(f"[gates] il_mask = {mask!r}: use a built-in ({', '.join(BUILTIN_MASKS)}) or a CSV file next to "
              "the plan")
    lots: list[Lot] = []
    if "lots_csv" in data:
        lots += _lots_from_csv(p, base_dir / str(data["lots_csv"]))
    for i, row in enumerate(data.get("lots", []), start=1):
        lot = _lot(p, f"[[lots]] #{i}", row)
        if lot:
            lots.append(lot)
    by_id: dict[str, Lot] = {}
    for lot in lots:
        if lot.id in by_id:
            p.add(f"lot {lot.id!r} is defined twice")
        by_id[lot.id] = lot
    if not lots:
        p.add("no wire lots: add [[lots]] tables or lots_csv = \"lots.csv\"")
    cables: list[Cable] = []
    serials: set[str] = set()
    for i, row in enumerate(data.get("cables", []), start=1):
        where = f"[[cables]] #{i}"
        raw_serial = str(row.get("serial") if row.get("serial") is not None else "")
        serial = raw_serial.strip()
        if not serial:
            p.add(f"{where}: serial is missing")
        elif _bad_name(raw_serial):
            p.add(f"{where}: serial {raw_serial!r} {_bad_name(raw_serial)}")
            serial = ""
        elif serial in serials:
            p.add(f"{where}: duplicate serial {serial!r}")
        serials.add(serial)
        lot = str(row.get("lot") or "").strip()
        if lot not in by_id:
            p.add(f"{where} ({serial}): unknown lot {lot!r}; known: {', '.join(by_id) or 'none'}")
        length = row.get("length_m")
        if length is not None and isinstance(length, (int, float)) and length <= 0:
            p.add(f"{where} ({serial}): length_m = {length} must be > 0")
            length = None
        else:
            length = p.number(f"{where} ({serial}) length_m", length, 0.1, 20)
        awg = p.number(f"{where} ({serial}) awg", row.get("awg"), 20, 40, required=False)
        lanes = row.get("lanes", 1)
        if not isinstance(lanes, int) or not 1 <= lanes <= 8:
            p.add(f"{where} ({serial}): lanes = {lanes!r} must be an integer 1..8")
            lanes = 1
        if serial and lot in by_id and length is not None:
            cables.append(Cable(serial, lot, length, awg, lanes))
    if not data.get("cables"):
        p.add("no cables: add [[cables]] tables with serial, lot and length_m")
    sim = data.get("sim", {})
    if not isinstance(sim, dict):
        p.add("[sim] must be a table")
        sim = {}
    if p.items:
        raise PlanError("plan: " + "; ".join(p.items))
    gates = Gates(reach, stretch, power, mask, com_min, erl_min)
    return Plan(name, tuple(rates), target, seed, gates, by_id, tuple(cables), source, gate_s, pattern, sim,
                ber_rates, tuple(clauses))
