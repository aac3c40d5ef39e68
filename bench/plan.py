"""Qualification plan (TOML): run settings, gates, cables and the wire lots they were made from.

Every input is validated before any instrument is touched; all problems are reported together,
each naming the field (and the CSV line for lots read from a file) and the fix.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accbench.bench.fields import Problems, shown
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


RUN_KEYS = {"name", "rates_gbd", "ber_rates_gbd", "com_clauses", "target_ber", "seed", "gate_s", "pattern"}
GATE_KEYS = {"reach_m", "stretch_m", "power_w_max", "il_mask", "com_db_min", "erl_db_min"}
LOT_KEYS = {"id", "carbon_mg_m2", "grade", "awg", "diameter_mm", "roughness_um", "oxygen_ppm"}
CABLE_KEYS = {"serial", "lot", "length_m", "awg", "lanes"}
TOP_KEYS = {"run", "gates", "lots", "lots_csv", "cables", "sim"}
PATTERNS = ("PRBS13Q", "PRBS31Q", "PRBS13", "PRBS31", "PRBS15", "PRBS23", "PRBS7", "PRBS9", "PRBS11")
MAX_LOTS_CSV_BYTES = 16 * 2**20
"""A lot table is a few kB; anything past 16 MiB is not one (and is not read into memory)."""


def _lot(p: Problems, where: str, row: dict, from_text: bool = False) -> Lot | None:
    """One wire lot from a [[lots]] table or a CSV row (``from_text``: cells are text, parsed, never echoed)."""
    raw_id = row.get("id")
    if raw_id is not None and not isinstance(raw_id, str):
        raw_id = str(raw_id) if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if raw_id is None:
            p.add(f"{where}: id must be text in quotes")
            raw_id = ""
    raw_id = raw_id or ""
    lot_id = raw_id.strip()
    if not lot_id:
        p.add(f"{where}: id is missing")
    elif _bad_name(raw_id):
        p.add(f"{where}: id {raw_id!r} {_bad_name(raw_id)}" if not from_text else f"{where}: id {_bad_name(raw_id)}")
        lot_id = ""
    carbon = p.number(f"{where} carbon_mg_m2", _blank(row.get("carbon_mg_m2")), 0, 1000, from_text=from_text)
    grade = row.get("grade")
    grade = "Cu-ETP" if _blank(grade) is None else grade
    if not isinstance(grade, str) or grade.strip() not in GRADES:
        p.add(f"{where} grade: use {' or '.join(GRADES)}" if from_text or not isinstance(grade, str)
              else f"{where} grade = {grade!r}: use {' or '.join(GRADES)}")
    else:
        grade = grade.strip()
    awg = p.number(f"{where} awg", _blank(row.get("awg")), 20, 40, required=False, from_text=from_text)
    diameter = p.number(f"{where} diameter_mm", _blank(row.get("diameter_mm")), 0.02, 5, required=False,
                        from_text=from_text)
    rough = p.number(f"{where} roughness_um", _blank(row.get("roughness_um")), 0, 5, required=False,
                     from_text=from_text) or 0.0
    oxygen = p.number(f"{where} oxygen_ppm", _blank(row.get("oxygen_ppm")), 0, 1000, required=False,
                      from_text=from_text)
    if awg is None and diameter is None:
        awg = 26.0
    if not lot_id or carbon is None or grade not in GRADES:
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
    if len(name) > 128:
        return "is longer than 128 characters"
    return None


def _blank(value):
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _plan_file(base_dir: Path, value: str) -> tuple[Path, str]:
    """(path, how to show it) of a file the plan names: relative to the plan's folder, shown as written and resolved."""
    path = base_dir / value
    return path, f"{value!r} (relative to the plan: {path})"


