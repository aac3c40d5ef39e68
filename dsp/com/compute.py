"""COM (and ERL) of a cable assembly per clause: inputs checked, ends and channels built, the equaliser
searched, COM per end case, the worst kept, the clause's limits applied.

``compute_com`` is the Python API behind ``accbench com``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import skrf as rf
from accbench.dsp.com import evaluate as ev
from accbench.dsp.com import fom93a, margin, search
from accbench.dsp.com.channel import (
    SystemGrid,
    channel_port_map,
    check_band,
    differential,
    terminated_paths,
)
from accbench.dsp.com.devices import end_cases
from accbench.dsp.com.erl import erl
from accbench.dsp.com.figures import cable_figures
from accbench.dsp.com.params import ClauseParams, load_clause
from accbench.dsp.touchstone import read_touchstone

from accbench.errors import InputError


@dataclass(frozen=True)
class ComCase:
    """COM of one end case (host-class pair or package test case) with its chosen equalisation."""

    case: str
    com_db: float
    fom_db: float
    eq: dict
    margin: dict
    evaluations: int
    timing: dict = field(default_factory=dict)  # search_s, com_s


@dataclass(frozen=True)
class ComResult:
    """COM and ERL of a channel against one clause; ``com_db`` is the worst end case's."""

    clause: str
    baud: float
    com_db: float
    erl_db: float | None
    cases: list[ComCase]
    eq: dict
    passed: bool | None
    limits: dict
    checks: dict
    elapsed_s: float
    search: str
    tx_ffe: bool
    warnings: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    erl: dict | None = None
    figures: dict | None = None  # IL at Nyquist, fitted IL, FOM_ILD, ICN under the clause (``figures``)
    timing: dict = field(default_factory=dict)  # seconds per stage: read, setup, search, com, erl, figures

    def to_dict(self) -> dict:
        out = asdict(self)
        out["pass"] = out.pop("passed")
        return out


def _load(item) -> rf.Network:
    """A Network as given, or read from a Touchstone path."""
    if isinstance(item, rf.Network):
        return item
    return read_touchstone(Path(item))


def _check_inputs(p: ClauseParams, thru: rf.Network, aggressors: list[tuple[str, rf.Network]]) -> None:
    if thru.nports != 4:
        raise InputError(f"{thru.name}: COM needs the thru as a 4-port (single-ended, both lines of the pair), "
                         f"not a {thru.nports}-port")
    check_band(p, thru, thru.name or "thru")
    for kind, net in aggressors:
        if net.nports != 4:
            raise InputError(f"{net.name}: a {kind.upper()} aggressor must be a 4-port, not a {net.nports}-port")
        if net.f.size != thru.f.size or not np.allclose(net.f, thru.f, rtol=1e-9):
            raise InputError(f"{net.name}: the {kind.upper()} aggressor is on another frequency grid than the thru "
                             f"({net.f.size} points to {net.f[-1] / 1e9:g} GHz vs {thru.f.size} to "
                             f"{thru.f[-1] / 1e9:g} GHz); export both with the same sweep")


