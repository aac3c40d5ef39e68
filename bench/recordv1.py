"""Reading ``accbench-run/1`` records: a cable's figures JSON into the typed ``CableResult``.

Version 1 stored each cable's figures as one JSON string and its verdicts as pass/fail with a
margin; they become ``GateVerdict``s with the outcome pass or fail (version 1 had no marginal).
"""

from __future__ import annotations

from accbench.bench.results import (
    CableResult,
    ComFigures,
    GateVerdict,
    LaneBer,
    LinkPrediction,
    ModelInputs,
    RateResult,
)

_V1_GATES = {  # name -> (what it measured, unit, comparison, margin key)
    "il_mask": ("margin of the differential IL to the IL mask", "dB", ">=", "margin_db"),
    "reach": ("reach of the link model at the top rate and measured BER", "m", ">=", "margin_m"),
    "power": ("supply draw of the cable while running", "W", "<=", "margin_w"),
    "com": ("IEEE COM, worst clause", "dB", ">=", "margin_db"),
    "erl": ("IEEE ERL, worst clause", "dB", ">=", "margin_db"),
}
_KNOWN = {"serial", "wire_lot", "carbon_mg_m2", "length_m", "lanes", "rates", "power_w", "power_at_gbd",
          "predicted_power_w", "verdicts", "errors", "notes", "timing_s", "deembedded", "instrument_error", "pass",
          "il_db", "reach_m", "com_db", "source"}


def _rate(r: dict) -> RateResult:
    model = r.get("model") or {}
    inputs = ModelInputs(int(model.get("main", 0)), model.get("sigma_parts", {}), model.get("dd_amplitude", 0.0),
                         bool(model.get("dfe", False)))
    ctle = r.get("ctle") or {}
    com = r.get("com")
    return RateResult(
        gbd=r["gbd"], nyquist_hz=r["nyquist_hz"], il_db=r["il_db"], excess_il_db=r["excess_il_db"],
        baseline_il_db=r["baseline_il_db"], mask_margin_db=r.get("mask_margin_db"), ild_rms_db=r["ild_rms_db"],
        rl_db=r["rl_db"], ber_measured=bool(r.get("ber_measured", bool(r.get("lanes")))),
        link=LinkPrediction(r["predicted_ber"], r["margin_db"], r["eye_height"], r["reach_m"],
                            r["margin_db_at_required"], ctle.get("gdc_db", 0.0), ctle.get("gdc2_db", 0.0),
                            r["predicted_power_w"], inputs),
        lanes=tuple(LaneBer(x["lane"], x["bits"], x["errors"], x["ber"], x["ber_upper_95"], x["sync_lost"])
                    for x in r.get("lanes", [])),
        com=None if not com else ComFigures(com["clause"], com["com_db"], com.get("erl_db"), com.get("eq", {}),
                                            com.get("cases", {}), com["com_db_min"], com.get("erl_db_min"),
                                            com.get("elapsed_s", 0.0)))


def _verdicts(d: dict) -> tuple[GateVerdict, ...]:
    out = []
    for name, v in (d.get("verdicts") or {}).items():
        if v is None:
            continue
        measures, unit, comparison, key = _V1_GATES.get(name, (name, "", ">=", "margin"))
        out.append(GateVerdict(name, measures, unit, None, None, comparison, v.get(key), 0.0,
                               "pass" if v.get("pass") else "fail", "from an accbench-run/1 record"))
    if d.get("source") == "pytest":
        out.append(GateVerdict("tests", "outcome of the qualification tests", "", None, None, ">=", None, 0.0,
                               "pass" if d.get("pass") else "fail", ", ".join(d.get("tests", []))))
    return tuple(out)


def cable_from_v1(d: dict) -> CableResult:
    """The typed result of one version-1 cable's figures."""
    pytest_cable = d.get("source") == "pytest"
    return CableResult(
        serial=d["serial"], wire_lot=d["wire_lot"], carbon_mg_m2=d["carbon_mg_m2"], length_m=d["length_m"],
        lanes=d.get("lanes", 1), rates=() if pytest_cable else tuple(_rate(r) for r in d.get("rates", [])),
        power_w=d.get("power_w"), power_at_gbd=d.get("power_at_gbd"), predicted_power_w=d.get("predicted_power_w"),
        verdicts=_verdicts(d), errors=tuple(d.get("errors", [])), notes=tuple(d.get("notes", [])),
        timing_s=d.get("timing_s", {}), deembedded=bool(d.get("deembedded", False)),
        instrument_error=d.get("instrument_error"), source=d.get("source", "qualify"),
        extra={k: v for k, v in d.items() if k not in _KNOWN} if pytest_cable else {})
