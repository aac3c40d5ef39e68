"""Schema accbench-run/2: every declared field is in a real record and readable with plain h5py; typed results
survive the round trip; accbench-run/1 records stay readable by show, report and the JSON summary."""

from __future__ import annotations

import json
import re
import shutil

import h5py
import numpy as np
import pytest
from accbench.bench.record import RunRecord, read_run
from accbench.bench.recordschema import CABLE_FIELDS, read_cable, write_cable
from accbench.bench.summary import qualify_json

from accbench.api import qualify
from accbench.errors import InputError

from .conftest import FIXTURES
from .test_cli import assert_cli_error, run
from .test_qualify import small_plan

V1 = FIXTURES / "records" / "v1-example.h5"


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """A small simulated run with BER counted at 53.125 GBd, two lanes, an IL mask and IEEE COM."""
    plan = small_plan(carbons=(10.0,), rates=(53.125, 106.25), lanes=2)
    data = json.loads(plan.source)
    data["run"]["com_clauses"] = ["802.3ck-cr"]
    data["gates"] = {"il_mask": "ieee802.3ck-ca"}
    from accbench.bench.plan import parse_plan

    path = tmp_path_factory.mktemp("schema") / "run.h5"
    return path, qualify(parse_plan(data, source=json.dumps(data)), path)


def _expand(field: str, group: h5py.Group) -> list[str]:
    """The concrete paths of a declared field (``<gbd>`` and ``<gate>`` for every rate and gate present)."""
    paths = [field]
    for token, parent in (("<gbd>", "rates"), ("<gate>", "verdicts")):
        if token in field:
            paths = [p.replace(token, name) for p in paths for name in group[parent]]
    return paths


def test_every_declared_field_is_in_the_record_and_needs_no_json(record):
    path, run_result = record
    with h5py.File(path, "r") as f:
        assert f.attrs["schema"] == "accbench-run/2"
        group = f["cables"]["C0-0"]
        assert "figures_json" not in group.attrs
        for field, kind, _unit, meaning in CABLE_FIELDS:
            if field.endswith("?"):  # present only where it applies
                continue
            paths = _expand(field, group)
            if field.endswith("/com"):  # COM sits at the rate of its clause only
                paths = [p for p in paths if p in group]
            assert paths, field
            for concrete in paths:
                if kind == "attr":
                    assert concrete in group.attrs, (concrete, meaning)
                elif kind == "dataset":
                    assert isinstance(group[concrete], h5py.Dataset), concrete
                else:
                    assert isinstance(group[concrete], h5py.Group) and len(group[concrete].attrs), concrete
                    for item in meaning.split(","):
                        name = re.split(r" \(|:", item.strip())[0].rstrip("/")
                        if not name.endswith("?"):  # "name?" may be absent (not measured); the others must be there
                            assert name in group[concrete].attrs or name in group[concrete], (concrete, name)
        # searchable as plain numbers: the reach verdict, the lanes' counts, the per-rate IL
        reach = group["verdicts"]["reach"].attrs
        assert reach["unit"] == "m" and reach["outcome"] in ("pass", "marginal", "fail")
        assert reach["value"] == pytest.approx(run_result.cables[0].reach_m)
        lanes = group["rates"]["53.125"]["lanes"][()]
        assert list(lanes["lane"]) == [1, 2] and (lanes["bits"] > 0).all()
        assert group["rates"]["106.25"].attrs["il_db"] == pytest.approx(run_result.cables[0].il_db["106.25"])
        assert group["freq_hz"].attrs["unit"] == "Hz"
        lot = f["lots"]["L0"].attrs  # the lot summary as attributes too
        assert lot["cables"] == 1 and lot["pass_rate"] == (1.0 if run_result.cables[0].passed else 0.0)
        assert lot["excess_il_db_106.25"] == pytest.approx(run_result.summary["lots"][0]["excess_il_db_106.25"])
        assert f.attrs["effect"] == run_result.summary["effect"]


def test_typed_results_survive_the_round_trip(record, tmp_path):
    path, run_result = record
    cable = run_result.cables[0]
    with h5py.File(tmp_path / "copy.h5", "w") as f:
        write_cable(f.create_group("c"), cable, 0, np.zeros(3), np.zeros((3, 4, 4), complex))
        assert read_cable(f["c"]) == cable
    assert read_run(path).cables[0] == cable


def test_a_figure_the_record_cannot_hold_is_refused_before_anything_is_journaled(tmp_path):
    from accbench.bench.results import CableResult

    record = RunRecord(tmp_path / "r.h5")
    record.create("t", "plan", {"lots": []}, {})
    bad = CableResult("S1", "L", 1.0, 3.0, 1, source="pytest", extra={"il_db": 19.7, "oops": [1, None]})
    with pytest.raises(InputError, match="figure 'oops' = \\[1, None\\] cannot be stored in the run record"):
        record.write_cable(0, np.zeros(0), np.zeros((0, 4, 4)), bad)
    assert not record.journal.dir.exists() and read_run(tmp_path / "r.h5").cables == ()
    good = CableResult("S1", "L", 1.0, 3.0, 1, source="pytest", extra={"il_db": 19.7, "taps": [0.1, 0.2]})
    record.write_cable(0, np.zeros(0), np.zeros((0, 4, 4)), good)
    assert read_run(tmp_path / "r.h5").cables[0].extra == {"il_db": 19.7, "taps": [0.1, 0.2]}


def test_a_version_1_record_is_still_read_by_the_api_show_report_and_json(tmp_path):
    run_v1 = read_run(V1)
    assert run_v1.schema == "accbench-run/1" and [c.serial for c in run_v1.cables] == [
        "ACC-0001", "ACC-0003", "ACC-0005", "ACC-0007"]
    outcomes = {c.serial: (c.outcome, [v.name for v in c.verdicts if not v.passed]) for c in run_v1.cables}
    assert outcomes == {"ACC-0001": ("pass", []), "ACC-0003": ("pass", []),
                        "ACC-0005": ("fail", ["il_mask", "reach"]), "ACC-0007": ("fail", ["power"])}
    assert run_v1.cables[0].rates[0].com.com_db == pytest.approx(6.285, abs=1e-3)
    shown = run("show", str(V1))
    assert shown.returncode == 0 and "ACC-0005" in shown.stdout and "FAIL" in shown.stdout, shown.stderr
    data = qualify_json(run_v1, str(V1))  # what show --json prints
    assert data["schema"] == "accbench-run/1" and data["cables"][3]["outcome"] == "fail"
    report = run("report", str(V1), "-o", str(tmp_path / "rep"))
    assert report.returncode == 0, report.stderr
    assert "accbench-run/1" in (tmp_path / "rep" / "index.html").read_text()


def test_a_version_1_record_is_not_resumed(tmp_path):
    copy = tmp_path / "old.h5"
    shutil.copy(V1, copy)
    with pytest.raises(InputError, match="accbench-run/1 record; resume it with the accbench that wrote it"):
        RunRecord(copy).open_for_resume(h5py.File(V1, "r").attrs["plan_toml"])
    plan = tmp_path / "plan.toml"
    plan.write_text(str(h5py.File(V1, "r").attrs["plan_toml"]))
    assert_cli_error(run("qualify", str(plan), "-o", str(copy), "--resume"), "accbench-run/1 record")