def _lots_from_csv(p: Problems, base_dir: Path, value) -> list[Lot]:
    """The lots of ``lots_csv``; its cells are never echoed (a wrong path could name a secret file)."""
    name = p.text("lots_csv", value, required=True)
    if not name:
        return []
    path, where = _plan_file(base_dir, name)
    try:
        if not path.is_file():
            p.add(f"lots_csv {where}: no such file")
            return []
        if path.stat().st_size > MAX_LOTS_CSV_BYTES:
            p.add(f"lots_csv {where}: larger than {MAX_LOTS_CSV_BYTES // 2**20} MiB, not a lot table")
            return []
        text = path.read_text(encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        p.add(f"lots_csv {where}: not UTF-8 text; save the lot table as UTF-8 CSV")
        return []
    except OSError as exc:
        p.add(f"lots_csv {where}: cannot read ({exc.strerror})")
        return []
    if "\0" in text:
        p.add(f"lots_csv {where}: holds NUL bytes, not a CSV lot table")
        return []
    try:
        reader = csv.DictReader(text.splitlines())
        header = [str(h).strip() for h in (reader.fieldnames or [])]
    except csv.Error:
        p.add(f"lots_csv {where}: not a CSV file")
        return []
    if "id" not in header or "carbon_mg_m2" not in header:
        p.add(f"lots_csv {where}: the first line must name the columns, with at least id and carbon_mg_m2 "
              f"(known: {', '.join(sorted(LOT_KEYS))})")
        return []
    for column in header:
        if column not in LOT_KEYS:
            p.add(f"{path.name}: unknown column {shown(column)} (use {', '.join(sorted(LOT_KEYS))})")
    lots = []
    try:
        for line, row in enumerate(reader, start=2):
            if None in row:
                p.add(f"{path.name} line {line}: more values than columns")
                continue
            lot = _lot(p, f"{path.name} line {line}", {k.strip(): v for k, v in row.items() if k.strip() in LOT_KEYS},
                       from_text=True)
            if lot:
                lots.append(lot)
    except csv.Error as exc:
        p.add(f"{path.name}: not a valid CSV file ({exc.__class__.__name__} at line {reader.line_num})")
    return lots


def _com_clauses(p: Problems, value, rates: list[float]) -> tuple[str, ...]:
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
    """Validate a parsed plan: every field's type, finiteness and range, unknown keys, files it names."""
    p = Problems()
    p.known("plan (top level)", data, TOP_KEYS)
    run = p.table("[run]", data.get("run"), "[run] with name = \"...\"")
    p.known("[run]", run, RUN_KEYS)
    name = (p.text("[run] name", run.get("name"), required=True) or "").strip()
    if not name and "name" in run and isinstance(run.get("name"), str):
        p.add("[run] name is empty")
    rates = _rates(p, "[run] rates_gbd", run.get("rates_gbd", [53.125, 106.25]), "[53.125, 106.25]")
    seen: set[str] = set()
    for r in rates:  # a rate names its group in the record (53.125): two that print alike would collide
        if f"{r:g}" in seen:
            p.add(f"[run] rates_gbd: {r:g} GBd is given twice")
        seen.add(f"{r:g}")
    ber_rates = run.get("ber_rates_gbd")
    if ber_rates is not None:
        ber_rates = _rates(p, "[run] ber_rates_gbd", ber_rates, "[53.125]", allow_empty=True)
        for r in ber_rates:
            if r not in rates:
                p.add(f"[run] ber_rates_gbd: {r:g} GBd is not one of rates_gbd ({', '.join(f'{x:g}' for x in rates)})")
        ber_rates = tuple(r for r in rates if r in ber_rates)
    target = p.number("[run] target_ber", run.get("target_ber", 2.4e-4), 1e-18, 0.1)
    seed = p.integer("[run] seed", run.get("seed", 1), 0, 2**63 - 1)
    gate_s = p.number("[run] gate_s", run.get("gate_s", 1.0), 0.001, 86400)
    pattern = p.text("[run] pattern", run.get("pattern", "PRBS13Q")) or "PRBS13Q"
    if pattern.upper() not in PATTERNS:
        p.add(f"[run] pattern = {pattern!r}: use PRBS13Q, PRBS31Q or a PRBSn pattern")
    pattern = pattern.upper()
    g = p.table("[gates]", data.get("gates"), "[gates] with reach_m = 3.0 ...")
    p.known("[gates]", g, GATE_KEYS)
    reach = p.number("[gates] reach_m", g.get("reach_m", 3.0), 0.1, 20)
    stretch = p.number("[gates] stretch_m", g.get("stretch_m", 5.0), 0.1, 20)
    power = p.number("[gates] power_w_max", g.get("power_w_max", 5.0), 0.1, 100)
    com_min = p.number("[gates] com_db_min", g.get("com_db_min", 3.0), -50, 50)
    erl_min = p.number("[gates] erl_db_min", g.get("erl_db_min"), 0, 100, required=False)
    clauses = _com_clauses(p, run.get("com_clauses", []), rates)
    mask = _mask(p, base_dir, g.get("il_mask"))
    lots: list[Lot] = []
    broken: set[str] = set()  # lots already reported as wrong: a cable naming one is not reported again
    if "lots_csv" in data:
        before = len(p.items)
        lots += _lots_from_csv(p, base_dir, data["lots_csv"])
        csv_failed = len(p.items) > before  # its rows' ids are not echoed, so any of them may be the one
    else:
        csv_failed = False
    for i, row in enumerate(p.tables("[[lots]]", data.get("lots"), "[[lots]] with id and carbon_mg_m2"), start=1):
        p.known(f"[[lots]] #{i}", row, LOT_KEYS)
        lot = _lot(p, f"[[lots]] #{i}", row)
        if lot:
            lots.append(lot)
        elif isinstance(row.get("id"), str):
            broken.add(row["id"].strip())
    by_id: dict[str, Lot] = {}
    for lot in lots:
        if lot.id in by_id:
            p.add(f"lot {lot.id!r} is defined twice")
        by_id[lot.id] = lot
    if not lots and not p.items:
        p.add("no wire lots: add [[lots]] tables or lots_csv = \"lots.csv\"")
    rows = p.tables("[[cables]]", data.get("cables"), "[[cables]] with serial, lot and length_m")
    # a lot that failed to load is reported once, not again by every cable that names it
    cables = _cables(p, rows, by_id, broken, all_broken=csv_failed)
    if not rows and not p.items:
        p.add("no cables: add [[cables]] tables with serial, lot and length_m")
    sim = p.table("[sim]", data.get("sim"), "[sim] with the simulated bench's settings")
    if p.items:
        raise PlanError("plan: " + p.summary())
    gates = Gates(reach, stretch, power, mask, com_min, erl_min)
    return Plan(name, tuple(rates), target, seed, gates, by_id, tuple(cables), source, gate_s, pattern, sim,
                ber_rates, tuple(clauses))


def _rates(p: Problems, where: str, value, example: str, allow_empty: bool = False) -> list[float]:
    """A list of symbol rates in GBd (1..200), each checked."""
    if not isinstance(value, list) or not (value or allow_empty):
        p.add(f"{where} must be a non-empty list, e.g. {example}")
        return []
    return [r for r in (p.number(where, r, 1, 200) for r in value) if r is not None]


def _mask(p: Problems, base_dir: Path, value) -> str | None:
    """``[gates] il_mask``: a built-in name, or a CSV next to the plan, read now so a bad one stops nothing later."""
    from accbench.dsp.masks import BUILTIN_MASKS, load_mask

    from accbench.errors import InputError

    mask = p.text("[gates] il_mask", value)
    if mask is None:
        return None
    if not mask.lower().endswith(".csv"):  # a built-in name (or alias): never looked up in the working folder
        try:
            load_mask(mask)
            return mask
        except InputError:
            pass
    path, where = _plan_file(base_dir, mask)
    if path.suffix.lower() != ".csv":
        p.add(f"[gates] il_mask = {mask!r}: use a built-in ({', '.join(BUILTIN_MASKS)}) or a CSV file next to the plan")
        return None
    try:
        load_mask(str(path))
    except InputError as exc:
        p.add(f"[gates] il_mask {where}: {str(exc).split(': ', 1)[-1]}")
        return None
    return str(path)


def _cables(p: Problems, rows: list[dict], by_id: dict[str, Lot], broken: set[str] = frozenset(),
            all_broken: bool = False) -> list[Cable]:
    """The [[cables]] entries: serial (unique, usable as a record name), known lot, length and lanes."""
    cables: list[Cable] = []
    serials: set[str] = set()
    for i, row in enumerate(rows, start=1):
        where = f"[[cables]] #{i}"
        p.known(where, row, CABLE_KEYS)
        raw_serial = p.text(f"{where} serial", row.get("serial"), required=True) or ""
        serial = raw_serial.strip()
        if "serial" in row and isinstance(row["serial"], str) and not serial:
            p.add(f"{where}: serial is missing (empty)")
        elif serial and _bad_name(raw_serial):
            p.add(f"{where}: serial {raw_serial!r} {_bad_name(raw_serial)}")
            serial = ""
        elif serial in serials:
            p.add(f"{where}: duplicate serial {serial!r}")
        serials.add(serial)
        label = f"{where} ({serial})" if serial else where
        lot = (p.text(f"{label} lot", row.get("lot"), required=True) or "").strip()
        if lot and lot not in by_id and lot not in broken and not all_broken:
            p.add(f"{label}: unknown lot {lot!r}; known: {', '.join(by_id) or 'none'}")
        length = p.number(f"{label} length_m", row.get("length_m"), 0.1, 20)
        awg = p.number(f"{label} awg", row.get("awg"), 20, 40, required=False)
        lanes = p.integer(f"{label} lanes", row.get("lanes", 1), 1, 8)
        if serial and lot in by_id and length is not None and lanes is not None:
            cables.append(Cable(serial, lot, length, awg, lanes))
    return cables
