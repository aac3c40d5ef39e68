"""Schema ``accbench-run/2`` of one cable in the run record: typed results as HDF5 groups, attributes and datasets.

Every figure is an attribute or dataset with its unit in its name (or a ``unit`` attribute), so
h5py or HDFView reads and searches it without parsing JSON. A value that was not measured is
absent. ``CABLE_FIELDS`` declares the layout (the README's schema table and a test read it);
``cable_from_v1`` reads a cable of an ``accbench-run/1`` record (figures as one JSON string).
"""

from __future__ import annotations

from dataclasses import fields

import h5py
import numpy as np
from accbench.bench.results import (
    CableResult,
    ComFigures,
    GateVerdict,
    LaneBer,
    LinkPrediction,
    ModelInputs,
    RateResult,
)

from accbench.errors import InputError

# (path inside /cables/<name>, kind, unit, meaning); <gbd> is a rate as text (e.g. 53.125), <gate> a gate name;
# in the attribute lists, "?" marks one that is absent where it was not measured
CABLE_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("serial", "attr", "", "the cable's serial as the plan gives it"),
    ("order", "attr", "", "position in the plan"),
    ("complete", "attr", "", "true once every part of the cable is written"),
    ("outcome", "attr", "", "pass, marginal or fail: the worst of the gates"),
    ("wire_lot", "attr", "", "the wire lot"),
    ("carbon_mg_m2", "attr", "mg/m^2", "the lot's surface carbon"),
    ("length_m", "attr", "m", "cable length"),
    ("lanes", "attr", "", "lanes of the cable"),
    ("power_w", "attr", "W", "supply draw while running (absent: not measured)"),
    ("power_at_gbd", "attr", "GBd", "the rate the cable ran at while its power was measured"),
    ("predicted_power_w", "attr", "W", "the power model's draw at that rate"),
    ("deembedded", "attr", "", "the sweep was de-embedded with the bench's 2x-thru"),
    ("source", "attr", "", "qualify, or pytest (the tests' own figures under extra/)"),
    ("errors", "attr", "", "errors of the cable (text array)"),
    ("instrument_error?", "attr", "", "the instrument fault that stopped the cable (absent: none)"),
    ("notes", "attr", "", "faults that a re-open and retry mended (text array)"),
    ("freq_hz", "dataset", "Hz", "sweep frequencies (N)"),
    ("s", "dataset", "", "raw 4-port S-parameters as measured (N x 4 x 4 complex)"),
    ("rates/<gbd>", "attrs", "", "gbd, nyquist_hz, il_db, excess_il_db, baseline_il_db, mask_margin_db? (the masked "
     "rate), ild_rms_db, rl_db, ber_measured, judged_by"),
    ("rates/<gbd>/link", "attrs", "", "predicted_ber, margin_db, eye_height, reach_m, margin_db_at_required, gdc_db, "
     "gdc2_db, predicted_power_w, reach_upper_m? (the reach search's shortest failing length; absent in records "
     "written before it was kept)"),
    ("rates/<gbd>/link/model", "attrs", "", "main, dd_amplitude, dfe, sigma_parts/: inputs of the noise/jitter fit"),
    ("rates/<gbd>/lanes", "dataset", "", "per lane: lane, bits, errors (-1: none), ber, ber_upper_95, sync_lost"),
    ("rates/<gbd>/eq_cursors", "dataset", "V", "the link model's equalised pulse cursors"),
    ("rates/<gbd>/com", "attrs", "dB", "clause, com_db, erl_db? (where the clause gives ERL), com_db_min, erl_db_min?, "
     "elapsed_s, eq/, cases/"),
    ("verdicts/<gate>", "attrs", "", "name, measures, unit, value? (absent: not measured), limit, comparison, margin?, "
     "band, outcome, detail"),
    ("timing_s", "attrs", "s", "sweep, analysis, link model, reach, COM, bert, power, record: seconds per step"),
    ("eq_cursors_<gbd>?", "dataset", "V", "model cursors of a rate with no figures (absent otherwise)"),
    ("extra?", "attrs", "", "the pytest plugin's cables: the tests' own figures (absent otherwise)"),
)
# at the end of a complete run: / attrs carbon_limit_mg_m2?, carbon_limit_stretch_mg_m2?, effect; /lots/<id> attrs
# cables, pass_rate, marginal, il_db_<gbd>, excess_il_db_<gbd>, reach_m (the lot summary, also in summary_json)
_LANE_DTYPE = np.dtype([("lane", "i4"), ("bits", "i8"), ("errors", "i8"), ("ber", "f8"), ("ber_upper_95", "f8"),
                        ("sync_lost", "?")])
