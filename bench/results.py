"""Typed results of a qualification run: per lane, per rate, per cable, with SI units in the field names.

Frozen dataclasses (``to_dict()`` for JSON) built by the run (``accbench.bench.qualify``), judged by
the declared gates (``accbench.bench.gates``), written to and read back from the record
(``accbench.bench.recordschema``), and read by the run tables, the summary, the lot statistics and
the report through their attributes, never through string keys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

from accbench.dsp.reachestimate import estimate_reach_m

Outcome = Literal["pass", "marginal", "fail"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "marginal", "fail")  # better to worse


def worst_outcome(outcomes) -> Outcome:
    """The worst of ``outcomes`` (fail > marginal > pass); pass for none."""
    return max(outcomes, key=OUTCOMES.index, default="pass")


@dataclass(frozen=True)
class GateVerdict:
    """One gate's verdict on one cable: the value, the limit, the margin and the outcome."""

    name: str
    measures: str
    unit: str
    value: float | None
    limit: float | None
    comparison: Literal[">=", "<="]
    margin: float | None  # how far the value is on the good side of the limit (negative: beyond it), in ``unit``
    band: float  # within this of the limit the outcome is marginal: the resolution of what is measured
    outcome: Outcome
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LaneBer:
    """The BERT's count on one lane at one rate; ``ber_upper_95`` is what the BER gate uses."""

    lane: int
    bits: int
    errors: int | None
    ber: float | None
    ber_upper_95: float
    sync_lost: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelInputs:
    """What the link model found that the noise/jitter fit needs (``accbench.bench.modelfit``)."""

    main: int  # index of the main cursor in the equalised pulse
    sigma_parts: dict[str, float]
    dd_amplitude: float
    dfe: bool  # the link model used a one-tap DFE


@dataclass(frozen=True)
class LinkPrediction:
    """The link model on the measured channel at one rate: BER at the cable's length, margin, reach, CTLE, watts."""

    predicted_ber: float
    margin_db: float  # the link model's margin (not IEEE COM)
    eye_height: float
    reach_m: float
    margin_db_at_required: float
    gdc_db: float
    gdc2_db: float
    predicted_power_w: float
    model: ModelInputs
    reach_upper_m: float | None = None  # shortest failing length of the reach search (absent in older records)


@dataclass(frozen=True)
class ComFigures:
    """IEEE COM and ERL of the measured assembly under one clause, with the gate limits applied."""

    clause: str
    com_db: float
    erl_db: float | None
    eq: dict
    cases: dict[str, float]
    com_db_min: float
    erl_db_min: float | None
    elapsed_s: float


@dataclass(frozen=True)
class RateResult:
    """Figures, link prediction, BER counts and COM of one cable at one symbol rate."""

    gbd: float
    nyquist_hz: float
    il_db: float
    excess_il_db: float
    baseline_il_db: float
    mask_margin_db: float | None
    ild_rms_db: float
    rl_db: float
    link: LinkPrediction
    ber_measured: bool
    lanes: tuple[LaneBer, ...] = ()
    com: ComFigures | None = None

    @property
    def judged_by(self) -> str:
        return "bert" if self.ber_measured else "link model"

    def _worst_lane(self) -> LaneBer | None:
        return max(self.lanes, key=lambda lane: lane.ber_upper_95) if self.lanes else None

    @property
    def ber(self) -> float | None:
        worst = self._worst_lane()
        return None if worst is None else worst.ber

    @property
    def ber_upper_95(self) -> float | None:
        worst = self._worst_lane()
        return None if worst is None else worst.ber_upper_95

    @property
    def sync_lost(self) -> bool | None:
        return any(lane.sync_lost for lane in self.lanes) if self.lanes else None

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(judged_by=self.judged_by, ber=self.ber, ber_upper_95=self.ber_upper_95, sync_lost=self.sync_lost)
        return out


