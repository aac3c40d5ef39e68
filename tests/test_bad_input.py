"""Every bad input answered in one line: a table of hostile inputs to every command of the CLI.

Each row is one case: a builder that writes the files it needs into a scratch folder and returns
the command line, the exit status it must give, and a word its one stderr line must contain. Every
row also checks that stderr is exactly one line, holds no traceback and never repeats a secret
planted in the files it reads (a wrong path may point at any file on the machine).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from accbench.bench.plan import load_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accbench.cli import main
from accbench.errors import InputError

from .conftest import FIXTURES, TOUCHSTONE
from .test_touchstone_bad import _v1, _v2

SECRET = "SECRET-7f3a9c"  # planted in every file a case reads; no message may show it
CA = TOUCHSTONE / "CA_19p75dB_thru.s4p"
NEXT = TOUCHSTONE / "CA_19p75dB_next1.s4p"
FEXT = TOUCHSTONE / "CA_19p75dB_fext1.s4p"

PLAN = """
[run]
name = "bad-input"
rates_gbd = [53.125]
ber_rates_gbd = [53.125]
target_ber = 2.4e-4
gate_s = 0.2

[gates]
reach_m = 3.0
power_w_max = 5.0

[[lots]]
id = "W-1"
carbon_mg_m2 = 12.0
awg = 26