_TEXT = h5py.string_dtype()


def _put(attrs, values: dict) -> None:
    """Attributes from plain values; None is left out (absent means not measured)."""
    for key, value in values.items():
        if value is not None:
            attrs[key] = value


def _write_tree(group: h5py.Group, values: dict) -> None:
    """A nested dict as attributes (numbers, text, number lists) and subgroups (dicts)."""
    for key, value in values.items():
        if isinstance(value, dict):
            _write_tree(group.create_group(str(key)), value)
        elif value is not None:
            group.attrs[str(key)] = value


def check_storable(values: dict, what: str = "figure") -> None:
    """InputError naming the first value an HDF5 attribute cannot hold (checked before anything is journaled)."""
    import uuid

    with h5py.File(f"accbench-check-{uuid.uuid4().hex}", "w", driver="core", backing_store=False) as f:
        for key, value in values.items():
            try:
                _write_tree(f.create_group("x"), {key: value})
            except (TypeError, ValueError) as exc:
                raise InputError(f"{what} {key!r} = {value!r} cannot be stored in the run record ({exc}); record "
                                 "numbers, text, lists of numbers or tables of these") from exc
            del f["x"]


def _read_tree(group: h5py.Group) -> dict:
    out = {key: _plain(value) for key, value in group.attrs.items()}
    out |= {key: _read_tree(sub) for key, sub in group.items() if isinstance(sub, h5py.Group)}
    return out


