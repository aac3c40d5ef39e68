"""Sweep specs: every bad field named on one line, grid and random designs counted and drawn as specified."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from accbench.errors import InputError
from accbench.sweep.design import build_design
from accbench.sweep.spec import SweepSpecError, load_spec

TOUCHSTONE = Path(__file__).resolve().parent.parent / "fixtures" / "touchstone"
SWEEPS = Path(__file__).resolve().parent.parent / "fixtures" / "sweeps"


def spec_file(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def design(tmp_path: Path, text: str):
    return build_design(load_spec(spec_file(tmp_path, text)))


def test_every_bad_field_is_named_on_one_line(tmp_path):
    path = spec_file(tmp_path, """
[sweep]
kind = "grid"
outputs = ["loss", "eyes"]
colour = "red"
[parameters]
awg = [26, 28]
diameter_mm = 0.4
length_m = {min = 1, max = 120, num = 3}
carbon_mg_m2 = "80"
baud_gbd = {min = 50, max = 100}
wire_colour = ["red"]
""")
    with pytest.raises(SweepSpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith("sweep spec spec.toml: ")
    for fragment in ("unknown output 'eyes'", "unknown key 'colour'", "[parameters] length_m.max = 120 is out of range",
                     "[parameters] carbon_mg_m2 = '80' is text", "baud_gbd: give the grid as num",
                     "unknown parameter 'wire_colour'"):
        assert fragment in message, fragment
    assert isinstance(info.value, InputError)


def test_cross_parameter_rules(tmp_path):
    with pytest.raises(SweepSpecError, match=r"exactly one of awg, diameter_mm or diameter_m \(not awg, diameter_mm"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "grid"\n[parameters]\nawg = 26\ndiameter_mm = 0.4\n'))
    with pytest.raises(SweepSpecError, match="exactly one of awg"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "grid"\n[parameters]\nlength_m = 2.0\n'))
    with pytest.raises(SweepSpecError, match="roughness_rq_m and roughness_rq_um set the same quantity"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "grid"\n[parameters]\nawg = 26\nroughness_rq_um = 0.3\n'
                                      'roughness_rq_m = 3e-7\n'))
    with pytest.raises(SweepSpecError, match=r"n is for random designs"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "grid"\nn = 5\n[parameters]\nawg = 26\n'))
    with pytest.raises(SweepSpecError, match=r"\[sweep\] n is missing"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "random"\n[parameters]\nawg = 26\n'))
    with pytest.raises(SweepSpecError, match="eye_width is read from the link"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "grid"\noutputs = ["eye_width"]\n[parameters]\nawg = 26\n'))


def test_the_library_checks_every_level_before_anything_runs(tmp_path):
    """Values only the library can judge (a material name, an FFE too long) are refused by spec name."""
    with pytest.raises(SweepSpecError) as info:
        load_spec(spec_file(tmp_path, """
[sweep]
kind = "grid"
[parameters]
awg = 26
dielectric = ["foamed-pe", "teflon"]
ffe_pre = 30
ffe_post = [5, 40]
tx_ffe = "0,0,1"
"""))
    message = str(info.value)
    assert "[parameters] dielectric: unknown dielectric 'teflon'" in message
    assert "[parameters] ffe_pre/ffe_post: FFE taps" in message
    assert "[parameters] tx_ffe: TX FFE" in message
    assert "\n" not in message


def test_unreadable_specs_are_one_line_input_errors(tmp_path):
    with pytest.raises(SweepSpecError, match="cannot read sweep spec"):
        load_spec(tmp_path / "missing.toml")
    with pytest.raises(SweepSpecError, match="not valid TOML"):
        load_spec(spec_file(tmp_path, "[sweep\nkind = 1"))
    with pytest.raises(SweepSpecError, match=r"\[sweep\] kind = 'mesh': use grid, random, corpus"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "mesh"\n'))


def test_grid_is_every_combination_first_parameter_slowest(tmp_path):
    d = design(tmp_path, """
