"""Sweep points against the single-point commands: a design row equals synth + analyze + link + reach for the
same parameters, a corpus row equals ``accbench com --json`` of that file; a failing point is a row, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from accbench.cli import main
from accbench.sweep import run_sweep

TOUCHSTONE = Path(__file__).resolve().parent.parent / "fixtures" / "touchstone"


def cli_json(capsys, *args: str) -> dict:
    """Run an accbench command in this process (the real entry point) and parse its JSON."""
    capsys.readouterr()
    code = main([*args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def rows_of(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


DESIGN = """
[sweep]
kind = "grid"
outputs = ["loss", "sparams", "link", "eye_width", "reach"]
[parameters]
awg = 28
length_m = 2.0
roughness_rq_um = 0.3
carbon_mg_m2 = 80.0
skew_ps_per_m = 3.0
baud_gbd = 106.25
ffe_post = 6
stretch_m = 2.5
"""


def test_design_rows_equal_synth_analyze_link_and_reach(tmp_path, capsys):
    spec = tmp_path / "design.toml"
    spec.write_text(DESIGN)
    summary = run_sweep(spec, tmp_path / "out.parquet", workers=0)
    assert (summary.points, summary.computed, summary.ok, summary.failed) == (1, 1, 1, 0)
    rows = rows_of(tmp_path / "out.parquet")
    wire = ["--awg", "28", "--length-m", "2", "--rq-um", "0.3", "--carbon-mg-m2", "80", "--skew-ps-per-m", "3"]
    s4p = tmp_path / "cable.s4p"
    synth = cli_json(capsys, "synth", *wire, "-o", str(s4p))
    for row in rows:
        gbd = row["baud_gbd"]
        assert row["status"] == "ok" and row["error"] is None and row["worker"].startswith("local:")
        # IL at Nyquist: the synthesized 4-port's SDD21 (synth) vs the sweep's twinax channel
        assert row["il_db"] == pytest.approx(synth[f"il_db_at_{gbd / 2:g}ghz"], abs=1e-4)
        assert row["il_db_per_m"] == pytest.approx(row["il_db"] / 2.0, rel=1e-12)
        analysis = cli_json(capsys, "analyze", str(s4p), "--baud", f"{gbd}G")
        for key in ("il_fitted_db", "ild_rms_db", "fom_ild_db", "rl_db", "delay_s"):
            assert row[key] == pytest.approx(analysis[key], rel=1e-5, abs=1e-6), key
        link = cli_json(capsys, "link", *wire, "--baud", f"{gbd}G", "--ffe", "2,6")
        for key in ("ber", "ser", "margin_db", "eye_height", "eye_width_ui", "sigma_slicer", "power_w", "pj_per_bit",
                    "ber_pass", "power_pass"):
            assert row[key] == pytest.approx(link[key], rel=1e-9, abs=1e-300), key
        assert (row["ctle_gdc_db"], row["ctle_gdc2_db"]) == (link["ctle"]["gdc_db"], link["ctle"]["gdc2_db"])
        assert row["ffe_taps"] == pytest.approx(link["ffe_taps"], rel=1e-9) and len(row["ffe_taps"]) == 9
        reach = cli_json(capsys, "reach", *wire[:2], *wire[4:], "--baud", f"{gbd}G", "--ffe", "2,6",
                         "--required-m", "2", "--stretch-m", "2.5")
        assert (row["reach_m"], row["reach_upper_m"]) == (reach["reach_m"], reach["reach_upper_m"])
        assert (row["reach_pass"], row["stretch_pass"]) == (reach["pass"], reach["stretch_pass"])


def test_corpus_rows_equal_com_json_and_bad_files_are_failed_rows(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "P1TX1_P2RX1.s4p").symlink_to(TOUCHSTONE / "P1TX1_P2RX1.s4p")
    (corpus / "garbage.s4p").write_text("# GHz S RI R 50\n1 2 3\nthis is not a number\n")
    spec = tmp_path / "corpus.toml"
    spec.write_text('[sweep]\nkind = "corpus"\nfolder = "corpus"\nclauses = ["802.3ck-cr", "802.3dj-cr"]\n')
    summary = run_sweep(spec, tmp_path / "corpus.parquet", workers=0)
    assert (summary.points, summary.ok, summary.failed) == (4, 1, 3)
    rows = {(r["file"], r["clause"]): r for r in rows_of(tmp_path / "corpus.parquet")}
    assert [r["point"] for r in rows.values()] == [0, 1, 2, 3]
    for clause in ("802.3ck-cr", "802.3dj-cr"):
        bad = rows[("garbage.s4p", clause)]
        assert bad["status"] == "failed" and bad["error"].startswith("TouchstoneError: ") and "\n" not in bad["error"]
        assert bad["com_db"] is None
    # the clause whose Nyquist is above the file's band fails with the message accbench com gives
    short = rows[("P1TX1_P2RX1.s4p", "802.3dj-cr")]
    capsys.readouterr()
    assert main(["com", str(corpus / "P1TX1_P2RX1.s4p"), "--clause", "802.3dj-cr"]) == 2
    assert short["status"] == "failed" and short["error"].removeprefix("BandError: ") in capsys.readouterr().err
    ok = rows[("P1TX1_P2RX1.s4p", "802.3ck-cr")]
    truth = cli_json(capsys, "com", str(corpus / "P1TX1_P2RX1.s4p"), "--clause", "802.3ck-cr")
    assert ok["status"] == "ok"
    assert ok["com_db"] == pytest.approx(truth["com_db"], abs=1e-12)
    assert ok["erl_db"] == pytest.approx(truth["erl_db"], abs=1e-12)
    assert ok["com_pass"] == truth["pass"]
    assert ok["il_db"] == pytest.approx(truth["figures"]["il_db_at_nyquist"], abs=1e-12)
    assert ok["fom_ild_db"] == pytest.approx(truth["figures"]["fom_ild_db"], abs=1e-12)
    assert (ok["g_dc_db"], ok["g_dc2_db"]) == (truth["eq"]["g_dc_db"], truth["eq"]["g_dc2_db"])
    assert ok["tx_ffe"] == list(truth["eq"]["tx_ffe"].values())
    assert ok["dfe_taps"] == pytest.approx(truth["eq"]["dfe"], abs=1e-12) and ok["rx_ffe"] is None
    stored = json.loads(ok["com_json"])
    for key in ("com_db", "erl_db", "eq", "checks", "limits", "figures"):
        assert stored[key] == truth[key], key
    assert [(c["com_db"], c["eq"]) for c in stored["cases"]] == [(c["com_db"], c["eq"]) for c in truth["cases"]]
