"""The bench file (TOML): which instrument fills each role, how cables get connected, fixtures.

```toml
[bench]
name = "lab 3, station A"
supply_v = 3.3                       # cable supply on both power rails

[vna]
resource = "TCPIP0::pna.lab::hislip0::INSTR"
backend = "@py"                      # optional: "" system VISA, "@py" pyvisa-py, "@accsim"
dialect = "keysight-pna"             # optional: force a driver instead of *IDN?
model = "N5247B"                     # optional: checked against the plan before anything is opened
timeout_s = 30

[bert]   # same keys, and where the generator and analyzer sit in the chassis:
analyzer = "M2.DataIn"               # M8040A: generator, generator_group, analyzer, clock (locations)
                                     # MP1900A: ppg_module, ed_module (slots), unit
[power]  # same keys

[sweep]                              # optional, defaults below
start_hz = 10e6
stop_hz = 60e9
points = 6000
ifbw_hz = 1e3

[fixtures]
deembed_2xthru = "fixtures/2x-thru.s4p"   # IEEE P370 2x-thru of the test fixture, relative to this file

[switch]                             # how a cable lane is connected: a SCPI switch ...
via = "vna"                          # an instrument role, or resource/backend of a switch of its own
connect = "ROUT:CLOS (@{lane}01)"    # {serial} and {lane} are filled in
[operator]                           # ... or an operator who confirms each connection
confirm = true
```
Every problem is listed in one ``BenchError`` before any instrument is opened.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from pathlib import Path

from accbench.bench.tomlfile import read_toml

from accbench.errors import InputError
from accbench.station import DEFAULT_SWEEP, ROLES


class BenchError(InputError):
    """A bench file that cannot be used; the message lists every problem."""


LOCATION_KEYS = {"generator": str, "generator_group": str, "analyzer": str, "clock": str, "ppg_module": int,
                 "ed_module": int, "unit": int}


@dataclass(frozen=True)
class RoleSpec:
    """One instrument: VISA resource, backend, optional dialect override and declared model, I/O timeout (s),
    and for a BERT where its generator and analyzer sit (locations or slots)."""

    role: str
    resource: str
    backend: str = ""
    dialect: str | None = None
    timeout_s: float = 10.0
    model: str | None = None
    locations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SwitchSpec:
    """A SCPI switch: the command template sent through a role's instrument or a resource of its own."""

    connect: str
    via: str | None = None
    resource: str | None = None
    backend: str = ""
    timeout_s: float = 10.0


@dataclass(frozen=True)
class BenchConfig:
    name: str
    roles: dict[str, RoleSpec]
    sweep: dict = field(default_factory=lambda: dict(DEFAULT_SWEEP))
    deembed_2xthru: Path | None = None
    switch: SwitchSpec | None = None
    confirm: bool = False
    supply_v: float = 3.3
    source: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "roles": {r: dict(vars(s)) for r, s in self.roles.items()}, "sweep": self.sweep,
                "deembed_2xthru": str(self.deembed_2xthru) if self.deembed_2xthru else None,
                "switch": vars(self.switch) if self.switch else None, "confirm": self.confirm,
                "supply_v": self.supply_v}


def load_bench(path: str | Path) -> BenchConfig:
    """Read and validate a bench file; a ``BenchError`` lists every problem (nothing is opened)."""
    path = Path(path)
    data, source = read_toml(path, "bench file", BenchError)
    return parse_bench(data, path.parent, source)


def _known(problems: list[str], table: dict, where: str, keys: set[str]) -> None:
    for key in sorted(set(table) - keys):
        problems.append(f"{where}: unknown key {key!r} (use {', '.join(sorted(keys))})")


