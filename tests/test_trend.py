"""SPC over the results database: chart constants against the published tables, control limits and Cpk against
hand computation, the Western Electric rules on sequences built to break (or just not break) each one, the trend of a
database against its records, the carbon regression over the history, and ``accbench trend``."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import statistics

import numpy as np
import pytest
from accbench.bench.record import read_run
from accbench.bench.traceability import MIN_EXCESS_DB, MIN_REACH_M, hinge_fit, lot_inference

from accbench.db import spc
from accbench.db.database import Database
from accbench.db.ingest import ingest
from accbench.db.query import Filters
from accbench.db.trend import parse_metric, trend
from accbench.errors import FieldError

from . import pg_fixture
from .conftest import FIXTURES
from .test_db import assert_one_line_error, cli

qualified_run, pg_server, pg_url = pg_fixture.qualified_run, pg_fixture.pg_server, pg_fixture.pg_url  # fixtures
V1 = FIXTURES / "records" / "v1-example.h5"

# Montgomery, Introduction to Statistical Quality Control (Wiley), Appendix VI "Factors for constructing variables
# control charts" (the same values as ASTM E2587 and ASTM MNL-7): n -> d2, d3, c4, A2, A3, B3, B4, D3, D4.
TABLE = {
    2: (1.128, 0.853, 0.7979, 1.880, 2.659, 0.0, 3.267, 0.0, 3.267),
    3: (1.693, 0.888, 0.8862, 1.023, 1.954, 0.0, 2.568, 0.0, 2.574),
    4: (2.059, 0.880, 0.9213, 0.729, 1.628, 0.0, 2.266, 0.0, 2.282),
    5: (2.326, 0.864, 0.9400, 0.577, 1.427, 0.0, 2.089, 0.0, 2.114),
    6: (2.534, 0.848, 0.9515, 0.483, 1.287, 0.030, 1.970, 0.0, 2.004),
    7: (2.704, 0.833, 0.9594, 0.419, 1.182, 0.118, 1.882, 0.076, 1.924),
    8: (2.847, 0.820, 0.9650, 0.373, 1.099, 0.185, 1.815, 0.136, 1.864),
    9: (2.970, 0.808, 0.9693, 0.337, 1.032, 0.239, 1.761, 0.184, 1.816),
    10: (3.078, 0.797, 0.9727, 0.308, 0.975, 0.284, 1.716, 0.223, 1.777),
    15: (3.472, 0.756, 0.9823, 0.223, 0.789, 0.428, 1.572, 0.347, 1.653),
    20: (3.735, 0.729, 0.9869, 0.180, 0.680, 0.510, 1.490, 0.415, 1.585),
    25: (3.931, 0.708, 0.9896, 0.153, 0.606, 0.565, 1.435, 0.459, 1.541),
}
E2 = 2.660  # individuals chart: x-bar +- E2 * MR-bar (E2 = 3 / d2(2)), same source


@pytest.mark.parametrize("n", sorted(TABLE))
def test_chart_constants_match_the_published_table(n):
    d2, d3, c4, a2, a3, b3, b4, d3_, d4 = TABLE[n]
    k = math.sqrt(1 - spc.c4(n) ** 2) / spc.c4(n)
    assert spc.c4(n) == pytest.approx(c4, abs=5e-5)
    computed = (spc.d2(n), spc.d3(n), 3 / (spc.d2(n) * math.sqrt(n)), 3 / (spc.c4(n) * math.sqrt(n)),
                max(0.0, 1 - 3 * k), 1 + 3 * k, max(0.0, 1 - 3 * spc.d3(n) / spc.d2(n)), 1 + 3 * spc.d3(n) / spc.d2(n))
    for got, want in zip(computed, (d2, d3, a2, a3, b3, b4, d3_, d4), strict=True):
        assert got == pytest.approx(want, abs=7e-4)  # the table's three decimals


def test_individuals_chart_limits_by_hand():
    x = np.array([10.2, 9.8, 10.5, 10.1, 9.6, 10.4, 10.0, 9.9, 10.3, 10.7])
    pair = spc.individuals(x)
    mr_bar = statistics.mean(abs(b - a) for a, b in itertools.pairwise(x))
    assert pair.location.center[0] == pytest.approx(statistics.mean(x))
    assert pair.location.ucl[0] == pytest.approx(statistics.mean(x) + E2 * mr_bar, rel=2e-4)
    assert pair.location.lcl[0] == pytest.approx(statistics.mean(x) - E2 * mr_bar, rel=2e-4)
    assert pair.dispersion.ucl[0] == pytest.approx(TABLE[2][8] * mr_bar, rel=2e-4)  # D4(2) MR-bar
    assert pair.dispersion.lcl[0] == 0.0 and pair.location.violations == ()


def test_xbar_r_and_xbar_s_limits_by_hand_with_equal_subgroups():
    rng = np.random.default_rng(7)
    groups = [rng.normal(5.0, 0.2, 5) for _ in range(12)]
    labels = tuple(f"L{i}" for i in range(12))
    grand = statistics.mean(float(np.mean(g)) for g in groups)
    r_bar = statistics.mean(float(np.ptp(g)) for g in groups)
    s_bar = statistics.mean(statistics.stdev(g) for g in groups)
    _, _, _, a2, a3, b3, b4, d3_, d4 = TABLE[5]
    r = spc.subgroup_charts(groups, labels, "r")
    assert r.location.center[0] == pytest.approx(grand)
    assert r.location.ucl == pytest.approx(grand + a2 * r_bar, rel=3e-4)
    assert r.location.lcl == pytest.approx(grand - a2 * r_bar, rel=3e-4)
    assert r.dispersion.center == pytest.approx(r_bar) and r.dispersion.ucl == pytest.approx(d4 * r_bar, rel=3e-4)
    assert r.dispersion.lcl == pytest.approx(d3_ * r_bar, abs=1e-12)
    s = spc.subgroup_charts(groups, labels, "s")
    assert s.location.ucl == pytest.approx(grand + a3 * s_bar, rel=3e-4)
    assert s.location.lcl == pytest.approx(grand - a3 * s_bar, rel=3e-4)
    assert s.dispersion.center == pytest.approx(s_bar) and s.dispersion.ucl == pytest.approx(b4 * s_bar, rel=3e-4)
    assert s.dispersion.lcl == pytest.approx(b3 * s_bar, abs=1e-12)
    assert s.sigma == pytest.approx(s_bar / TABLE[5][2], rel=1e-4)


def test_unequal_subgroups_and_lots_of_one_cable():
    groups = [np.array([1.0, 1.2, 0.9]), np.array([1.1]), np.array([1.3, 1.0, 1.2, 1.1, 0.8]), np.array([0.9, 1.0])]
    pair = spc.subgroup_charts(groups, ("a", "b", "c", "d"), "s")
    kept = [groups[0], groups[2], groups[3]]
    sizes = [3, 5, 2]
    # ASTM E2587: sigma = mean of s_i / c4(n_i); c4 here from math.gamma, independently of the module
    c4 = [math.sqrt(2 / (n - 1)) * math.gamma(n / 2) / math.gamma((n - 1) / 2) for n in sizes]
    sigma = statistics.mean(statistics.stdev(g) / c for g, c in zip(kept, c4, strict=True))
    grand = statistics.mean(float(v) for g in kept for v in g)
    assert pair.sigma == pytest.approx(sigma) and pair.location.labels == ("a", "c", "d")
    assert pair.location.ucl == pytest.approx([grand + 3 * sigma / math.sqrt(n) for n in sizes])
    assert "left out (one value, no spread): b" in pair.location.notes[0]
    assert spc.subgroup_charts([np.array([1.0, 2.0]), np.array([3.0])], ("a", "b")) is None


@pytest.mark.parametrize(("z", "rule", "flagged"), [
    ([0.0, 0.5, 3.2, 0.1], 1, [2]),
    ([0.0, -0.5, -3.01, 0.1], 1, [2]),
    ([0.0, 2.5, 0.5, 2.2, 0.0], 2, [3]),  # 2 of 3 beyond +2 sigma
    ([0.0, -2.1, -2.9, 0.0], 2, [2]),
    ([1.5, 1.2, 0.5, 1.8, 1.1, 0.0], 3, [4]),  # 4 of 5 beyond +1 sigma
    ([0.3] * 8 + [-0.3], 4, [7]),  # 8 in a row above
    ([-0.2] * 9, 4, [7, 8]),
])
def test_each_western_electric_rule_fires_where_it_must_and_only_that_rule(z, rule, flagged):
    found = spc.western_electric(np.array(z))
    assert [v.index for v in found if v.rule == rule] == flagged
    assert {v.rule for v in found} == {rule}


@pytest.mark.parametrize(("z", "rule"), [
    ([2.9, -2.9, 2.99, 0.0], 1),  # inside 3 sigma
    ([2.5, 0.0, 0.0, 2.5, 0.0], 2),  # two beyond 2 sigma, but not within 3 points
    ([2.5, -2.5, 0.0], 2),  # beyond 2 sigma on opposite sides
    ([1.5, 1.5, 0.5, 0.5, 1.5], 3),  # 3 of 5
    ([1.5, -1.5, 1.5, -1.5, 1.5, -1.5], 3),
    ([0.3] * 7 + [-0.3] + [0.3] * 7, 4),  # 7 in a row, broken
])
def test_each_western_electric_rule_stays_quiet_just_short_of_it(z, rule):
    assert [v for v in spc.western_electric(np.array(z)) if v.rule == rule] == []


def test_a_shifted_process_is_flagged_on_the_individuals_chart():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(10.0, 0.1, 20), rng.normal(10.25, 0.1, 12)])
    rules = {v.rule for v in spc.individuals(x).location.violations if v.index >= 20}
    assert 4 in rules or 3 in rules or 2 in rules  # the mean moved by 2.5 sigma: the zone rules see it


def test_capability_by_hand():
    x = [4.1, 4.3, 3.9, 4.0, 4.2]
    cap = spc.capability(x, 0.1, usl=5.0)
    assert cap.cpk == pytest.approx((5.0 - statistics.mean(x)) / 0.3)
    assert cap.ppk == pytest.approx((5.0 - statistics.mean(x)) / (3 * statistics.stdev(x)))
    both = spc.capability(x, 0.1, lsl=3.95, usl=5.0)
    assert both.cpk == pytest.approx((statistics.mean(x) - 3.95) / 0.3)  # the nearer limit
    assert spc.capability(x, 0.1).cpk is None and spc.capability(x, None, lsl=1.0).cpk is None


@pytest.fixture(scope="module")
def history(qualified_run, tmp_path_factory):
    """The live run's database with the version-1 example record ingested too (another station)."""
    path = tmp_path_factory.mktemp("trend") / "history.db"
    shutil.copy(qualified_run.db, path)
    with Database(path, write=True) as db:
        ingest(db, [V1], station="bench-B")
    return path


