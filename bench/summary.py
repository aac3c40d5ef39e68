"""The run summary as one JSON-ready object (``accbench qualify --json`` and ``accbench show --json``)."""

from __future__ import annotations


def qualify_json(run: dict, record: str) -> dict:
    """Per-cable verdicts and figures, per-lot summary, carbon limits, model fit and outliers."""
    summary = run.get("summary") or {}
    model = summary.get("model_vs_measurement") or {}
    outliers = set(model.get("outliers", []))
    cables = []
    for c in run["cables"]:
        if c.get("source") == "pytest":  # recorded by the pytest plugin: the tests' own figures
            cables.append(c | {"outlier": False})
            continue
        cables.append({
            "serial": c["serial"], "wire_lot": c["wire_lot"], "carbon_mg_m2": c["carbon_mg_m2"],
            "length_m": c["length_m"], "il_db": c["il_db"], "reach_m": c["reach_m"], "power_w": c["power_w"],
            "predicted_power_w": c.get("predicted_power_w"),
            "ber": {f"{r['gbd']:g}": {"predicted": r["predicted_ber"], "measured": r["ber"],
                                      "upper_95": r["ber_upper_95"], "lanes": r["lanes"],
                                      "judged_by": r.get("judged_by", "bert")} for r in c["rates"]},
            "power_at_gbd": c.get("power_at_gbd"),
            "com": {r["com"]["clause"]: {k: r["com"][k] for k in ("com_db", "erl_db", "eq", "com_db_min", "erl_db_min")}
                    for r in c["rates"] if r.get("com")},
            "pass": c["pass"], "verdicts": c["verdicts"], "outlier": c["serial"] in outliers,
            "errors": c["errors"], "instrument_error": c.get("instrument_error"),
        })
    return {"run": run["name"], "status": run["status"], "record": record, "cables": cables,
            "lots": summary.get("lots", []), "carbon_limit_mg_m2": summary.get("carbon_limit_mg_m2"),
            "carbon_limit_stretch_mg_m2": summary.get("carbon_limit_stretch_mg_m2"),
            "effect": summary.get("effect"), "regressions": summary.get("regressions"),
            "model_fit": {"ber": model.get("ber", {}).get("fit"), "power_scale": model.get("power", {}).get("scale"),
                          "power_scale_ci95": model.get("power", {}).get("scale_ci95")},
            "outliers": sorted(outliers)}