[sweep]
kind = "grid"
[parameters]
awg = [26, 28, 30]
length_m = {min = 1, max = 2.5, num = 4}
roughness_rq_um = {min = 0.0, max = 0.3, step = 0.1}
ffe_post = {min = 4, max = 6}
dfe = [false, true]
dielectric = "fep"
""")
    levels = [[26.0, 28.0, 30.0], [1.0, 1.5, 2.0, 2.5], [0.0, 0.1, 0.2, 0.3], [4, 5, 6], [False, True], ["fep"]]
    names = ["awg", "length_m", "roughness_rq_um", "ffe_post", "dfe", "dielectric"]
    expected = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*levels)]
    assert len(d.points) == math.prod(len(v) for v in levels) == 288
    assert list(d.points) == expected  # both ends included, 0.1 * 3 is exactly 0.3, integers stay integers
    assert isinstance(d.points[0]["ffe_post"], int) and d.input_names == tuple(names)


def test_grid_bounds_the_number_of_points(tmp_path):
    with pytest.raises(SweepSpecError, match="the grid has 1,100,000 points"):
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "grid"\n[parameters]\nawg = {min = 20, max = 30, num = 1100}\n'
                                      'length_m = {min = 1, max = 4, num = 1000}\n'))


RANDOM = """
[sweep]
kind = "random"
n = {n}
seed = {seed}
[parameters]
awg = [26, 28, 30]
length_m = {{min = 1.0, max = 5.0}}
carbon_mg_m2 = {{min = 1.0, max = 1000.0, scale = "log"}}
ffe_post = {{min = 3, max = 6}}
baud_gbd = 106.25
{extra}
"""


def test_random_design_is_reproducible_and_drawn_as_specified(tmp_path):
    a = design(tmp_path, RANDOM.format(n=2000, seed=7, extra=""))
    b = design(tmp_path, RANDOM.format(n=2000, seed=7, extra=""))
    c = design(tmp_path, RANDOM.format(n=2000, seed=8, extra=""))
    assert a.points == b.points and a.spec_hash == b.spec_hash
    assert a.points != c.points and a.spec_hash != c.spec_hash
    assert len(a.points) == 2000
    column = {name: np.array([p[name] for p in a.points]) for name in a.input_names}
    assert set(column["awg"]) == {26.0, 28.0, 30.0} and set(column["baud_gbd"]) == {106.25}
    assert set(column["ffe_post"]) == {3, 4, 5, 6}
    # uniform on [1, 5]; log-uniform on [1, 1000]; the choices equally likely (independent tests of the draws)
    assert stats.kstest(column["length_m"], stats.uniform(1.0, 4.0).cdf).pvalue > 1e-3
    assert stats.kstest(np.log(column["carbon_mg_m2"]), stats.uniform(0.0, np.log(1000.0)).cdf).pvalue > 1e-3
    assert stats.chisquare(np.unique(column["awg"], return_counts=True)[1]).pvalue > 1e-3
    assert column["length_m"].min() >= 1.0 and column["length_m"].max() <= 5.0


def test_random_draws_of_a_parameter_do_not_depend_on_the_others(tmp_path):
    a = design(tmp_path, RANDOM.format(n=50, seed=3, extra=""))
    b = design(tmp_path, RANDOM.format(n=50, seed=3, extra="roughness_rq_um = {min = 0.0, max = 0.5}"))
    assert [p["length_m"] for p in a.points] == [p["length_m"] for p in b.points]
    assert a.spec_hash != b.spec_hash


def test_the_hash_follows_the_design_not_the_text(tmp_path):
    text = '[sweep]\nkind = "grid"\n[parameters]\nawg = [26, 28]\nlength_m = 3.0\n'
    a = design(tmp_path, text)
    b = design(tmp_path, "# a comment\n" + text.replace("3.0", "3"))
    c = design(tmp_path, text.replace("3.0", "3.5"))
    d = design(tmp_path, text.replace('kind = "grid"', 'kind = "grid"\noutputs = ["loss"]'))
    assert a.spec_hash == b.spec_hash
    assert len({a.spec_hash, c.spec_hash, d.spec_hash}) == 3


def test_corpus_points_are_files_times_clauses(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    for name in ("b.s4p", "a.s4p", "sub/c.s4p", "notes.txt"):
        (corpus / name).write_text("x")
    d = design(tmp_path, '[sweep]\nkind = "corpus"\nfolder = "corpus"\npattern = "**/*.s4p"\n'
                         'clauses = ["802.3ck-cr", "802.3dj-cr"]\n[com]\ntx_ffe = "off"\n')
    assert [(p["file"], p["clause"]) for p in d.points] == [
        (f, c) for f in ("a.s4p", "b.s4p", "sub/c.s4p") for c in ("802.3ck-cr", "802.3dj-cr")]
    assert d.job.com["tx_ffe"] is False and d.job.folder == str(corpus.resolve())
    before = d.spec_hash
    (corpus / "a.s4p").write_text("changed")  # another file content is another design
    assert design(tmp_path, d.spec.source).spec_hash != before


def test_corpus_spec_problems(tmp_path):
    with pytest.raises(SweepSpecError) as info:
        load_spec(spec_file(tmp_path, '[sweep]\nkind = "corpus"\nfolder = "nowhere"\npattern = "../*.s4p"\n'
                                      'clauses = ["802.3xx"]\nn = 3\n[com]\nsearch = "fast"\n'))
    message = str(info.value)
    for fragment in ("folder 'nowhere' is not a folder", "pattern = '../*.s4p'", "unknown clause '802.3xx'",
                     "n is for design sweeps", "search = 'fast'"):
        assert fragment in message, fragment
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SweepSpecError, match=r"no file in .* matches"):
        design(tmp_path, '[sweep]\nkind = "corpus"\nfolder = "empty"\nclauses = ["802.3ck-cr"]\n')


@pytest.mark.parametrize("name", sorted(p.name for p in SWEEPS.glob("*.toml")))
def test_the_example_specs_load(name):
    d = build_design(load_spec(SWEEPS / name))
    assert d.points