def test_trend_of_il_matches_the_records(history, qualified_run):
    cables = [*read_run(V1).cables, *read_run(qualified_run.record).cables]  # the order measured
    with Database(history) as db:
        result = trend(db, ["il@53.125", "power", "com", "reach"])
    by_name = {m.metric.name: m for m in result.metrics}
    assert list(by_name) == ["il@53.125", "power", "com@802.3ck-cr", "reach"]  # the v1 record has 802.3ck COM
    il = by_name["il@53.125"]
    values = [c.rate(53.125).il_db for c in cables]
    assert [p.value for p in il.points] == values and [p.serial for p in il.points] == [c.serial for c in cables]
    # lots with two cables or more are the subgroups (W-1002, DB-L1, DB-L2); sigma = mean of s_i / c4(n_i)
    groups = {}
    for c in cables:
        groups.setdefault(c.wire_lot, []).append(c.rate(53.125).il_db)
    kept = [v for v in groups.values() if len(v) >= 2]
    sigma = statistics.mean(statistics.stdev(v) / TABLE[len(v)][2] for v in kept)
    assert il.lots.sigma == pytest.approx(sigma, rel=1e-4)
    assert il.capability.usl == 19.75 and il.capability.lsl is None  # the 802.3ck CR mask at 26.5625 GHz
    assert il.capability.cpk == pytest.approx((19.75 - statistics.mean(values)) / (3 * sigma), rel=1e-4)
    assert il.capability.ppk == pytest.approx((19.75 - statistics.mean(values)) / (3 * statistics.stdev(values)))
    power = by_name["power"]
    assert power.capability.usl == 5.0 and [p.value for p in power.points] == [c.power_w for c in cables]
    reach = by_name["reach"]
    assert reach.capability.lsl == 3.0 and [p.value for p in reach.points] == [c.reach_m for c in cables]
    assert [p.value for p in by_name["com@802.3ck-cr"].points] == [c.com_db["802.3ck-cr"] for c in cables
                                                                   if "802.3ck-cr" in c.com_db]


