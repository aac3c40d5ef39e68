"""Reading a sweep spec (TOML): a grid or random design over the cable and link parameters, or a corpus of files.

Like the plan and bench files, the spec is read safely (``bench.tomlfile``) and every field is
checked before anything runs; all the problems found are reported on one line (``bench.fields``).

    [sweep]                                  [sweep]
    kind = "grid"   # or "random": n, seed   kind = "corpus"
    outputs = ["loss", "link"]               folder = "measurements"   # relative to the spec
    [parameters]                             pattern = "**/*.s4p"
    awg = [26, 28, 30]                       clauses = ["802.3dj-cr", "802.3ck-cr"]
    length_m = {min = 1, max = 4, num = 7}   [com]
    carbon_mg_m2 = 0.0                       tx_ffe = "search"

A parameter is a value (held fixed), a list of levels, or a range: ``{min, max, num}`` or
``{min, max, step}`` in a grid (both ends included), ``{min, max}`` drawn uniformly in a random
design (``scale = "log"`` draws log-uniformly).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from accbench.bench.fields import Problems
from accbench.bench.tomlfile import read_toml
from accbench.errors import AccbenchError, InputError
from accbench.sweep.params import PARAMETERS, SAME_ARGUMENT, Param

KINDS = ("grid", "random", "corpus")
DESIGN_OUTPUTS = ("loss", "sparams", "link", "eye_width", "reach")
"""Output groups of a design point (see ``columns``); each costs more than the one before it."""
DEFAULT_OUTPUTS = ("loss", "link")
MAX_POINTS = 1_000_000
"""Largest design: a million points is days of link evaluations; a bigger one is a typo."""
MAX_LEVELS = 100_000
MAX_FILES = 100_000
SWEEP_KEYS = {"kind", "name", "outputs", "n", "seed", "batch_points", "folder", "pattern", "clauses"}
COM_KEYS = {"tx_ffe", "search", "host_class", "thru"}
RANGE_KEYS = {"min", "max", "num", "step", "scale"}


_SHOWABLE = re.compile(r"^[\w .,*?/\[\]{}()+:@#=-]{1,60}$")


def shown(value: str) -> str:
    """A name or pattern from the spec, quoted when it looks like one, else a placeholder (never a file's contents)."""
    return repr(value) if _SHOWABLE.match(value) else "(the value given)"


class SweepSpecError(InputError):
    """A sweep spec that cannot be run; the message lists every problem found."""


@dataclass(frozen=True)
class Levels:
    """The values one parameter takes: explicit ``values``, or a range ``low..high`` (with ``num``/``step``)."""

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None
    step: float | None = None
    log: bool = False


@dataclass(frozen=True)
class ComOptions:
    """The ``compute_com`` settings of a corpus sweep (as ``accbench com``'s options)."""

    tx_ffe: bool = True
    search: str = "smart"
    host_class: str | None = None
    thru: str = "auto"


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep spec: a design (grid, random) over ``parameters`` or a corpus of Touchstone files."""

    kind: str
    path: Path
    source: str
    name: str = ""
    parameters: tuple[Levels, ...] = ()
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    n: int | None = None
    seed: int | None = None
    batch_points: int | None = None
    folder: Path | None = None
    pattern: str = "*.s4p"
    clauses: tuple[str, ...] = ()
    com: ComOptions = ComOptions()

    @property
    def is_corpus(self) -> bool:
        return self.kind == "corpus"


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep spec; a ``SweepSpecError`` lists every problem (nothing is run)."""
    path = Path(path)
    data, source = read_toml(path, "sweep spec", SweepSpecError)
    return parse_spec(data, path, source)


def parse_spec(data: dict, path: Path, source: str = "") -> SweepSpec:
    """Check a parsed spec: kinds, types, finiteness and ranges, unknown keys, and every level of every parameter."""
    p = Problems()
    sweep = p.table("[sweep]", data.get("sweep"), '[sweep] with kind = "grid"')
    kind = p.text("[sweep] kind", sweep.get("kind"), required=True)
    if kind is not None and kind not in KINDS:
        p.add(f"[sweep] kind = {shown(kind)}: use {', '.join(KINDS)}")
        kind = None
    p.known("[sweep]", sweep, SWEEP_KEYS)
    name = p.text("[sweep] name", sweep.get("name")) or ""
    batch = None if sweep.get("batch_points") is None else p.integer("[sweep] batch_points",
                                                                      sweep["batch_points"], 1, 10_000)
    common = {"path": path, "source": source, "name": name, "batch_points": batch}
    if kind == "corpus":
        p.known("sweep spec (top level)", data, {"sweep", "com"})
        spec = _corpus(p, sweep, data.get("com"), path.parent, common)
    else:
        p.known("sweep spec (top level)", data, {"sweep", "parameters"})
        spec = _design(p, kind, sweep, data.get("parameters"), common)
    if p.items or spec is None:
        raise SweepSpecError(f"sweep spec {path.name}: " + (p.summary() or "nothing to sweep"))
    return spec


def _design(p: Problems, kind: str | None, sweep: dict, table: Any, common: dict) -> SweepSpec | None:
    """The grid or random part of a spec."""
    for key in ("folder", "pattern", "clauses"):
        if key in sweep:
            p.add(f"[sweep] {key} is for corpus sweeps (kind = \"corpus\"); a design takes [parameters]")
    outputs = _outputs(p, sweep.get("outputs"))
    n = seed = None
    if kind == "random":
        if "n" in sweep:
            n = p.integer("[sweep] n", sweep["n"], 1, MAX_POINTS)
        else:
            p.add("[sweep] n is missing: give the number of points to draw, e.g. n = 500")
        seed = p.integer("[sweep] seed", sweep.get("seed", 1), 0, 2**63 - 1)
    else:
        for key in ("n", "seed"):
            if key in sweep:
                p.add(f"[sweep] {key} is for random designs; a grid takes every combination of its levels")
    params = p.table("[parameters]", table, "[parameters] with awg = [26, 28] ...")
    if table is None:
        p.add("[parameters] is missing: give the design's parameters, e.g. awg = [26, 28], length_m = 3.0")
    levels = []
    for key, value in params.items():
        param = PARAMETERS.get(key) if isinstance(key, str) else None
        if param is None:
            p.add(f"[parameters]: unknown parameter {shown(str(key))} (use {', '.join(PARAMETERS)})")
            continue
        found = _levels(p, param, value, kind)
        if found is not None:
            levels.append(found)
    names = {lv.name for lv in levels}
    if not p.items:
        _combinations(p, names, kind, levels)
    if p.items or kind is None:
        return None
    spec = SweepSpec(kind, parameters=tuple(levels), outputs=outputs, n=n, seed=seed, **common)
    _check_points(p, spec)
    return spec


def _combinations(p: Problems, names: set[str], kind: str | None, levels: list[Levels]) -> None:
    """Cross-parameter rules: one wire size, one name per quantity, a bounded number of points."""
    sizes = names & {"awg", "diameter_m", "diameter_mm"}
    if len(sizes) != 1:
        p.add("[parameters]: give the wire size as exactly one of awg, diameter_mm or diameter_m"
              + (f" (not {', '.join(sorted(sizes))})" if sizes else ""))
    by_argument: dict[str, list[str]] = {}
    for name in names & set(SAME_ARGUMENT) - sizes:
        by_argument.setdefault(SAME_ARGUMENT[name], []).append(name)
    for same in by_argument.values():
        if len(same) > 1:
            p.add(f"[parameters]: {' and '.join(sorted(same))} set the same quantity; give one of them")
    if kind == "grid":
        total = math.prod(len(grid_values(lv)) for lv in levels)
        if total > MAX_POINTS:
            p.add(f"[parameters]: the grid has {total:,} points, more than {MAX_POINTS:,}; "
                  "use fewer levels or a random design")


def _outputs(p: Problems, value: Any) -> tuple[str, ...]:
    """``[sweep] outputs``: known output groups (default loss and link); eye width and reach need the link."""
    if value is None:
        return DEFAULT_OUTPUTS
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        p.add(f"[sweep] outputs: give a list of output groups, e.g. [\"loss\", \"link\"] ({', '.join(DESIGN_OUTPUTS)})")
        return DEFAULT_OUTPUTS
    unknown = [v for v in value if v not in DESIGN_OUTPUTS]
    for v in unknown:
        p.add(f"[sweep] outputs: unknown output {shown(v)} (use {', '.join(DESIGN_OUTPUTS)})")
    if "eye_width" in value and "link" not in value:
        p.add("[sweep] outputs: eye_width is read from the link evaluation; add \"link\"")
    return tuple(v for v in DESIGN_OUTPUTS if v in value)


def _scalar(p: Problems, where: str, param: Param, value: Any) -> Any:
    """One value of ``param`` checked for its kind and range (None after noting a problem)."""
    if param.kind == "number":
        return p.number(where, value, param.low, param.high, open_low=param.open_low)
    if param.kind == "integer":
        return p.integer(where, value, int(param.low), int(param.high))
    if param.kind == "bool":
        if not isinstance(value, bool):
            p.add(f"{where} must be true or false")
            return None
        return value
    text = p.text(where, value)
    if text is not None and not text.strip():
        p.add(f"{where} is empty")
        return None
    return text


def _levels(p: Problems, param: Param, value: Any, kind: str | None) -> Levels | None:
    """One ``[parameters]`` entry: a fixed value, a list of levels or a range table."""
    where = f"[parameters] {param.name}"
    if isinstance(value, dict):
        return _range(p, where, param, value, kind)
    if isinstance(value, list):
        if not value:
            p.add(f"{where} = []: give at least one level")
            return None
        if len(value) > MAX_LEVELS:
            p.add(f"{where} has more than {MAX_LEVELS:,} levels")
            return None
        items = [_scalar(p, f"{where}[{i}]", param, v) for i, v in enumerate(value)]
        if any(v is None for v in items):
            return None
        if len(set(items)) != len(items):
            p.add(f"{where} gives a level twice")
            return None
        return Levels(param.name, tuple(items))
    item = _scalar(p, where, param, value)
    return None if item is None else Levels(param.name, (item,))


def _range(p: Problems, where: str, param: Param, table: dict, kind: str | None) -> Levels | None:
    """``{min, max, num}`` / ``{min, max, step}`` (grid) or ``{min, max[, scale]}`` (random) of a numeric parameter."""
    if param.kind not in ("number", "integer"):
        p.add(f"{where}: a range is for numbers; give a list of {param.kind} levels")
        return None
    p.known(where, table, RANGE_KEYS)
    before = len(p.items)
    low = _scalar(p, f"{where}.min", param, table.get("min"))
    high = _scalar(p, f"{where}.max", param, table.get("max"))
    if low is not None and high is not None and low > high:
        p.add(f"{where}: min {low:g} is above max {high:g}")
    num = step = None
    log = False
    if kind == "grid":
        if ("num" in table) == ("step" in table) and param.kind == "number":
            which = "both" if "num" in table else "neither"
            p.add(f"{where}: give the grid as num (points from min to max) or step, not {which}")
        if "num" in table:
            if param.kind == "integer":
                p.add(f"{where}: an integer parameter steps by a whole number; give step, not num")
            else:
                num = p.integer(f"{where}.num", table["num"], 1, MAX_LEVELS)
                if num == 1 and low is not None and low != high:
                    p.add(f"{where}: num = 1 needs min = max")
        if "step" in table:
            step = _step(p, f"{where}.step", param, table["step"], low, high)
        elif param.kind == "integer":
            step = 1
        if "scale" in table:
            p.add(f"{where}.scale is for random designs; a grid gives its levels by num or step")
    else:
        for key in ("num", "step"):
            if key in table:
                p.add(f"{where}.{key} is for grid designs; a random design draws between min and max")
        scale = p.text(f"{where}.scale", table.get("scale", "linear"))
        if scale not in ("linear", "log", None):
            p.add(f"{where}.scale = {shown(scale)}: use linear or log")
        log = scale == "log"
        if log and (param.kind == "integer" or (low is not None and low <= 0)):
            p.add(f"{where}: a log scale needs a number parameter with min > 0")
    if len(p.items) > before:
        return None
    return Levels(param.name, None, low, high, num, step, log)


def _step(p: Problems, where: str, param: Param, value: Any, low: float | None, high: float | None) -> float | None:
    """A grid step: > 0, whole for integer parameters, at most ``MAX_LEVELS`` levels between min and max."""
    if param.kind == "integer":
        step = p.integer(where, value, 1, 2**31)
    else:
        step = p.number(where, value, 0, None, open_low=True)
    if step is not None and low is not None and high is not None and (high - low) / step >= MAX_LEVELS:
        p.add(f"{where} = {step:g} gives more than {MAX_LEVELS:,} levels")
        return None
    return step


def grid_values(levels: Levels) -> tuple[Any, ...]:
    """The levels of one parameter in a grid: its values, or min..max by num (linspace) or step (both ends)."""
    if levels.values is not None:
        return levels.values
    low, high = levels.low, levels.high
    if levels.num is not None:
        if levels.num == 1:
            return (low,)
        return tuple(_tidy(low + (high - low) * i / (levels.num - 1)) for i in range(levels.num))
    count = math.floor((high - low) / levels.step * (1 + 1e-12) + 1e-9) + 1
    if isinstance(levels.step, int) and isinstance(low, int):
        return tuple(low + i * levels.step for i in range(count))
    return tuple(_tidy(low + i * levels.step) for i in range(count))


def _tidy(value: float) -> float:
    """A computed level rounded to 12 significant digits, so 0.1 * 3 is the 0.3 the user wrote."""
    return float(f"{value:.12g}")


def _check_points(p: Problems, spec: SweepSpec) -> None:
    """Every level of every parameter built by the library (``build_point``), before anything runs.

    First each level alone (with only the wire size, and the FFE's other half, beside it), so every
    bad value is named; then, when all pass, each level with the others at their first level, for
    values that are wrong only together. Problems name the spec parameter, not the library argument.
    """
    first = {lv.name: (lv.values[0] if lv.values is not None else lv.low) for lv in spec.parameters}
    size = {name: value for name, value in first.items() if name in ("awg", "diameter_m", "diameter_mm")}
    partners = {"ffe_pre": "ffe_post", "ffe_post": "ffe_pre"}
    before = len(p.items)
    for lv in spec.parameters:
        partner = {k: first[k] for k in (partners.get(lv.name),) if k in first}
        _check_levels(p, lv, {**size, **partner})
    if len(p.items) == before:
        for lv in spec.parameters:
            _check_levels(p, lv, first)


def _check_levels(p: Problems, levels: Levels, base: dict[str, Any]) -> None:
    """Build ``base`` with each level of ``levels`` (a range: both ends); note each distinct library refusal."""
    from accbench.sweep.point import build_point, spec_names

    seen = set(p.items)
    for value in levels.values if levels.values is not None else (levels.low, levels.high):
        point = {**base, levels.name: value}
        try:
            build_point(point)
        except AccbenchError as exc:
            names = spec_names(getattr(exc, "fields", ()), point) or [levels.name]
            text = f"[parameters] {'/'.join(names)}: {exc}"
            if text not in seen:
                seen.add(text)
                p.add(text)


def _corpus(p: Problems, sweep: dict, com: Any, base_dir: Path, common: dict) -> SweepSpec | None:
    """The corpus part of a spec: folder, file pattern, clauses and the COM settings."""
    from accbench.dsp.com.params import clause_names

    for key in ("n", "seed", "outputs"):
        if key in sweep:
            p.add(f"[sweep] {key} is for design sweeps; a corpus sweep computes COM of every file per clause")
    folder_text = p.text("[sweep] folder", sweep.get("folder"), required=True)
    folder = None
    if folder_text is not None:
        folder = (base_dir / folder_text).resolve()
        if not folder.is_dir():
            p.add(f"[sweep] folder {shown(folder_text)} is not a folder (resolved against the spec's folder)")
            folder = None
    pattern = p.text("[sweep] pattern", sweep.get("pattern", "*.s4p")) or "*.s4p"
    pure = PurePosixPath(pattern)
    if pure.is_absolute() or ".." in pure.parts or not pattern.strip():
        p.add(f"[sweep] pattern = {shown(pattern)}: give a pattern inside the folder, e.g. \"*.s4p\" or \"**/*.s4p\"")
    clauses = sweep.get("clauses")
    known = clause_names()
    if not isinstance(clauses, list) or not clauses or not all(isinstance(c, str) for c in clauses):
        p.add(f"[sweep] clauses: give a list of clause names, e.g. [{', '.join(repr(c) for c in known)}]")
        clauses = []
    for c in clauses:
        if c not in known:
            p.add(f"[sweep] clauses: unknown clause {shown(c)}; use {', '.join(known)}")
    if len(set(clauses)) != len(clauses):
        p.add("[sweep] clauses: a clause is given twice")
    table = p.table("[com]", com, "[com] with tx_ffe = \"search\"")
    p.known("[com]", table, COM_KEYS)
    tx_ffe = p.text("[com] tx_ffe", table.get("tx_ffe", "search"))
    if tx_ffe not in ("search", "off", None):
        p.add(f"[com] tx_ffe = {shown(tx_ffe)}: use search or off")
    search = p.text("[com] search", table.get("search", "smart"))
    if search not in ("smart", "exhaustive", None):
        p.add(f"[com] search = {shown(search)}: use smart or exhaustive")
    host_class = p.text("[com] host_class", table.get("host_class"))
    thru = p.text("[com] thru", table.get("thru", "auto")) or "auto"
    if p.items or folder is None:
        return None
    options = ComOptions(tx_ffe != "off", search or "smart", host_class, thru)
    return SweepSpec("corpus", folder=folder, pattern=pattern, clauses=tuple(clauses), com=options,
                     outputs=("com",), **common)


def corpus_files(spec: SweepSpec) -> list[Path]:
    """The files of a corpus spec, sorted by their path inside the folder (the point order)."""
    folder = spec.folder
    files = sorted((f for f in folder.glob(spec.pattern) if f.is_file()),
                   key=lambda f: f.relative_to(folder).as_posix())
    if not files:
        raise SweepSpecError(f"sweep spec {spec.path.name}: no file in {folder} matches [sweep] pattern = "
                             f"{spec.pattern!r}; check the folder and the pattern")
    if len(files) > MAX_FILES:
        raise SweepSpecError(f"sweep spec {spec.path.name}: {len(files):,} files match, more than {MAX_FILES:,}; "
                             "narrow the pattern or split the corpus")
    return files
