"""The Touchstone fast path (dsp/touchstone_fast) against scikit-rf's reader: the same Network bit for bit,
or the same error, on the bundled files, on hand-made edge cases and on generated data blocks."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.dsp import touchstone, touchstone_fast
from accbench.dsp.touchstone import read_touchstone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accbench.errors import TouchstoneError

from .conftest import TOUCHSTONE

FILES = sorted(TOUCHSTONE.glob("*.s*p"))


def _reference(path, monkeypatch):
    """What read_touchstone returns (or raises) through scikit-rf's reader alone."""
    with monkeypatch.context() as m:
        m.setattr(touchstone, "_parse_fast", lambda *args: None)
        return _outcome(path)


def _outcome(path):
    try:
        return read_touchstone(path, notes=[])
    except TouchstoneError as exc:
        return str(exc)


def _assert_same(ours, theirs) -> None:
    if isinstance(theirs, str) or isinstance(ours, str):
        assert ours == theirs
        return
    for name in ("s", "f", "z0"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), name
    for name in ("name", "comments", "comments_after_option_line", "variables", "port_names", "s_def", "gamma"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.frequency.unit == theirs.frequency.unit
    assert np.array_equal(ours.port_modes, theirs.port_modes)
    assert ours.noisy == theirs.noisy


def _fast_taken(path) -> bool:
    data = path.read_bytes()
    return touchstone_fast.read_regular(data, path.name, path.stem, "utf-8-sig", 4) is not None


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_bundled_files_equal_scikit_rf(path, monkeypatch):
    _assert_same(_outcome(path), _reference(path, monkeypatch))


def test_reference_cable_takes_the_fast_path():
    for path in TOUCHSTONE.glob("CA_19p75dB_*.s4p"):
        assert _fast_taken(path)


RECORD = " 0.1 10 0.9 -20 0.9 -20 0.1 10"  # a 2-port record's S values (MA)

EDGE_CASES = {
    "plain": f"# MHz S MA R 50\n1{RECORD}\n2{RECORD}\n",
    "comments and port names": f"! c1\n! Port[1] = A\n! Port[2] = B\n# MHz S MA R 50\n! after\n1{RECORD}\n",
    "crlf and cr": f"# MHz S MA R 50\r\n1{RECORD}\r2{RECORD}\r\n",
    "wrapped records": "# GHz S RI R 50\n1 0.1 10 0.9 -20\n 0.9 -20 0.1 10\n2 0.1 10 0.9 -20\n0.9 -20 0.1 10\n",
    "frequency alone on a line": f"# GHz S RI R 50\n1\n{RECORD}\n2\n{RECORD}\n",
    "record start mid-line": f"# GHz S RI R 50\n1{RECORD} 2 0.1 10 0.9 -20\n0.9 -20 0.1 10\n",
    "decreasing frequency (noise block)": f"# GHz S MA R 50\n2{RECORD}\n1 1 0.5 10 0.3\n",
    "short record": f"# GHz S MA R 50\n1{RECORD}\n2 0.1 10\n",
    "odd tokens": f"# GHz S MA R 50\n1{RECORD}\n2 +.5 -0. 5. 1E3 1e-0 -0 00.10 1e+2\n",
    "long and tiny numbers": "# Hz S RI R 50\n1 0.12345678901234567 1e-300 123456789012345678901 9e22 1e23 "
                             "4.9e-324 1e400 0.000000000000000000000000001\n",
    "bad token": f"# GHz S MA R 50\n1{RECORD}\n2 0.1 10 0.9 -20 0.9 -20 0.1 1.0.0\n",
    "sign only": f"# GHz S MA R 50\n1{RECORD}\n2 0.1 10 0.9 -20 0.9 -20 0.1 -\n",
    "exponent without digits": f"# GHz S MA R 50\n1{RECORD}\n2 0.1 10 0.9 -20 0.9 -20 0.1 1e\n",
    "glued numbers": f"# GHz S MA R 50\n1{RECORD}\n2 0.1 10 0.9 -20 0.9 -20 1-2\n",
    "comment in data": f"# GHz S MA R 50\n1{RECORD} ! one\n2{RECORD}\n",
    "comment line between records": f"# GHz S MA R 50\n1{RECORD}\n! mid\n2{RECORD}\n",
    "db format": "# GHz S DB R 50\n1 -1 10 -2 -20 -2 -20 -1 10\n",
    "z parameters": "# GHz Z RI R 50\n1 50 1 10 2 10 2 50 1\n",
    "no option line": f"1{RECORD}\n2{RECORD}\n",
    "blank lines and indent": f"\n# GHz S MA R 50\n\n   \t1{RECORD}\n\n\t 2{RECORD}\n   \n",
    "latin-1 comment": "! caf\xe9\n# GHz S MA R 50\n1" + RECORD + "\n",
    "bom": "\ufeff# GHz S MA R 50\n1" + RECORD + "\n",
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_equal_scikit_rf(name, tmp_path, monkeypatch):
    path = tmp_path / "edge.s2p"
    path.write_bytes(EDGE_CASES[name].encode("latin-1" if "latin" in name else "utf-8"))
    _assert_same(_outcome(path), _reference(path, monkeypatch))


TOKENS = st.sampled_from(["0", "1", "-1", "0.5", "-.25", "5.", "1e3", "1E-3", "+2", "-0", "1e", ".", "-",
                          "1.2.3", "12345678901234567", "0.1000000000000000055511151231257827", "7e-22",
                          "3e22", "1e23", "4e-320", "2.5e308", "1-2", "9007199254740993"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(TOKENS, min_size=0, max_size=12), breaks=st.lists(st.booleans(), min_size=40, max_size=40),
       freqs=st.lists(st.sampled_from(["1", "2", "3", "0.5"]), min_size=1, max_size=4))
def test_generated_blocks_equal_scikit_rf(tmp_path_factory, monkeypatch, tokens, breaks, freqs):
    words = []
    for k, f in enumerate(freqs):
        words += [f, *(tokens[(k + j) % len(tokens)] if tokens else "0.5" for j in range(8))]
    text = "# GHz S RI R 50\n"
    for k, word in enumerate(words):
        text += word + ("\n" if breaks[k % len(breaks)] else " ")
    path = tmp_path_factory.mktemp("gen") / "gen.s2p"
    path.write_text(text)
    _assert_same(_outcome(path), _reference(path, monkeypatch))


FAST = {"plain", "comments and port names", "crlf and cr", "wrapped records", "odd tokens", "long and tiny numbers",
        "db format", "z parameters", "no option line", "blank lines and indent", "latin-1 comment", "bom"}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_fast_path_taken_only_where_regular(name):
    latin = "latin" in name
    data = EDGE_CASES[name].encode("latin-1" if latin else "utf-8")
    network = touchstone_fast.read_regular(data, "edge.s2p", "edge", "latin-1" if latin else "utf-8-sig", 2)
    assert (network is not None) == (name in FAST)
