"""Reading Touchstone files: real files, traps of files in the wild, and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
import skrf as rf
from accbench.dsp.touchstone import normalise_option_line, read_touchstone, select_ports

from accbench.errors import TouchstoneError

from .conftest import TOUCHSTONE

DATA = "\n".join(
    f"{k} 0.1 10 0.9 -20 0.01 5 0.02 7\n 0.9 -20 0.1 10 0.02 7 0.01 5\n"
    f" 0.01 5 0.02 7 0.1 10 0.9 -20\n 0.02 7 0.01 5 0.9 -20 0.1 10"
    for k in (100, 200, 300, 400)
)


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_reference_file_like_scikit_rf(ca_thru):
    ours = read_touchstone(ca_thru)
    theirs = rf.Network(str(ca_thru))
    assert ours.nports == 4 and ours.frequency.npoints == 6001
    np.testing.assert_array_equal(ours.s, theirs.s)
    np.testing.assert_array_equal(ours.f, theirs.f)


@pytest.mark.parametrize("option", ["# MHz MA S R 50", "# S MHz MA R 50", "# ma r 50 mhz s", "#MHz S MA R 50"])
def test_option_line_fields_in_any_order(tmp_path, option):
    canonical = rf.Network(str(_write(tmp_path, "canon.s4p", "# MHz S MA R 50\n" + DATA)))
    network = read_touchstone(_write(tmp_path, "odd.s4p", option + "\n" + DATA))
    np.testing.assert_allclose(network.f, [100e6, 200e6, 300e6, 400e6])
    np.testing.assert_allclose(network.s, canonical.s)


def test_normalise_option_line_defaults_and_errors():
    assert normalise_option_line("# Hz") == "# Hz S MA R 50"
    with pytest.raises(TouchstoneError, match="not a Touchstone option"):
        normalise_option_line("# GHz S XX R 50")


def test_touchstone_v2_matches_v1(tmp_path):
    v1 = read_touchstone(_write(tmp_path, "a.s4p", "# MHz S MA R 50\n" + DATA))
    v2_text = ("[Version] 2.0\n# MHz S MA R 50\n[Number of Ports] 4\n[Number of Frequencies] 4\n"
               "[Network Data]\n" + DATA + "\n[End]\n")
    v2 = read_touchstone(_write(tmp_path, "a.ts", v2_text))
    np.testing.assert_allclose(v2.s, v1.s)


def test_two_port(tmp_path):
    net = read_touchstone(_write(tmp_path, "a.s2p", "# GHz S DB R 50\n1 -20 0 -3 -90 -3 -90 -20 0\n"
                                 "2 -20 0 -4 -180 -4 -180 -20 0\n"))
    assert net.nports == 2
    assert 20 * np.log10(abs(net.s[1, 1, 0])) == pytest.approx(-4)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("trunc.s4p", "# MHz S MA R 50\n" + DATA[: len(DATA) // 2 + 20], "truncated"),
        ("garbled.s4p", "# MHz S MA R 50\n" + DATA.replace("0.9 -20", "0.9 x20", 1), "garbled"),
        ("nan.s4p", "# MHz S MA R 50\n" + DATA.replace("0.9 -20", "nan -20", 1), "not finite"),
        ("empty.s4p", "", "empty"),
        ("order.s4p", "# MHz S MA R 50\n" + DATA.replace("300 ", "150 "), "strictly increasing"),
        ("wrong.s2p", "# MHz S MA R 50\n" + DATA, "rename the file to .s4p"),
        ("data.txt", DATA, "not a Touchstone"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, name, text, message):
    with pytest.raises(TouchstoneError, match=message):
        read_touchstone(_write(tmp_path, name, text))


def test_missing_file(tmp_path):
    with pytest.raises(TouchstoneError, match="no such file"):
        read_touchstone(tmp_path / "absent.s4p")


def test_select_ports_of_8_port():
    big = rf.Network(frequency=rf.Frequency(1, 2, 2, "GHz"), s=np.random.default_rng(0).random((2, 8, 8)))
    sub = select_ports(big, [5, 6, 7, 8])
    np.testing.assert_array_equal(sub.s, big.s[:, 4:, 4:])
    with pytest.raises(TouchstoneError, match="out of range"):
        select_ports(big, [1, 2, 3, 9])


def test_all_reference_files_load():
    for path in sorted(TOUCHSTONE.glob("*.s4p")):
        network = read_touchstone(path)
        assert network.nports == 4 and network.frequency.npoints >= 5000