def test_carbon_regression_runs_over_every_lot_of_the_history(history, qualified_run):
    cables = [*read_run(V1).cables, *read_run(qualified_run.record).cables]
    lots: dict[str, list] = {}
    for c in cables:
        lots.setdefault(c.wire_lot, []).append(c)
    ordered = sorted(lots.items(), key=lambda kv: (kv[1][0].carbon_mg_m2, kv[0]))
    carbon = np.array([cs[0].carbon_mg_m2 for _, cs in ordered])
    excess = np.array([np.mean([c.rate(53.125).excess_il_db for c in cs]) for _, cs in ordered])
    reach = np.array([np.mean([c.reach_estimate_m for c in cs]) for _, cs in ordered])
    with Database(history) as db:
        result = trend(db, ["reach"]).carbon
    assert [lot["id"] for lot in result["lots"]] == [lot for lot, _ in ordered]  # 5 lots from 2 stations
    assert result["regressions"]["excess_il_db_53.125"] == hinge_fit(carbon, excess, min_effect=MIN_EXCESS_DB)
    assert result["regressions"]["reach_m"] == hinge_fit(carbon, reach, min_effect=MIN_REACH_M)
    assert result["inference"] == lot_inference(carbon, reach)


def test_trend_filters_and_bad_metrics(history):
    with Database(history) as db:
        only_a = trend(db, ["il"], Filters(station="bench-A"))
        assert [m.metric.name for m in only_a.metrics] == ["il@53.125"]
        assert {p.station for p in only_a.metrics[0].points} == {"bench-A"}
        with pytest.raises(FieldError, match=r"il@99: not in the database; its rates \(GBd\): 53.125, 106.25"):
            trend(db, ["il@99"])
        with pytest.raises(FieldError, match=r"metric power: no values in database .* for these filters"):
            trend(db, ["power"], Filters(lot="no-such-lot"))
    for bad, needle in (("watt", "unknown metric 'watt'"), ("reach@3", "reach has no @ part"),
                        ("il@fast", "the rate after @ must be in GBd")):
        with pytest.raises(FieldError, match=needle):
            parse_metric(bad)