@dataclass(frozen=True)
class CableResult:
    """Everything a run found about one cable; its outcome is the worst of its gates (fail > marginal > pass)."""

    serial: str
    wire_lot: str
    carbon_mg_m2: float
    length_m: float
    lanes: int
    rates: tuple[RateResult, ...] = ()
    power_w: float | None = None
    power_at_gbd: float | None = None
    predicted_power_w: float | None = None
    verdicts: tuple[GateVerdict, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    timing_s: dict[str, float] = field(default_factory=dict)
    deembedded: bool = False
    instrument_error: str | None = None
    source: str = "qualify"  # "qualify", or "pytest" (the tests' own figures, in ``extra``)
    extra: dict = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        if self.instrument_error:
            return "fail"
        return worst_outcome(v.outcome for v in self.verdicts)

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def verdict(self, name: str) -> GateVerdict | None:
        return next((v for v in self.verdicts if v.name == name), None)

    def rate(self, gbd: float) -> RateResult:
        """The figures at ``gbd`` (KeyError when the cable has none at that rate)."""
        for r in self.rates:
            if abs(r.gbd - gbd) < 1e-9:
                return r
        raise KeyError(f"{self.serial} has no figures at {gbd:g} GBd")

    @property
    def il_db(self) -> dict[str, float]:
        """IL at each rate's Nyquist, keyed by the rate in GBd as text."""
        return {f"{r.gbd:g}": r.il_db for r in self.rates}

    @property
    def reach_m(self) -> float | None:
        """The link model's reach at the top rate."""
        return max(self.rates, key=lambda r: r.gbd).link.reach_m if self.rates else None

    @property
    def reach_estimate_m(self) -> float | None:
        """The reach search bracket's midpoint at the top rate (the unbiased figure for lot statistics)."""
        if not self.rates:
            return None
        link = max(self.rates, key=lambda r: r.gbd).link
        return estimate_reach_m(link.reach_m, link.reach_upper_m)

    @property
    def com_db(self) -> dict[str, float]:
        return {r.com.clause: r.com.com_db for r in self.rates if r.com is not None}

    @property
    def worst_erl_db(self) -> float | None:
        """The lowest ERL over the COM clauses (None where no clause gives ERL)."""
        erls = [r.com.erl_db for r in self.rates if r.com is not None and r.com.erl_db is not None]
        return min(erls) if erls else None

    def with_verdicts(self, verdicts: tuple[GateVerdict, ...]) -> CableResult:
        return replace(self, verdicts=tuple(verdicts))

    def to_dict(self) -> dict:
        """JSON form: the fields, the per-rate dicts, the verdicts by name, the outcome."""
        out = asdict(self)
        out["rates"] = [r.to_dict() for r in self.rates]
        out["verdicts"] = {v.name: v.to_dict() for v in self.verdicts}
        out.update(outcome=self.outcome, il_db=self.il_db, reach_m=self.reach_m, com_db=self.com_db)
        return out


@dataclass(frozen=True)
class RunResult:
    """A run as its record holds it: metadata, the plan as recorded, typed cables, events, summary."""

    name: str
    status: str  # running, complete, interrupted, failed
    schema: str
    started: str
    ended: str
    software_version: str
    plan: dict
    instruments: dict
    bench: dict
    events: tuple[tuple[str, str], ...]
    cables: tuple[CableResult, ...]
    timing_s: dict
    summary: dict

    def cable(self, serial: str) -> CableResult:
        return next(c for c in self.cables if c.serial == serial)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["cables"] = [c.to_dict() for c in self.cables]
        out["events"] = [list(e) for e in self.events]
        return out


def cable_from_dict(d: dict) -> CableResult:
    """A ``CableResult`` from its ``asdict``/``to_dict`` form (the journal keeps cables as JSON)."""
    def rate(r: dict) -> RateResult:
        link = dict(r["link"])
        link["model"] = ModelInputs(**link["model"])
        com = r.get("com")
        return RateResult(
            **{k: r[k] for k in ("gbd", "nyquist_hz", "il_db", "excess_il_db", "baseline_il_db", "mask_margin_db",
                                 "ild_rms_db", "rl_db", "ber_measured")},
            link=LinkPrediction(**link), lanes=tuple(LaneBer(**lane) for lane in r.get("lanes", ())),
            com=None if com is None else ComFigures(**com))

    verdicts = d.get("verdicts", ())
    if isinstance(verdicts, dict):
        verdicts = verdicts.values()
    names = {f.name for f in fields(CableResult)}
    plain = {k: v for k, v in d.items() if k in names and k not in ("rates", "verdicts", "errors", "notes")}
    return CableResult(**plain, rates=tuple(rate(r) for r in d.get("rates", ())),
                       verdicts=tuple(GateVerdict(**v) for v in verdicts), errors=tuple(d.get("errors", ())),
                       notes=tuple(d.get("notes", ())))
