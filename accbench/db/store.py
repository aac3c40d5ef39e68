"""Writing runs and cables into the results database: upserts keyed so a second write of the same thing replaces it.

A run is keyed by its record's run id (``run_key``), a cable by (run, serial), a station and a lot by
name; so writing a record twice, or live and then by ingest, leaves one copy, and two stations
writing at once never collide (a lost race on a shared station or lot row retries the transaction,
``Database.transaction``). Each function here works inside one caller's transaction.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from accbench.bench.results import CableResult, RateResult
from accbench.db.models import Cable, Event, Instrument, LaneCount, Lot, RateFigures, Run, Station, Verdict
from accbench.errors import InputError

NYQUIST_MATCH_HZ = 1e3  # a one-point mask applies to the Nyquist frequency it was given at (to rounding)


@dataclass(frozen=True)
class RunRow:
    """What the database keeps about a run besides its cables."""

    run_key: str
    name: str
    station: str
    station_kind: str
    station_json: dict
    operator: str | None
    software_version: str
    record_schema: str
    record_path: str
    host: str | None
    started: datetime
    ended: datetime | None
    status: str
    written_by: str
    plan: dict
    instruments: dict
    summary: dict | None = None
    events: tuple[tuple[str, str], ...] = ()
    lots: tuple[dict, ...] = field(default=())
    station_given: bool = True  # False: ``station`` is a default, and a run already in the database keeps its own


def utc(text: str | None) -> datetime | None:
    """A record's time text (ISO 8601, ``Z`` for UTC) as a naive UTC datetime; None for none."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"time {text!r} is not ISO 8601 (e.g. 2026-11-30T08:00:00Z)") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _insert(session: Session, table):
    """The dialect's INSERT (with ON CONFLICT) for ``table``."""
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def _station(session: Session, name: str, kind: str) -> int:
    session.execute(_insert(session, Station).values(name=name, kind=kind, first_seen=now_utc())
                    .on_conflict_do_nothing(index_elements=["name"]))
    return session.scalars(select(Station.id).where(Station.name == name)).one()


def lot_ids(session: Session, lots: list[dict]) -> dict[str, int]:
    """The id of each lot by name, adding those not yet known (the first definition of a lot stays)."""
    for lot in lots:
        session.execute(_insert(session, Lot).values(
            name=str(lot["id"]), carbon_mg_m2=float(lot["carbon_mg_m2"]), grade=lot.get("grade"),
            fields_json=json.dumps(lot)).on_conflict_do_nothing(index_elements=["name"]))
    names = [str(lot["id"]) for lot in lots]
    return dict(session.execute(select(Lot.name, Lot.id).where(Lot.name.in_(names))).all())


def upsert_run(session: Session, row: RunRow) -> int:
    """Insert or update the run (status, end, summary, events replaced); its id."""
    known = session.execute(select(Run.station_id, Run.host).where(Run.run_key == row.run_key)).first()
    if known is not None and not row.station_given:
        station_id, host = known
    else:
        station_id, host = _station(session, row.station, row.station_kind), row.host
    values = dict(run_key=row.run_key, name=row.name, station_id=station_id, operator=row.operator,
                  software_version=row.software_version, record_schema=row.record_schema,
                  record_path=row.record_path, host=host, started=row.started, ended=row.ended,
                  status=row.status, written_by=row.written_by, plan_json=json.dumps(row.plan),
                  station_json=json.dumps(row.station_json),
                  summary_json=None if row.summary is None else json.dumps(row.summary))
    update = {k: v for k, v in values.items() if k not in ("run_key", "written_by")}
    if row.operator is None:
        update.pop("operator")  # an ingest that does not know the operator keeps the one the live run wrote
    session.execute(_insert(session, Run).values(**values)
                    .on_conflict_do_update(index_elements=["run_key"], set_=update))
    run_id = session.scalars(select(Run.id).where(Run.run_key == row.run_key)).one()
    session.execute(delete(Instrument).where(Instrument.run_id == run_id))
    session.add_all(Instrument(run_id=run_id, role=role, maker=str(ident.get("maker", "")),
                               model=str(ident.get("model", "")), serial_number=str(ident.get("serial", "")),
                               firmware=str(ident.get("firmware", "")), dialect=ident.get("dialect"))
                    for role, ident in sorted(row.instruments.items()))
    set_events(session, run_id, row.events)
    return run_id


def set_events(session: Session, run_id: int, events) -> None:
    """The run's events, replaced by ``events`` ((time, text) in record order)."""
    session.execute(delete(Event).where(Event.run_id == run_id))
    session.add_all(Event(run_id=run_id, seq=i, at=str(at), text=str(text)) for i, (at, text) in enumerate(events))


