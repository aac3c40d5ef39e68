"""Trends across runs and stations (``accbench trend``): SPC of a figure over the database's history, and the
carbon regression over every lot in it.

A metric is one of ``il`` (IL at the Nyquist frequency of each rate, ``il@53.125`` for one),
``com`` (IEEE COM of each clause, ``com@802.3ck-cr``), ``reach`` (the link model's reach at the top
rate) and ``power`` (the supply draw). Each series is the metric's value for every cable that has
it, in the order measured (run start, then order in the run); its charts are the individuals
chart in that order and X-bar/S (or R) with the wire lots as subgroups (``accbench.db.spc``); its
capability is measured against the gate: IL against the plan's IL mask at that Nyquist (upper),
COM against the clause's minimum, reach against the reach gate (lower), watts against the power
gate (upper). The carbon regression fits the lots' means (every lot of the history, one point per
lot) with the run's own lot-level statistics (``accbench.bench.traceability``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from accbench.bench.traceability import MIN_EXCESS_DB, MIN_REACH_M, hinge_fit, lot_inference
from accbench.db import spc
from accbench.db.database import Database
from accbench.db.models import Cable, Lot, RateFigures, Run, Station, Verdict
from accbench.db.query import Filters, filtered
from accbench.errors import FieldError

KINDS = {  # name -> (what, unit, which side the gate limits)
    "il": ("IL at Nyquist", "dB", "upper"),
    "com": ("IEEE COM", "dB", "lower"),
    "reach": ("reach at the top rate", "m", "lower"),
    "power": ("supply draw", "W", "upper"),
}
ALIASES = {"il_db": "il", "com_db": "com", "reach_m": "reach", "power_w": "power", "watts": "power"}
GBD_MATCH = 1e-6


@dataclass(frozen=True)
class Metric:
    """One series: a kind and, for IL and COM, the rate (GBd) or clause."""

    kind: str
    key: str | None = None

    @property
    def name(self) -> str:
        return self.kind if self.key is None else f"{self.kind}@{self.key}"

    @property
    def title(self) -> str:
        what, unit, _ = KINDS[self.kind]
        where = {"il": f" of {self.key} GBd", "com": f" ({self.key})"}.get(self.kind, "") if self.key else ""
        return f"{what}{where}, {unit}"

    @property
    def unit(self) -> str:
        return KINDS[self.kind][1]


def parse_metric(text: str) -> Metric:
    """``il``, ``il@53.125``, ``com``, ``com@802.3ck-cr``, ``reach`` or ``power`` (FieldError naming the choices)."""
    kind, _, key = text.strip().partition("@")
    kind = ALIASES.get(kind.strip().lower(), kind.strip().lower())
    choices = "il, il@GBD, com, com@CLAUSE, reach, power"
    if kind not in KINDS:
        raise FieldError(f"unknown metric {text!r}: use {choices}", "metric")
    key = key.strip() or None
    if key is not None and kind in ("reach", "power"):
        raise FieldError(f"metric {text!r}: {kind} has no @ part; use {kind}", "metric")
    if key is not None and kind == "il":
        try:
            key = f"{float(key):g}"
        except ValueError:
            raise FieldError(f"metric {text!r}: the rate after @ must be in GBd (il@53.125)", "metric") from None
    return Metric(kind, key)


@dataclass(frozen=True)
class Point:
    """One cable's value of a metric, with the gate limit that applied to it and where it came from."""

    value: float
    limit: float | None
    serial: str
    lot: str
    station: str
    run: str
    started: str


def _base(columns, filters: Filters):
    statement = (select(*columns, Cable.serial, Lot.name, Station.name, Run.name, Run.started)
                 .select_from(Cable).join(Run, Cable.run_id == Run.id).join(Station, Run.station_id == Station.id)
                 .join(Lot, Cable.lot_id == Lot.id).where(Cable.instrument_error.is_(None)))
    return filtered(statement, filters).order_by(Run.started, Run.id, Cable.position)


def _statement(metric: Metric, filters: Filters):
    if metric.kind == "il":
        gbd = float(metric.key)
        return _base([RateFigures.il_db, RateFigures.il_db_max], filters).join(
            RateFigures, RateFigures.cable_id == Cable.id).where(RateFigures.gbd.between(gbd - GBD_MATCH,
                                                                                         gbd + GBD_MATCH))
    if metric.kind == "com":
        return _base([RateFigures.com_db, RateFigures.com_db_min], filters).join(
            RateFigures, RateFigures.cable_id == Cable.id).where(RateFigures.com_clause == metric.key,
                                                                 RateFigures.com_db.is_not(None))
    column, gate = (Cable.reach_m, "reach") if metric.kind == "reach" else (Cable.power_w, "power")
    return _base([column, Verdict.limit_value], filters).outerjoin(
        Verdict, and_(Verdict.cable_id == Cable.id, Verdict.name == gate)).where(column.is_not(None))