def _positive(problems: list[str], where: str, value, default: float) -> float:
    """A finite number > 0 (``default`` when absent); anything else is noted."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        problems.append(f"{where} = {value!r} must be a number > 0")
        return default
    return float(value)


def _role(problems: list[str], role: str, table) -> RoleSpec | None:
    from accbench.instruments.registry import dialect_kinds

    from accbench.capabilities import capability_for, known_models

    where = f"[{role}]"
    if not isinstance(table, dict):
        problems.append(f"{where} is missing: give resource = \"<VISA address>\"")
        return None
    locations_allowed = set(LOCATION_KEYS) if role == "bert" else set()
    _known(problems, table, where, {"resource", "backend", "dialect", "timeout_s", "model"} | locations_allowed)
    resource = table.get("resource") or ""
    if not isinstance(resource, str):
        problems.append(f"{where} resource must be a VISA address in quotes, e.g. \"TCPIP0::host::hislip0::INSTR\"")
        resource = ""
    elif not resource.strip():
        problems.append(f"{where} resource is missing (e.g. \"TCPIP0::host::hislip0::INSTR\")")
    resource = resource.strip()
    for key in ("backend", "dialect", "model"):
        if key in table and not isinstance(table[key], str):
            problems.append(f"{where} {key} must be text in quotes")
            table = {k: v for k, v in table.items() if k != key}
    dialect = table.get("dialect")
    if dialect is not None:
        kinds = dialect_kinds()
        if dialect not in kinds:
            problems.append(f"{where} dialect = {dialect!r}: use one of {', '.join(sorted(kinds))}")
        elif kinds[dialect] != role:
            problems.append(f"{where} dialect {dialect!r} is a {kinds[dialect]} driver, not a {role}")
    model = table.get("model")
    if model is not None and capability_for(role, str(model)) is None:
        problems.append(f"{where} model = {model!r}: use one of {', '.join(known_models(role))}")
    locations = {}
    for key in sorted(locations_allowed & set(table)):
        value = table[key]
        if not isinstance(value, LOCATION_KEYS[key]) or isinstance(value, bool):
            kind = "string" if LOCATION_KEYS[key] is str else "slot number"
            problems.append(f"{where} {key} = {value!r} must be a {kind}")
        else:
            locations[key] = value
    timeout = _positive(problems, f"{where} timeout_s", table.get("timeout_s"), 10.0)
    return RoleSpec(role, resource, str(table.get("backend", "")), dialect, timeout,
                    None if model is None else str(model), locations) if resource else None


def _sweep(problems: list[str], table: dict) -> dict:
    _known(problems, table, "[sweep]", set(DEFAULT_SWEEP))
    sweep = dict(DEFAULT_SWEEP)
    for key in DEFAULT_SWEEP:
        sweep[key] = _positive(problems, f"[sweep] {key}", table.get(key), DEFAULT_SWEEP[key])
    sweep["points"] = int(sweep["points"])
    if sweep["start_hz"] >= sweep["stop_hz"]:
        problems.append(f"[sweep] start_hz {sweep['start_hz']:g} must be below stop_hz {sweep['stop_hz']:g}")
    if not 11 <= sweep["points"] <= 100_001:
        problems.append(f"[sweep] points = {sweep['points']} must be 11..100001")
    return sweep


def _switch(problems: list[str], table) -> SwitchSpec | None:
    if table is None:
        return None
    _known(problems, table, "[switch]", {"connect", "via", "resource", "backend", "timeout_s"})
    connect = table.get("connect") or ""
    if not isinstance(connect, str):
        problems.append("[switch] connect must be text in quotes, e.g. \"ROUT:CLOS (@{lane}01)\"")
        connect = ""
    if not connect:
        problems.append("[switch] connect is missing: the SCPI command template, e.g. \"ROUT:CLOS (@{lane}01)\"")
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(connect) if name is not None}
    except ValueError as exc:
        problems.append(f"[switch] connect = {connect!r} is not a valid template ({exc})")
        fields = set()
    for name in sorted(fields - {"serial", "lane"}):
        problems.append(f"[switch] connect: unknown field {{{name}}} (use {{serial}} and {{lane}})")
    via, resource = table.get("via"), table.get("resource")
    if resource is not None and not isinstance(resource, str):
        problems.append("[switch] resource must be a VISA address in quotes")
        resource = ""
    if (via is None) == (resource is None):
        problems.append("[switch]: give either via = \"vna\"|\"bert\"|\"power\" or resource = \"<VISA address>\"")
    elif via is not None and via not in ROLES:
        problems.append(f"[switch] via = {via!r}: use one of {', '.join(ROLES)}")
    timeout = _positive(problems, "[switch] timeout_s", table.get("timeout_s"), 10.0)
    return SwitchSpec(connect, via, resource, str(table.get("backend", "")), timeout)


def _table(problems: list[str], data: dict, key: str) -> dict | None:
    """``data[key]`` when it is a table (None when absent); an array or a value is noted."""
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        problems.append(f"[{key}] must be a table: write [{key}] once, with its keys below it")
        return {}
    return value


def parse_bench(data: dict, base_dir: Path = Path("."), source: str = "") -> BenchConfig:
    """Validate a parsed bench file: every table's keys, types and ranges, and the files it names."""
    problems: list[str] = []
    _known(problems, data, "bench file", {"bench", *ROLES, "sweep", "fixtures", "switch", "operator"})
    tables = {key: _table(problems, data, key) for key in ("bench", *ROLES, "sweep", "fixtures", "switch",
                                                           "operator")}
    data = {**data, **{k: v for k, v in tables.items() if v is not None}}
    head = data.get("bench", {})
    _known(problems, head, "[bench]", {"name", "supply_v"})
    supply = _positive(problems, "[bench] supply_v", head.get("supply_v"), 3.3)
    if supply > 15:
        problems.append(f"[bench] supply_v = {supply:g} V is above the 15 V a cable end can take")
    roles = {}
    for role in ROLES:
        spec = _role(problems, role, data.get(role))
        if spec:
            roles[role] = spec
    sweep = _sweep(problems, data.get("sweep", {}))
    fixtures = data.get("fixtures", {})
    _known(problems, fixtures, "[fixtures]", {"deembed_2xthru"})
    deembed = None
    if fixtures.get("deembed_2xthru") is not None and not isinstance(fixtures["deembed_2xthru"], str):
        problems.append("[fixtures] deembed_2xthru must be a file name in quotes")
    elif fixtures.get("deembed_2xthru"):
        deembed = base_dir / fixtures["deembed_2xthru"]
        problems.extend(_check_2xthru(deembed))
    switch = _switch(problems, data.get("switch"))
    operator = data.get("operator", {})
    _known(problems, operator, "[operator]", {"confirm"})
    confirm = operator.get("confirm", False)
    if not isinstance(confirm, bool):
        problems.append(f"[operator] confirm = {confirm!r} must be true or false")
        confirm = False
    if switch is None and not confirm:
        problems.append("no way to connect cables: add a [switch] with a connect command, "
                        "or [operator] confirm = true to be asked for each cable")
    if not isinstance(head.get("name", "bench"), str):
        problems.append("[bench] name must be text in quotes")
    if problems:
        raise BenchError("bench: " + "; ".join(problems))
    return BenchConfig(head.get("name", "bench"), roles, sweep, deembed, switch, confirm, supply, source)


def _check_2xthru(path: Path) -> list[str]:
    """Problems with a 2x-thru fixture file (missing, unreadable, not a 4-port)."""
    from accbench.dsp.touchstone import read_touchstone

    if not path.is_file():
        return [f"[fixtures] deembed_2xthru: no such file {path}"]
    try:
        network = read_touchstone(path)
    except InputError as exc:
        return [f"[fixtures] deembed_2xthru: {exc}"]
    if network.nports != 4:
        return [f"[fixtures] deembed_2xthru {path.name} has {network.nports} ports; a 2x-thru must be a 4-port"]
    return []