[[cables]]
serial = "ACC-1"
lot = "W-1"
length_m = 3.0
"""

BENCH = """
[vna]
resource = "TCPIP0::127.0.0.1::1::SOCKET"
[bert]
resource = "TCPIP0::127.0.0.1::2::SOCKET"
[power]
resource = "TCPIP0::127.0.0.1::3::SOCKET"
[switch]
via = "vna"
connect = "SIM:DUT '{serial}',{lane}"
"""

Build = Callable[[Path], list[str]]


def _secret_file(tmp: Path, name: str = "secret.txt") -> Path:
    path = tmp / name
    path.write_text(f"root:{SECRET}:0:0\n{SECRET},1,2\n")
    return path


def plan(edit: Callable[[str], str] = lambda s: s, *, raw: bytes | None = None) -> Build:
    """``qualify`` on the plan above after ``edit`` (or on ``raw`` bytes)."""
    def build(tmp: Path) -> list[str]:
        path = tmp / "plan.toml"
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(edit(PLAN.replace("SECRETFILE", str(_secret_file(tmp)))))
        return ["qualify", str(path), "-o", str(tmp / "run.h5")]
    return build


def bench(edit: Callable[[str], str]) -> Build:
    """``qualify --bench`` with a good plan and the bench file above after ``edit``."""
    def build(tmp: Path) -> list[str]:
        (tmp / "plan.toml").write_text(PLAN)
        (tmp / "bench.toml").write_text(edit(BENCH))
        return ["qualify", str(tmp / "plan.toml"), "--bench", str(tmp / "bench.toml"), "-o", str(tmp / "run.h5")]
    return build


def touchstone(text: str, name: str = "a.s4p", *args: str, command: str = "analyze") -> Build:
    """``analyze`` (or ``com``) of a Touchstone file with ``text`` (a secret comment planted in it)."""
    def build(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_text(f"! {SECRET}\n" + text)
        return [command, str(path), *args]
    return build


def raw_file(name: str, data: bytes, command: list[str]) -> Build:
    """``command`` with the path of a file holding ``data`` put where ``{}`` stands."""
    def build(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_bytes(data)
        return [str(path) if part == "{}" else part for part in command]
    return build


def args(*argv: str) -> Build:
    """A command line; ``{tmp}`` is the scratch folder, ``{secret}`` a planted secret file."""
    def build(tmp: Path) -> list[str]:
        secret = _secret_file(tmp)
        return [a.replace("{tmp}", str(tmp)).replace("{secret}", str(secret)) for a in argv]
    return build


def sweep_spec(body: str) -> Build:
    """``sweep`` of a grid spec with ``body`` after its [sweep] table (a secret in a comment)."""
    def build(tmp: Path) -> list[str]:
        path = tmp / "spec.toml"
        path.write_text(f'# {SECRET}\n[sweep]\nkind = "grid"\n{body}')
        return ["sweep", str(path), "-o", str(tmp / "out.parquet")]
    return build


def mask_csv(rows: str) -> Build:
    def build(tmp: Path) -> list[str]:
        path = tmp / "mask.csv"
        path.write_text(f"# {SECRET}\nfreq_ghz,max_il_db\n{rows}")
        return ["analyze", str(CA), "--mask", str(path)]
    return build


def lots_csv(text: str | None) -> Build:
    """A plan whose lots come from lots.csv with ``text`` (None: lots_csv points at a secret file)."""
    def build(tmp: Path) -> list[str]:
        target = _secret_file(tmp) if text is None else tmp / "lots.csv"
        if text is not None:
            target.write_text(text)
        body = f'lots_csv = "{target}"\n' + PLAN.split("[[lots]]")[0] + "[[cables]]" + PLAN.split("[[cables]]")[1]
        (tmp / "plan.toml").write_text(body)
        return ["qualify", str(tmp / "plan.toml"), "-o", str(tmp / "run.h5")]
    return build


def record(data: Callable[[bytes], bytes], command: str = "show") -> Build:
    """``show``/``report`` of the bundled example record after ``data`` damaged its bytes."""
    def build(tmp: Path) -> list[str]:
        path = tmp / "run.h5"
        path.write_bytes(data((FIXTURES / "records" / "v1-example.h5").read_bytes()))
        return ["show", str(path)] if command == "show" else ["report", str(path), "-o", str(tmp)]
    return build


def _flip(data: bytes) -> bytes:
    out = bytearray(data)
    for i in range(4096, len(out), 997):
        out[i] ^= 0x5A
    return bytes(out)


def _sub(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


CASES: dict[str, tuple[Build, int, str]] = {
    # --- plans: types, finiteness, ranges, unknown keys, shapes, encodings (before any instrument) ---
    "plan-gate-nan": (plan(_sub("gate_s = 0.2", "gate_s = nan")), 2, "gate_s"),
    "plan-gate-text": (plan(_sub("gate_s = 0.2", 'gate_s = "0.2"')), 2, "without quotes"),
    "plan-length-nan": (plan(_sub("length_m = 3.0", "length_m = nan")), 2, "length_m"),
    "plan-length-inf": (plan(_sub("length_m = 3.0", "length_m = inf")), 2, "length_m"),
    "plan-length-bool": (plan(_sub("length_m = 3.0", "length_m = true")), 2, "not a number"),
    "plan-length-zero": (plan(_sub("length_m = 3.0", "length_m = 0.0")), 2, "length_m"),
    "plan-target-ber-2": (plan(_sub("target_ber = 2.4e-4", "target_ber = 2.0")), 2, "target_ber"),
    "plan-rates-text": (plan(_sub("rates_gbd = [53.125]", 'rates_gbd = "fast"')), 2, "rates_gbd"),
    "plan-rates-empty": (plan(_sub("rates_gbd = [53.125]", "rates_gbd = []")), 2, "rates_gbd"),
    "plan-unknown-run-key": (plan(_sub("gate_s = 0.2", "gate_s = 0.2\ngates_s = 1")), 2, "unknown key"),
    "plan-unknown-cable-key": (plan(_sub("length_m = 3.0", "length_m = 3.0\nlenght_m = 3")), 2, "unknown key"),
    "plan-unknown-top-key": (plan(lambda s: "title = 'x'\n" + s), 2, "unknown key"),
    "plan-unknown-lot": (plan(_sub('lot = "W-1"', 'lot = "W-9"')), 2, "W-9"),
    "plan-mask-missing": (plan(_sub("power_w_max = 5.0", 'power_w_max = 5.0\nil_mask = "nope.csv"')), 2, "il_mask"),
    "plan-cables-table": (plan(_sub("[[cables]]", "[cables]")), 2, "array of tables"),
    "plan-run-array": (plan(_sub("[run]", "[[run]]")), 2, "must be a table"),
    "plan-no-cables": (plan(lambda s: s.split("[[cables]]")[0]), 2, "cables"),
    "plan-not-toml": (plan(_sub("[run]", "[run")), 2, "not valid TOML"),
    "plan-latin1": (plan(raw=PLAN.replace("bad-input", "caf\u00e9").encode("latin-1")), 2, "UTF-8"),
    "plan-binary": (plan(raw=b"\x00\x01\x02" * 100), 2, "binary"),
    "plan-deep": (plan(raw=b"a = " + b"[" * 5000 + b"]" * 5000), 2, "deeply"),
    "plan-missing": (args("qualify", "{tmp}/absent.toml", "-o", "{tmp}/run.h5"), 2, "absent.toml"),
    "plan-folder": (args("qualify", "{tmp}", "-o", "{tmp}/run.h5"), 2, "directory"),
    "plan-output-folder-missing": (args("qualify", str(FIXTURES / "plans" / "lot-qual-example.toml"),
                                        "-o", "{tmp}/no/run.h5"), 2, "does not exist"),
    "plan-lots-csv-secret": (lots_csv(None), 2, "lots_csv"),
    "plan-lots-csv-cell": (lots_csv("id,carbon_mg_m2\nW-1,12\nW-2,lots\n"), 2, "line 3"),
    "plan-lots-csv-nan": (lots_csv("id,carbon_mg_m2\nW-1,nan\n"), 2, "carbon_mg_m2"),
    "plan-lots-csv-binary": (lots_csv("id,carbon_mg_m2\x00\n"), 2, "lots_csv"),
    # --- bench files ---
    "bench-timeout-nan": (bench(_sub('::1::SOCKET"', '::1::SOCKET"\ntimeout_s = nan')), 2, "timeout_s"),
    "bench-resource-number": (bench(_sub('resource = "TCPIP0::127.0.0.1::1::SOCKET"', "resource = 5")), 2,
                              "resource"),
    "bench-vna-array": (bench(_sub("[vna]", "[[vna]]")), 2, "must be a table"),
    "bench-unknown-key": (bench(_sub("[bert]", "[bert]\nadress = 'x'")), 2, "unknown key"),
    "bench-points": (bench(lambda s: s + "[sweep]\npoints = 5\n"), 2, "points"),
    # --- Touchstone files ---
    "ts-r-zero": (touchstone(_v1(option="# GHz S RI R 0")), 2, "reference resistance"),
    "ts-r-negative": (touchstone(_v1(option="# GHz S RI R -50")), 2, "reference resistance"),
    "ts-r-nan": (touchstone(_v1(option="# GHz S RI R nan")), 2, "R 50"),
    "ts-r-huge": (touchstone(_v1(option="# GHz S RI R 1e308")), 2, "reference resistance"),
    "ts-hz-as-ghz": (touchstone(_v1(option="# GHz S RI R 50", scale=1e9)), 2, "Hz, not GHz"),
    "ts-nfreq-wrong": (touchstone(_v2(nfreq="[Number of Frequencies] 150"), "a.ts"), 2, "[Number of Frequencies]"),
    "ts-keyword-typo": (touchstone(_v2(ports="[Number of Port] 4"), "a.ts"), 2, "[Number of Ports]"),
    "ts-negative-f": (touchstone(_v1().replace("\n0.1 ", "\n-0.1 ", 1)), 2, "negative"),
    "ts-port-count": (touchstone(_v1(), "a.s2p"), 2, ".s4p"),
    "ts-long-line": (raw_file("a.s4p", b"# GHz S RI R 50\n" + b"0.5 " * 300_000, ["analyze", "{}"]), 2,
                     "longer than"),
    "ts-binary": (raw_file("a.s4p", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), ["analyze", "{}"]), 2, "PNG"),
    "ts-missing": (args("analyze", "{tmp}/absent.s4p"), 2, "absent.s4p"),
    "ts-band-short": (touchstone(_v1()), 2, "Nyquist"),
    "ts-non-passive": (touchstone(_v1().replace(" 0.05 0 ", " 1.5 0 "), "a.s4p", "--baud", "20G"), 2,
                       "non-passive"),
    "ts-com-2port": (touchstone(_v1(nports=2), "a.s2p", command="com"), 2, "4-port"),
    # --- arguments that make no sense ---
    "analyze-fit-reversed": (args("analyze", str(CA), "--fit-fmin", "40G", "--fit-fmax", "1G"), 2, "fit band"),
    "analyze-fit-negative": (args("analyze", str(CA), "--fit-fmin", "-1G"), 2, "--fit-fmin"),
    "analyze-fit-narrow": (args("analyze", str(CA), "--fit-fmin", "30G", "--fit-fmax", "30.005G"), 2,
                           "fewer than"),
    "analyze-baud-nan": (args("analyze", str(CA), "--baud", "nan"), 2, "--baud"),
    "analyze-baud-word": (args("analyze", str(CA), "--baud", "fast"), 2, "--baud"),
    "analyze-ports-4port": (args("analyze", str(CA), "--ports", "1,2,3,4"), 2, "--ports"),
    "analyze-thru-empty": (args("analyze", str(CA), "--thru", ""), 2, "port map is empty"),
    "analyze-thru-bad": (args("analyze", str(CA), "--thru", "1-1,3-4"), 2, "exactly once"),
    "analyze-fext-alone": (args("analyze", str(FEXT)), 2, "crosstalk"),
    "analyze-fext-mapped": (args("analyze", str(FEXT), "--thru", "1-2,3-4"), 2, "crosstalk"),
    "analyze-crosstalk-mask": (args("analyze", str(FEXT), "--crosstalk", "fext", "--mask", "802.3ck-cr"), 2,
                               "--mask"),
    "analyze-cable1-baud": (args("analyze", str(TOUCHSTONE / "CABLE1_TX_pair.s4p")), 2, "26.5625 GBd"),
    "analyze-mask-nan": (mask_csv("1,4\n10,nan\n"), 2, "NaN"),
    "analyze-mask-text": (mask_csv("1,4\n10,x\n"), 2, "line"),
    "analyze-mask-unknown": (args("analyze", str(CA), "--mask", "802.3zz"), 2, "unknown mask"),
    "analyze-plot-folder": (args("analyze", str(CA), "--plot", "{tmp}/no/x.png"), 2, "does not exist"),
    "com-clause": (args("com", str(CA), "--clause", "802.3zz"), 2, "802.3zz"),
    "com-grid": (args("com", str(CA), "--next", str(TOUCHSTONE / "CABLE1_TX_pair.s4p")), 2, "grid"),
    "synth-rq": (args("synth", "--awg", "26", "--rq-um", "-1", "-o", "{tmp}/w.s4p"), 2, "--rq-um"),
    "synth-out-folder": (args("synth", "--awg", "26", "-o", "{tmp}/no/w.s4p"), 2, "does not exist"),
    "synth-length-nan": (args("synth", "--awg", "26", "--length-m", "nan", "-o", "{tmp}/w.s4p"), 2,
                         "--length-m"),
    "synth-awg": (args("synth", "--awg", "99", "-o", "{tmp}/w.s4p"), 2, "--awg"),
    "link-ctle": (args("link", "--ideal", "--ctle", "1e9"), 2, "--ctle"),
    "link-noise-nan": (args("link", "--ideal", "--noise-rms", "nan"), 2, "--noise-rms"),
    "link-noise-negative": (args("link", "--ideal", "--noise-rms", "-0.1"), 2, "--noise-rms"),
    "link-symbols-huge": (args("link", "--ideal", "--mode", "time", "--symbols", "1e20"), 2, "--symbols"),
    "link-symbols-fraction": (args("link", "--ideal", "--mode", "time", "--symbols", "1.5"), 2, "--symbols"),
    "link-pattern-secret": (args("link", "--ideal", "--mode", "time", "--pattern", "SSPRQ", "--pattern-file",
                                 "{secret}"), 2, "--pattern-file"),
    "link-pattern-file-unused": (args("link", "--ideal", "--pattern-file", "{secret}"), 2, "SSPRQ"),
    "link-symbols-stat": (args("link", "--ideal", "--symbols", "1e20"), 2, "--symbols"),
    "plan-cables-empty": (plan(lambda s: "cables = []\n" + s.split("[[cables]]")[0]), 2, "no cables"),
    "link-two-channels": (args("link", "--ideal", "--awg", "26"), 2, "exactly one channel"),
    "reach-required": (args("reach", "--awg", "26", "--required-m", "-1"), 2, "--required-m"),
    "measure-channels": (args("measure", "power", "--channels", "x"), 2, "--channels"),
    "measure-volts-nan": (args("measure", "power", "--volts", "nan"), 2, "--volts"),
    "measure-timeout-zero": (args("identify", "--timeout-s", "0"), 2, "--timeout-s"),
    "measure-out-folder": (args("measure", "sparams", "-o", "{tmp}/no/x.s4p"), 2, "does not exist"),
    "measure-dut-awg": (args("measure", "power", "--sim-dut", "awg=-5"), 2, "AWG"),
    "measure-refused": (args("identify", "--resource", "TCPIP0::127.0.0.1::9::SOCKET", "--backend", "@py",
                             "--timeout-s", "2"), 2, "127.0.0.1"),
    "sim-dut-awg": (args("sim-server", "--dut", "awg=-5"), 2, "AWG"),
    "sim-dut-key": (args("sim-server", "--dut", "foo=3"), 2, "key=value"),
    "sim-fault": (args("sim-server", "--faults", "bert.zzz"), 2, "unknown fault"),
    "sim-port": (args("sim-server", "--base-port", "70000"), 2, "--base-port"),
    # --- damaged records ---
    "db-ingest-not-hdf5": (args("db", "ingest", "{secret}", "--db", "{tmp}/results.db"), 2, "not an HDF5"),
    "db-unreachable": (args("db", "query", "--db", "postgresql://u@127.0.0.1:9/x"), 2, "check the host"),
    "trend-no-db": (args("trend", "--db", "{tmp}/results.db", "--metric", "il"), 2, "no results database"),
    "sweep-spec-range": (sweep_spec("[parameters]\nlength_m = -3\n"), 2, "length_m"),
    "qualify-workers": (args("qualify", "{secret}", "-o", "{tmp}/run.h5", "--workers", "-1"), 2, "--workers"),
    "record-missing": (args("show", "{tmp}/absent.h5"), 2, "no such file"),
    "record-not-hdf5": (args("show", "{secret}"), 2, "not an HDF5"),
    "record-truncated": (record(lambda d: d[: len(d) // 3]), 2, "truncated"),
    "record-damaged": (record(_flip), 2, "record"),
    "report-missing": (args("report", "{tmp}/absent.h5", "-o", "{tmp}"), 2, "no such file"),
    "report-truncated": (record(lambda d: d[:5000], "report"), 2, "truncated"),
    "report-out-folder": (args("report", str(FIXTURES / "records" / "v1-example.h5"), "-o", "{tmp}/no/dir"), 2,
                          "does not exist"),
    "unknown-command": (args("qualfy"), 2, "No such command"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line(case, tmp_path, capsys, monkeypatch):
    build, code, needle = CASES[case]
    monkeypatch.chdir(tmp_path)
    argv = build(tmp_path)
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("accbench: error:"), lines[0]
    assert needle.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in err and SECRET not in err


def test_the_table_covers_every_command(tmp_path):
    from accbench.cli import cli

    used = set()
    for i, (build, _, _) in enumerate(CASES.values()):
        folder = tmp_path / str(i)
        folder.mkdir()
        used.add(build(folder)[0])
    assert set(cli.commands) <= used, set(cli.commands) - used


def test_following_the_advice_works(tmp_path, capsys):
    """The crosstalk file's error points at --crosstalk; that works and adds up with the thru's ICN."""
    assert main(["analyze", str(FEXT), "--crosstalk", "fext", "--json"]) == 0
    import json

    fext = json.loads(capsys.readouterr().out)
    assert main(["analyze", str(NEXT), "--crosstalk", "next", "--json"]) == 0
    near = json.loads(capsys.readouterr().out)
    assert main(["analyze", str(CA), "--next", str(NEXT), "--fext", str(FEXT), "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["icn_mv"]
    # ICN adds in power: the two files alone must make up the thru's total (independent code paths)
    assert math.hypot(fext["icn_mv"], near["icn_mv"]) == pytest.approx(total, rel=1e-9)
    assert fext["xt_peak_db"] < -20 and near["xt_peak_db"] < -20
    # CABLE1's error suggests 26.5625 GBd; that baud is analysed
    assert main(["analyze", str(TOUCHSTONE / "CABLE1_TX_pair.s4p"), "--baud", "26.5625G", "--json"]) == 0


def test_power_without_volts_says_the_rails_are_off(capsys):
    assert main(["measure", "power"]) == 0
    captured = capsys.readouterr()
    assert "output off" in captured.out and "switched off" in captured.err


# --- property tests: random damage to a valid plan is refused in one line or accepted, never a crash ---

VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20), st.booleans(),
                   st.text(max_size=20), st.lists(st.integers(), max_size=3))
KEYS = ["gate_s", "target_ber", "length_m", "carbon_mg_m2", "awg", "reach_m", "power_w_max", "seed",
        "rates_gbd", "ber_rates_gbd", "name", "serial", "lot", "id", "pattern", "lanes"]


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_plan_fuzz_is_refused_cleanly_or_accepted(tmp_path, key, value):
    lines = [line if not line.startswith(f"{key} =") else f"{key} = {_toml_value(value)}"
             for line in PLAN.splitlines()]
    path = tmp_path / "fuzz.toml"
    path.write_text("\n".join(lines))
    try:
        loaded = load_plan(path)
    except InputError as exc:
        assert "\n" not in str(exc) and "Traceback" not in str(exc)
        return
    for cable in loaded.cables:  # accepted: every number it holds is finite and in range
        assert math.isfinite(cable.length_m) and cable.length_m > 0


def test_a_plan_mask_csv_is_read_next_to_the_plan_not_in_the_working_folder(tmp_path, monkeypatch):
    plan_dir, cwd = tmp_path / "plan", tmp_path / "cwd"
    plan_dir.mkdir()
    cwd.mkdir()
    (plan_dir / "m.csv").write_text("freq_ghz,max_il_db\n1,5\n30,25\n")
    (cwd / "m.csv").write_text("freq_ghz,max_il_db\n1,50\n30,60\n")
    (plan_dir / "plan.toml").write_text(PLAN.replace("power_w_max = 5.0", 'power_w_max = 5.0\nil_mask = "m.csv"'))
    monkeypatch.chdir(cwd)
    mask = load_plan(plan_dir / "plan.toml").gates.il_mask
    assert Path(mask) == plan_dir / "m.csv"


def test_a_lots_csv_with_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "lots.csv").write_bytes(b"\xef\xbb\xbfid,carbon_mg_m2\nW-1,10\n")
    body = 'lots_csv = "lots.csv"\n' + PLAN.split("[[lots]]")[0] + "[[cables]]" + PLAN.split("[[cables]]")[1]
    (tmp_path / "plan.toml").write_text(body)
    assert load_plan(tmp_path / "plan.toml").lots["W-1"].carbon_mg_m2 == 10