def test_trend_cli_writes_charts_and_a_page(history, tmp_path, capsys):
    out = tmp_path / "trend"
    code, stdout, err = cli(capsys, "trend", "--db", str(history), "--metric", "il", "--metric", "watts", "-o",
                            str(out))
    assert code == 0, err
    assert "il@53.125" in stdout and "power" in stdout and f"trend: {out / 'index.html'}" in stdout
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["carbon.png", "il-106.25-individuals.png", "il-53.125-individuals.png", "il-53.125-lots.png",
                    "power-individuals.png", "power-lots.png"]
    assert all((out / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    page = (out / "index.html").read_text()
    assert "IL at Nyquist of 53.125 GBd" in page and "Cpk" in page and "<script" not in page
    assert page.count("data:image/png;base64,") == len(pngs)
    code, stdout, err = cli(capsys, "trend", "--db", str(history), "--metric", "reach", "--chart", "r", "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert [m["metric"] for m in data["metrics"]] == ["reach"]
    assert data["metrics"][0]["lots"]["dispersion"]["kind"] == "r"
    assert data["metrics"][0]["capability"]["lsl"] == 3.0 and data["page"] is None
    assert_one_line_error(*cli(capsys, "trend", "--db", str(history), "--metric", "ber")[::2],
                          "--metric: unknown metric 'ber'")
    assert_one_line_error(*cli(capsys, "trend", "--db", str(tmp_path / "nothing.db"))[::2], "no results database")


def test_postgresql_gives_the_same_queries_and_trends_as_sqlite(qualified_run, pg_url, tmp_path):
    from accbench.db.query import query_cables

    results = []
    for url in (str(tmp_path / "same.db"), pg_url):
        with Database(url, write=True) as db:
            ingest(db, [V1, qualified_run.record], station="bench-A", operator="ann")
            data = trend(db, []).to_dict()
            results.append((query_cables(db, Filters(verdict="pass")), data["metrics"], data["carbon"]))
    assert results[0] == results[1]