def series(session: Session, metric: Metric, filters: Filters) -> list[Point]:
    """The metric's points matching ``filters``, in the order measured."""
    return [Point(float(v), None if lim is None else float(lim), serial, lot, station, run, started.isoformat() + "Z")
            for v, lim, serial, lot, station, run, started in session.execute(_statement(metric, filters))]


def expand(session: Session, metric: Metric, filters: Filters) -> list[Metric]:
    """``il`` and ``com`` without @ as one metric per rate or clause in the database; a named one checked to exist."""
    if metric.kind not in ("il", "com"):
        return [metric]
    column = RateFigures.gbd if metric.kind == "il" else RateFigures.com_clause
    statement = (_base([], filters).join(RateFigures, RateFigures.cable_id == Cable.id).where(column.is_not(None))
                 .with_only_columns(column).distinct().order_by(None))
    keys = set(session.scalars(statement))
    found = sorted({f"{g:g}" for g in keys}, key=float) if metric.kind == "il" else sorted(keys)
    if metric.key is None:
        return [Metric(metric.kind, key) for key in found]
    if metric.key not in found:
        what = "rates (GBd)" if metric.kind == "il" else "COM clauses"
        scope = " for these filters" if filters != Filters() else ""
        raise FieldError(f"metric {metric.name}: not in the database{scope}; its {what}: {', '.join(found) or 'none'}",
                         "metric")
    return [metric]


@dataclass(frozen=True)
class MetricTrend:
    """The SPC of one metric: its points, charts, capability against the gate and the Western Electric flags."""

    metric: Metric
    points: tuple[Point, ...]
    individuals: spc.ChartPair | None
    lots: spc.ChartPair | None
    capability: spc.Capability | None
    sigma_from: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def violations(self) -> list[tuple[str, spc.Violation]]:
        out = [("individuals", v) for v in (self.individuals.location.violations if self.individuals else ())]
        return out + [("lots", v) for v in (self.lots.location.violations if self.lots else ())]

    def to_dict(self) -> dict:
        return {"metric": self.metric.name, "title": self.metric.title, "unit": self.metric.unit,
                "points": len(self.points),
                "individuals": None if self.individuals is None else self.individuals.to_dict(),
                "lots": None if self.lots is None else self.lots.to_dict(),
                "capability": None if self.capability is None else self.capability.to_dict(),
                "sigma_from": self.sigma_from, "notes": list(self.notes),
                "violations": [{"chart": chart, **v.to_dict()} for chart, v in self.violations],
                "series": [vars(p) for p in self.points]}


def gate_limit(points: list[Point]) -> tuple[float | None, list[str]]:
    """The gate limit of the series: the one every point had, else the latest (said in a note)."""
    limits = [p.limit for p in points if p.limit is not None]
    if not limits:
        return None, ["no gate limit recorded for this metric: no capability index"]
    distinct = Counter(limits)
    if len(distinct) == 1:
        return limits[0], []
    return limits[-1], [f"the gate limit changed over the history ({', '.join(f'{v:g}' for v in distinct)}): "
                        f"capability against the latest, {limits[-1]:g}"]


def metric_trend(points: list[Point], metric: Metric, spread: str = "s") -> MetricTrend:
    """Charts, Western Electric flags and capability of one series."""
    values = np.array([p.value for p in points], float)
    labels = tuple(p.serial for p in points)
    single = spc.individuals(values, labels)
    order = list(dict.fromkeys(p.lot for p in points))  # lots in the order first measured
    groups = [values[[i for i, p in enumerate(points) if p.lot == lot]] for lot in order]
    lots = spc.subgroup_charts(groups, tuple(order), spread)
    notes: list[str] = []
    if lots is not None:
        sigma, sigma_from = lots.sigma, f"within lots ({lots.method})"
    elif single is not None:
        sigma, sigma_from = single.sigma, f"moving range ({single.method})"
        notes.append("fewer than two lots with two cables or more: no X-bar chart; Cpk with the moving-range sigma")
    else:
        sigma, sigma_from = None, None
    limit, limit_notes = gate_limit(points)
    notes += limit_notes
    side = KINDS[metric.kind][2]
    capability = spc.capability(values, sigma, lsl=limit if side == "lower" else None,
                                usl=limit if side == "upper" else None) if values.size else None
    return MetricTrend(metric, tuple(points), single, lots, capability, sigma_from, tuple(notes))