def _finite(value) -> float | None:
    """A float for a REAL column: None for none; infinities and NaN as None (they are not portable in SQL)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _rate_row(rate: RateResult, il_limit: float | None) -> RateFigures:
    com = rate.com
    return RateFigures(
        gbd=rate.gbd, nyquist_hz=rate.nyquist_hz, il_db=rate.il_db, il_db_max=il_limit,
        excess_il_db=rate.excess_il_db, baseline_il_db=rate.baseline_il_db, mask_margin_db=_finite(rate.mask_margin_db),
        ild_rms_db=rate.ild_rms_db, rl_db=rate.rl_db, ber_measured=rate.ber_measured,
        predicted_ber=rate.link.predicted_ber, link_margin_db=rate.link.margin_db, eye_height=rate.link.eye_height,
        reach_m=rate.link.reach_m, reach_upper_m=_finite(rate.link.reach_upper_m),
        predicted_power_w=rate.link.predicted_power_w,
        com_clause=None if com is None else com.clause, com_db=None if com is None else _finite(com.com_db),
        com_db_min=None if com is None else com.com_db_min, erl_db=None if com is None else _finite(com.erl_db),
        erl_db_min=None if com is None else com.erl_db_min,
        lanes=[LaneCount(lane=lane.lane, bits=lane.bits, errors=lane.errors, ber=_finite(lane.ber),
                         ber_upper_95=lane.ber_upper_95, sync_lost=lane.sync_lost) for lane in rate.lanes])


def il_limits(plan: dict) -> dict[float, float]:
    """The plan's IL mask at each rate's Nyquist where the mask reaches it ({} without a mask or one unreadable)."""
    from accbench.dsp.masks import load_mask

    name = (plan.get("gates") or {}).get("il_mask")
    if not name:
        return {}
    try:
        mask = load_mask(name)
    except InputError:  # a mask file of another machine: the figures are kept, the limit is not known here
        return {}
    out = {}
    for gbd in plan.get("rates_gbd", []):
        nyquist_hz = float(gbd) * 1e9 / 2
        if mask.freq_hz[0] - NYQUIST_MATCH_HZ <= nyquist_hz <= mask.freq_hz[-1] + NYQUIST_MATCH_HZ:
            out[float(gbd)] = float(mask.limit_at(nyquist_hz))
    return out


def write_cable(session: Session, run_id: int, position: int, cable: CableResult, lots: dict[str, int],
                il_limit: dict[float, float]) -> int:
    """Replace cable ``cable.serial`` of run ``run_id`` by ``cable`` (rates, lanes, verdicts); its id."""
    session.execute(delete(Cable).where(Cable.run_id == run_id, Cable.serial == cable.serial))
    row = Cable(
        run_id=run_id, position=position, serial=cable.serial, lot_id=lots[cable.wire_lot],
        carbon_mg_m2=cable.carbon_mg_m2, length_m=cable.length_m, lanes=cable.lanes, outcome=cable.outcome,
        power_w=_finite(cable.power_w), power_at_gbd=cable.power_at_gbd,
        predicted_power_w=_finite(cable.predicted_power_w), reach_m=_finite(cable.reach_m),
        reach_estimate_m=_finite(cable.reach_estimate_m), instrument_error=cable.instrument_error,
        source=cable.source, deembedded=cable.deembedded, written_at=now_utc(),
        result_json=json.dumps(cable.to_dict(), allow_nan=True),
        rates=[_rate_row(r, next((v for g, v in il_limit.items() if abs(g - r.gbd) < 1e-9), None))
               for r in cable.rates],
        verdicts=[Verdict(name=v.name, measures=v.measures, unit=v.unit, value=_finite(v.value),
                          limit_value=_finite(v.limit), comparison=v.comparison, margin=_finite(v.margin),
                          band=v.band, outcome=v.outcome, detail=v.detail) for v in cable.verdicts])
    session.add(row)
    session.flush()
    return row.id


def cable_lots(cables, plan: dict) -> list[dict]:
    """The plan's lots, plus any lot a cable names that the plan does not (from the cable's own carbon)."""
    lots = {str(lot["id"]): lot for lot in plan.get("lots", [])}
    for cable in cables:
        lots.setdefault(cable.wire_lot, {"id": cable.wire_lot, "carbon_mg_m2": cable.carbon_mg_m2})
    return list(lots.values())


def serials(session: Session, run_key: str) -> set[str]:
    """The serials the database holds for the run ``run_key``."""
    return set(session.scalars(select(Cable.serial).join(Run).where(Run.run_key == run_key)))
