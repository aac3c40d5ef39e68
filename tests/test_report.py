"""The HTML report without a browser: escaping, safe file names, the failing gate named, the carbon section.

Built on the version-1 fixture record (four cables: ACC-0005 fails the IL mask and reach, ACC-0007
fails power) with serials, lot ids and summaries replaced where a case needs them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from accbench.bench import reportdata as rd
from accbench.bench.htmlreport import build_report
from accbench.bench.record import read_run, read_sparameters
from accbench.bench.reportfigures import reach_figure
from accbench.bench.reportpage import environment, render_page

from .conftest import FIXTURES

RECORD = FIXTURES / "records" / "v1-example.h5"
HOSTILE = {"ACC-0001": "<script>alert(1)</script>", "ACC-0003": "../x", "ACC-0005": "..",
           "ACC-0007": '"><img src=x onerror=alert(2)>'}


@pytest.fixture(scope="module")
def run():
    return read_run(RECORD)


def _renamed(run, names: dict, lot_names: dict | None = None):
    """The run with serials (and lot ids) replaced, in the cables, the plan and the summary."""
    lot_names = lot_names or {}
    cables = tuple(replace(c, serial=names.get(c.serial, c.serial), wire_lot=lot_names.get(c.wire_lot, c.wire_lot))
                   for c in run.cables)
    plan = dict(run.plan, lots=[dict(lot, id=lot_names.get(lot["id"], lot["id"])) for lot in run.plan["lots"]])
    summary = dict(run.summary, lots=[dict(lot, id=lot_names.get(lot["id"], lot["id"]))
                                      for lot in run.summary["lots"]])
    return replace(run, cables=cables, plan=plan, summary=summary)


def test_the_template_escapes_by_default():
    assert environment().autoescape is True


def test_a_power_failure_is_not_named_an_il_failure(run):
    power, il = run.cable("ACC-0007"), run.cable("ACC-0005")
    assert rd.il_outcome(power) == "pass" and rd.il_outcome(il) == "fail"
    assert rd.il_legend_label(power) == "ACC-0007 — IL passes; fails power"
    assert rd.il_legend_label(il) == "ACC-0005 — IL mask FAIL (-1.91 dB); fails reach"
    assert rd.il_legend_label(run.cable("ACC-0001")) == "ACC-0001"
    rows = {(r["serial"], r["gate"]): r for r in rd.gate_rows(run)}
    assert set(rows) == {("ACC-0005", "IL mask"), ("ACC-0005", "reach"), ("ACC-0007", "power")}
    assert rows[("ACC-0007", "power")]["kind"] == "unit" and rows[("ACC-0005", "IL mask")]["kind"] == "wire"
    assert rows[("ACC-0005", "IL mask")]["margin"] == "-1.91 dB"
    assert [d["serial"] for d in rd.unit_defect_rows(run)] == ["ACC-0007"]
    marginal = replace(power, verdicts=tuple(replace(v, outcome="marginal") if v.name == "power" else v
                                             for v in power.verdicts))
    assert rd.il_legend_label(marginal) == "ACC-0007 — IL passes; marginal on power"


@pytest.mark.parametrize(("name", "expected"), [
    ("<script>", "_script_"), ("../x", ".._x"), ("..", "_.."), (".", "_."), ("", "_"), ("a/b\\c", "a_b_c"),
    ("ACC-0001", "ACC-0001"), ("lot é", "lot__"),
])
def test_serials_and_lot_ids_are_safe_file_names(name, expected):
    assert rd.safe_name(name) == expected


def test_hostile_serials_are_escaped_on_the_page(run):
    page = render_page(_renamed(run, HOSTILE, {"W-1001": "<b>lot</b>"}), [])
    assert "<script>" not in page and "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;lot&lt;/b&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "Content-Security-Policy" in page


def test_the_carbon_section_says_what_is_not_available(run):
    page = render_page(run, [])
    assert "Lot-level inference (change-point test, onset and limit intervals): not available" in page
    assert "per-cable hinge fit" in page and page.count("not available") >= 4  # intervals and wire pass rates


INFERENCE = {
    "unit": "lot", "lots": 3, "carbon_levels": 3, "method": "hinge on lot means, bootstrap over lots",
    "change_point": {"test": "Davies", "p_value": 0.21, "detected": False}, "onset_mg_m2": None,
    "onset_ci95": None, "slope_per_mg_m2": -0.019, "slope_ci95": [-0.05, 0.004],
    "band": {"carbon_mg_m2": [0, 80, 160, 200], "reach_m": [5.2, 4.2, 3.0, 2.4], "lo": [5.0, 3.8, 2.5, 1.6],
             "hi": [5.4, 4.6, 3.5, 3.2]},
    "status": "insufficient data", "needed": "at least 5 lots at 4 or more carbon levels between 50 and 150 mg/m²",
}
LIMITS = [
    {"reach_m": 3.0, "gate": "reach_m", "carbon_mg_m2": 158.0, "ci95": [120.0, None], "extrapolated": False,
     "status": "estimated"},
    {"reach_m": 5.0, "gate": "stretch_m", "carbon_mg_m2": 55.0, "ci95": [12.0, 140.0], "extrapolated": True,
     "status": "extrapolated"},
]


def test_the_carbon_section_shows_intervals_and_insufficient_data(run, tmp_path):
    lots = [dict(lot, wire_pass_rate=1.0, unit_defects={"power": ["ACC-0007"]} if lot["id"] == "W-1002" else {})
            for lot in run.summary["lots"]]
    stats = replace(run, summary=dict(run.summary, inference=INFERENCE, limits=LIMITS, lots=lots))
    page = render_page(stats, [])
    assert "Insufficient data:</strong>" in page and INFERENCE["needed"] in page
    assert "120 to +∞ mg/m²" in page and "12 to 140 mg/m²" in page and "yes — beyond the carbon levels" in page
    assert "Davies test: p-value" in page and "0.21" in page and "-1.9 m per 100 mg/m²" in page
    assert "power: ACC-0007" in page and "100%" in page
    fig = reach_figure(stats, tmp_path)
    assert fig.path.is_file() and "insufficient data" in fig.caption and INFERENCE["needed"] in fig.caption
    assert "95 % confidence band" in fig.caption
    assert "120 to +∞ mg/m²" in fig.caption


def test_a_report_of_hostile_serials_writes_only_safe_files(run, tmp_path):
    hostile = _renamed(run, HOSTILE, {"W-1001": "../../lot"})
    back = {v: k for k, v in HOSTILE.items()}
    page = build_report(hostile, lambda serial: read_sparameters(RECORD, back.get(serial, serial)), tmp_path / "r")
    written = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert all(p.parent == tmp_path / "r" for p in (tmp_path / "r").iterdir())
    assert "eye__script_alert_1___script_.png" in written and "eye_.._x.png" in written and "eye__...png" in written
    assert "il_.._.._lot.png" in written and not list(tmp_path.glob("*.png"))
    text = page.read_text()
    assert "<script>" not in text and text.count("<img ") == len([n for n in written if n.endswith(".png")])
    for figure_title in ("IL vs frequency", "link-model eye", "Bathtub at 53.125 GBd", "Bathtub at 106.25 GBd",
                         "Reach at 106.25 GBd vs surface carbon", "Model vs measurement"):
        assert figure_title in text


def test_a_record_whose_regression_had_too_few_points_still_reports():
    from accbench.bench.reportdata import legacy_fits

    rows = legacy_fits({"regressions": {"reach_m": None}})
    assert rows[0]["figure"] == "reach_m" and "no fit" in rows[0]["slope"]