def carbon_history(session: Session, filters: Filters) -> dict:
    """Lot means over the whole history (every run matching ``filters``) and their fits on carbon.

    Per rate, the excess IL's hinge fit; for reach (the reach search's bracket midpoints), the hinge
    fit and the lot-level inference, all with ``accbench.bench.traceability``'s functions.
    """
    rows = session.execute(filtered(
        select(Lot.name, Lot.carbon_mg_m2, Cable.id, Cable.reach_estimate_m, RateFigures.gbd, RateFigures.excess_il_db)
        .select_from(Cable).join(Run, Cable.run_id == Run.id).join(Station, Run.station_id == Station.id)
        .join(Lot, Cable.lot_id == Lot.id).outerjoin(RateFigures, RateFigures.cable_id == Cable.id)
        .where(Cable.instrument_error.is_(None)), filters)).all()
    lots: dict[str, dict] = {}
    for lot, carbon, cable_id, reach, gbd, excess in rows:
        entry = lots.setdefault(lot, {"id": lot, "carbon_mg_m2": carbon, "reach": {}, "excess": {}})
        if reach is not None:
            entry["reach"][cable_id] = reach
        if gbd is not None:
            entry["excess"].setdefault(f"{gbd:g}", {})[cable_id] = excess
    table = []
    for entry in lots.values():
        row = {"id": entry["id"], "carbon_mg_m2": entry["carbon_mg_m2"],
               "cables": len(set(entry["reach"]) | {c for v in entry["excess"].values() for c in v}),
               "reach_estimate_m": float(np.mean(list(entry["reach"].values()))) if entry["reach"] else None}
        row |= {f"excess_il_db_{gbd}": float(np.mean(list(v.values()))) for gbd, v in entry["excess"].items()}
        table.append(row)
    table.sort(key=lambda r: (r["carbon_mg_m2"], r["id"]))
    rates = sorted({k.removeprefix("excess_il_db_") for r in table for k in r if k.startswith("excess_il_db_")},
                   key=float)
    regressions: dict[str, dict | None] = {}
    for gbd in rates:
        key = f"excess_il_db_{gbd}"
        have = [r for r in table if r.get(key) is not None]
        regressions[key] = hinge_fit(np.array([r["carbon_mg_m2"] for r in have]), np.array([r[key] for r in have]),
                                     min_effect=MIN_EXCESS_DB)
    measured = [r for r in table if r["reach_estimate_m"] is not None]
    carbon = np.array([r["carbon_mg_m2"] for r in measured], float)
    reach = np.array([r["reach_estimate_m"] for r in measured], float)
    regressions["reach_m"] = hinge_fit(carbon, reach, min_effect=MIN_REACH_M)
    return {"lots": table, "rates_gbd": rates, "regressions": regressions,
            "inference": lot_inference(carbon, reach)}


@dataclass(frozen=True)
class Trend:
    """The trend of every metric asked for, and the carbon regression over the history."""

    metrics: tuple[MetricTrend, ...]
    carbon: dict
    filters: Filters
    database: str

    def to_dict(self) -> dict:
        return {"database": self.database, "metrics": [m.to_dict() for m in self.metrics], "carbon": self.carbon,
                "filters": {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                            for k, v in vars(self.filters).items() if v is not None}}


def trend(db: Database, metrics: list[str], filters: Filters | None = None, spread: str = "s") -> Trend:
    """The trend of ``metrics`` (all four kinds when empty) over the cables matching ``filters``."""
    filters = filters or Filters()
    if spread not in ("s", "r"):
        raise FieldError(f"chart {spread!r}: use s (X-bar/S) or r (X-bar/R)", "spread")
    asked = [parse_metric(m) for m in metrics] or [Metric(kind) for kind in KINDS]

    def work(session: Session) -> Trend:
        done = []
        for metric in asked:
            for m in expand(session, metric, filters):
                points = series(session, m, filters)
                if points:
                    done.append(metric_trend(points, m, spread))
                elif metrics:  # asked for by name: say it has nothing, rather than leave it out
                    raise FieldError(f"metric {m.name}: no values in database {db.shown}"
                                     + (" for these filters" if filters != Filters() else ""), "metric")
        if not done:
            raise FieldError(f"no cables with figures in database {db.shown}"
                             + (" match these filters" if filters != Filters() else ""), "metric")
        return Trend(tuple(done), carbon_history(session, filters), filters, db.shown)

    return db.read(work, "reading the history")