def _plain(value):
    """An attribute as a plain Python value (numpy scalars and arrays to float/int/bool/str/list)."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.dtype.kind not in "OSU" else [str(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    return value


def write_cable(group: h5py.Group, cable: CableResult, order: int, freq_hz: np.ndarray, s: np.ndarray,
                arrays: dict[str, np.ndarray] | None = None) -> None:
    """Write one cable's data and typed results into an empty group (``complete`` is the caller's last step)."""
    group.create_dataset("freq_hz", data=np.asarray(freq_hz, dtype=float)).attrs["unit"] = "Hz"
    # uncompressed: measured (noisy) S-parameters shrink by 5 % under gzip, 15 % with byte shuffle, at
    # ~40 ms per 6000-point 4-port cable on a 2-core machine, which was a third of the run's record time
    group.create_dataset("s", data=np.asarray(s, dtype=complex))
    _put(group.attrs, {"serial": cable.serial, "order": order, "outcome": cable.outcome, "wire_lot": cable.wire_lot,
                       "carbon_mg_m2": cable.carbon_mg_m2, "length_m": cable.length_m, "lanes": cable.lanes,
                       "power_w": cable.power_w, "power_at_gbd": cable.power_at_gbd,
                       "predicted_power_w": cable.predicted_power_w, "deembedded": cable.deembedded,
                       "instrument_error": cable.instrument_error, "source": cable.source})
    group.attrs.create("errors", list(cable.errors), dtype=_TEXT)
    group.attrs.create("notes", list(cable.notes), dtype=_TEXT)
    rates = group.create_group("rates")
    arrays = dict(arrays or {})
    for rate in cable.rates:
        _write_rate(rates.create_group(f"{rate.gbd:g}"), rate, arrays.pop(f"eq_cursors_{rate.gbd:g}", None))
    for name, values in arrays.items():  # model arrays of no recorded rate stay beside the data
        group.create_dataset(name, data=np.asarray(values, dtype=float))
    verdicts = group.create_group("verdicts", track_order=True)  # read back in the order the gates were judged
    for v in cable.verdicts:
        _put(verdicts.create_group(v.name).attrs, v.to_dict())
    _put(group.create_group("timing_s").attrs, dict(cable.timing_s))
    if cable.extra:
        _write_tree(group.create_group("extra"), cable.extra)


def _write_rate(g: h5py.Group, rate: RateResult, cursors: np.ndarray | None) -> None:
    _put(g.attrs, {f.name: getattr(rate, f.name) for f in fields(RateResult)
                   if f.name not in ("link", "lanes", "com")} | {"judged_by": rate.judged_by})
    link = g.create_group("link")
    _put(link.attrs, {f.name: getattr(rate.link, f.name) for f in fields(LinkPrediction) if f.name != "model"})
    model = rate.link.model
    _write_tree(link.create_group("model"), {"main": model.main, "dd_amplitude": model.dd_amplitude,
                                             "dfe": model.dfe, "sigma_parts": model.sigma_parts})
    lanes = np.array([(lane.lane, lane.bits, -1 if lane.errors is None else lane.errors,
                       np.nan if lane.ber is None else lane.ber, lane.ber_upper_95, lane.sync_lost)
                      for lane in rate.lanes], dtype=_LANE_DTYPE)
    g.create_dataset("lanes", data=lanes)
    if cursors is not None:
        g.create_dataset("eq_cursors", data=np.asarray(cursors, dtype=float)).attrs["unit"] = "V"
    if rate.com is not None:
        com = g.create_group("com")
        _put(com.attrs, {f.name: getattr(rate.com, f.name) for f in fields(ComFigures)
                         if f.name not in ("eq", "cases")})
        _write_tree(com.create_group("eq"), rate.com.eq)
        _write_tree(com.create_group("cases"), rate.com.cases)


def read_cable(group: h5py.Group) -> CableResult:
    """The typed result of one ``accbench-run/2`` cable group."""
    a = {k: _plain(v) for k, v in group.attrs.items()}
    rates = [_read_rate(g) for g in group["rates"].values()]
    rates.sort(key=lambda r: r.gbd)
    verdicts = [GateVerdict(**{f.name: _plain(g.attrs.get(f.name)) for f in fields(GateVerdict)})
                for g in group["verdicts"].values()]
    return CableResult(
        serial=a["serial"], wire_lot=a["wire_lot"], carbon_mg_m2=a["carbon_mg_m2"], length_m=a["length_m"],
        lanes=a["lanes"], rates=tuple(rates), power_w=a.get("power_w"), power_at_gbd=a.get("power_at_gbd"),
        predicted_power_w=a.get("predicted_power_w"), verdicts=tuple(verdicts), errors=tuple(a.get("errors", [])),
        notes=tuple(a.get("notes", [])), timing_s=_read_tree(group["timing_s"]), deembedded=bool(a["deembedded"]),
        instrument_error=a.get("instrument_error"), source=a.get("source", "qualify"),
        extra=_read_tree(group["extra"]) if "extra" in group else {})


def _read_rate(g: h5py.Group) -> RateResult:
    a = {k: _plain(v) for k, v in g.attrs.items()}
    link = {k: _plain(v) for k, v in g["link"].attrs.items()}
    model = _read_tree(g["link"]["model"])
    lanes = tuple(LaneBer(int(r["lane"]), int(r["bits"]), None if r["errors"] < 0 else int(r["errors"]),
                          None if np.isnan(r["ber"]) else float(r["ber"]), float(r["ber_upper_95"]),
                          bool(r["sync_lost"])) for r in g["lanes"][()])
    com = None
    if "com" in g:
        c = {k: _plain(v) for k, v in g["com"].attrs.items()}
        com = ComFigures(c["clause"], c["com_db"], c.get("erl_db"), _read_tree(g["com"]["eq"]),
                         _read_tree(g["com"]["cases"]), c["com_db_min"], c.get("erl_db_min"), c["elapsed_s"])
    return RateResult(
        gbd=a["gbd"], nyquist_hz=a["nyquist_hz"], il_db=a["il_db"], excess_il_db=a["excess_il_db"],
        baseline_il_db=a["baseline_il_db"], mask_margin_db=a.get("mask_margin_db"), ild_rms_db=a["ild_rms_db"],
        rl_db=a["rl_db"], ber_measured=bool(a["ber_measured"]), lanes=lanes, com=com,
        link=LinkPrediction(**link, model=ModelInputs(int(model["main"]), model.get("sigma_parts", {}),
                                                      model["dd_amplitude"], model["dfe"])))


def read_cursors(group: h5py.Group) -> dict[str, np.ndarray]:
    """Rate in GBd as text -> the link model's equalised cursors of one cable (either schema)."""
    out = {name.removeprefix("eq_cursors_"): group[name][()] for name in group if name.startswith("eq_cursors_")}
    if "rates" in group:
        out |= {name: g["eq_cursors"][()] for name, g in group["rates"].items() if "eq_cursors" in g}
    return out