def compute_com(thru, next_files=(), fext_files=(), clause: str = "802.3dj-cr", tx_ffe: bool = True,
                host_class: str | None = None, mode: str = "smart", thru_map: str = "auto",
                with_erl: bool = True) -> ComResult:
    """COM of ``thru`` (a 4-port file or Network) with its NEXT/FEXT aggressors against ``clause``.

    ``tx_ffe=False`` switches the transmitter FFE search off; ``host_class`` picks the 178A host
    pairs (``HL``, ``HL-HN``, ``CA-B``, ...); ``mode`` is ``smart`` or ``exhaustive``.
    """
    clock = _Clock()
    p = load_clause(clause)
    if mode not in ("smart", "exhaustive"):
        raise InputError(f"search {mode!r}: use smart or exhaustive")
    with clock("read"):
        thru_net = _load(thru)
        aggs = [("next", _load(f)) for f in next_files] + [("fext", _load(f)) for f in fext_files]
    _check_inputs(p, thru_net, aggs)
    port_map = channel_port_map(thru_net, thru_map)
    grid = SystemGrid(p.baud, p.samples_per_ui, p.f_step_hz)
    sgrid = search.Grid.of(p, tx_ffe)
    channels = [("thru", thru_net), *aggs]
    with clock("setup"):
        sdd = [differential(net, port_map) for _, net in channels]
    cases = []
    for end in end_cases(p, host_class):
        with clock("setup"):
            paths = terminated_paths(p, grid, [(kind, net.name, s, net.f)
                                               for (kind, net), s in zip(channels, sdd, strict=True)], end)
            setup = ev.prepare(p, grid, end, paths)
        case = com_case(setup, sgrid, mode)
        clock.add("search", case.timing["search_s"])
        clock.add("com", case.timing["com_s"])
        cases.append(case)
    worst = min(cases, key=lambda c: c.com_db)
    with clock("erl"):
        erl = erl_of(p, thru_net, port_map) if with_erl else None
    erl_db = None if erl is None else erl["erl_db"]
    with clock("figures"):
        figs = cable_figures(p, thru_net, [n for k, n in aggs if k == "next"], [n for k, n in aggs if k == "fext"],
                             port_map)
    limits = dict(p.limits)
    checks = {"com": worst.com_db >= limits.get("com_min_db", 3.0)}
    if erl_db is not None and "erl_min_db" in limits:
        checks["erl"] = erl_db >= limits["erl_min_db"]
    checks |= {name: bool(ok) for name, ok in figs.checks.items()}
    passed = all(checks.values())
    warnings = list(figs.warnings)
    if not p.checked_against_standard:
        warnings.append(f"{p.clause} parameters are from {p.sources.get('default', 'secondary sources')}")
    return ComResult(p.clause, p.baud, worst.com_db, erl_db, cases, worst.eq, passed, limits, checks,
                     clock.total(), mode, tx_ffe, warnings, p.describe(), erl, figs.to_dict(), clock.split)


class _Clock:
    """Wall time per stage of one COM computation (s)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.split: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.split[f"{stage}_s"] = self.split.get(f"{stage}_s", 0.0) + seconds

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - t0)

    def total(self) -> float:
        return time.perf_counter() - self.start


def com_case(setup: ev.Setup, sgrid: search.Grid, mode: str = "smart") -> ComCase:
    """COM of one prepared end case: the equaliser searched over ``sgrid`` (smart or exhaustive)."""
    p = setup.p

    taps_of = sgrid.tap_array

    exact = None
    if p.method == "178A":
        hint = [None]  # the fast score hill-climbs the sampling offset from the previous candidate's best
        ctle_steps: dict = {}  # and takes each CTLE setting's first quantization step for all its candidates

        def score(point):
            f = ev.fom_178a(setup, sgrid.g_dc[point[0]], sgrid.g_dc2[point[1]], taps_of(point), start=hint[0],
                            want_taps=False, ctle_steps=ctle_steps)
            hint[0] = f.offset
            return f.fom_db

        def exact(point):
            return ev.fom_178a(setup, sgrid.g_dc[point[0]], sgrid.g_dc2[point[1]], taps_of(point),
                               want_taps=False).fom_db
    else:
        def score(point):
            return fom93a.fom_93a(setup, sgrid.g_dc[point[0]], sgrid.g_dc2[point[1]], taps_of(point)).fom_db
    t0 = time.perf_counter()
    if mode == "smart":
        found = search.smart(sgrid, score, exact=exact, pure=exact is None)  # 178A's fast score is sequential
    else:
        found = search.exhaustive(sgrid, exact or score, pure=True)
    t1 = time.perf_counter()
    point, fom = found.best()
    g, g2 = sgrid.g_dc[point[0]], sgrid.g_dc2[point[1]]
    if p.method == "178A":
        f = ev.fom_178a(setup, g, g2, taps_of(point))
        m = margin.com_178a(setup, f)
        extra = {"rx_ffe": [round(float(x), 6) for x in f.rx_ffe / f.rx_ffe[setup.lim.pre]],
                 "rx_ffe_floating": f.rx_cols[setup.lim.fixed:], "dfe": m.dfe}
    else:
        f = fom93a.fom_93a(setup, g, g2, taps_of(point))
        m = margin.com_93a(setup, f)
        extra = {"dfe": m.dfe}
    eq = search.describe(sgrid, point) | extra
    return ComCase(setup.end.label, m.com_db, fom, eq, m.to_dict(), found.evaluations + found.fast_evaluations,
                   {"search_s": t1 - t0, "com_s": time.perf_counter() - t1})


def erl_of(p: ClauseParams, thru: rf.Network, port_map) -> dict | None:
    """ERL of the thru per 93A.5 with the clause's values (None when the clause gives none)."""
    return erl(thru, port_map, p) if p.erl else None


__all__ = ["ComCase", "ComResult", "com_case", "compute_com"]
