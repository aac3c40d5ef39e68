"""The run summary as one JSON-ready object (``accbench qualify --json`` and ``accbench show --json``)."""

from __future__ import annotations

from accbench.bench.results import CableResult, RunResult


def cable_json(c: CableResult, outliers: set[str]) -> dict:
    """One cable's verdicts and figures for the JSON summary."""
    if c.source == "pytest":  # recorded by the pytest plugin: the tests' own figures
        return {"serial": c.serial, "wire_lot": c.wire_lot, "carbon_mg_m2": c.carbon_mg_m2, "length_m": c.length_m,
                "source": "pytest", "outcome": c.outcome, "pass": c.passed,
                "verdicts": {v.name: v.to_dict() for v in c.verdicts}, "outlier": False, **c.extra}
    return {
        "serial": c.serial, "wire_lot": c.wire_lot, "carbon_mg_m2": c.carbon_mg_m2, "length_m": c.length_m,
        "il_db": c.il_db, "reach_m": c.reach_m, "power_w": c.power_w, "predicted_power_w": c.predicted_power_w,
        "ber": {f"{r.gbd:g}": {"predicted": r.link.predicted_ber, "measured": r.ber, "upper_95": r.ber_upper_95,
                               "lanes": [lane.to_dict() for lane in r.lanes], "judged_by": r.judged_by}
                for r in c.rates},
        "power_at_gbd": c.power_at_gbd,
        "com": {r.com.clause: {"com_db": r.com.com_db, "erl_db": r.com.erl_db, "eq": r.com.eq,
                               "com_db_min": r.com.com_db_min, "erl_db_min": r.com.erl_db_min}
                for r in c.rates if r.com is not None},
        "outcome": c.outcome, "pass": c.passed, "verdicts": {v.name: v.to_dict() for v in c.verdicts},
        "outlier": c.serial in outliers, "errors": list(c.errors), "notes": list(c.notes),
        "instrument_error": c.instrument_error,
    }


def qualify_json(run: RunResult, record: str) -> dict:
    """Per-cable outcomes, verdicts and figures, per-lot summary, lot-level carbon inference and limits (with
    their intervals), model fit and outliers."""
    summary = run.summary or {}
    model = summary.get("model_vs_measurement") or {}
    outliers = set(model.get("outliers", []))
    return {"run": run.name, "status": run.status, "schema": run.schema, "record": record,
            "cables": [cable_json(c, outliers) for c in run.cables],
            "lots": summary.get("lots", []), "carbon_limit_mg_m2": summary.get("carbon_limit_mg_m2"),
            "carbon_limit_stretch_mg_m2": summary.get("carbon_limit_stretch_mg_m2"),
            "effect": summary.get("effect"), "regressions": summary.get("regressions"),
            "inference": summary.get("inference"), "limits": summary.get("limits"),
            "model_fit": {"ber": model.get("ber", {}).get("fit"), "power_scale": model.get("power", {}).get("scale"),
                          "power_scale_ci95": model.get("power", {}).get("scale_ci95")},
            "outliers": sorted(outliers)}
