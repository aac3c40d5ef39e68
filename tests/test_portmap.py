"""Port mapping: automatic detection, $PORT_MAP comments, overrides, and the 2 dB trap."""

from __future__ import annotations

import numpy as np
import pytest
import skrf as rf
from accbench.dsp import AnalysisOptions, analyze, analyze_file, read_touchstone
from accbench.dsp.portmap import parse_port_map_comment, parse_thru, resolve_port_map
from skrf.media import DefinedGammaZ0

from accbench.errors import BandError, InputError, TouchstoneError

from .conftest import TOUCHSTONE, sdd21_db, write_network

NYQ = 26.5625e9


def analytic_line(freq_hz, z_line, z_ref, alpha_np_per_m, eps_r, length_m):
    """S11, S21 of a uniform line (textbook reflection/transmission formula)."""
    gamma = alpha_np_per_m + 2j * np.pi * freq_hz * np.sqrt(eps_r) / 299792458.0
    refl = (z_line - z_ref) / (z_line + z_ref)
    p = np.exp(-gamma * length_m)
    return refl * (1 - p**2) / (1 - refl**2 * p**2), (1 - refl**2) * p / (1 - refl**2 * p**2)


def coupled_pair(freq_hz, z_diff=95.0, z_comm=28.0, length_m=2.0, eps_r=1.5):
    """Single-ended 4-port (se2gmm order) of a pair of lines built with scikit-rf media."""
    freq = rf.Frequency.from_f(freq_hz, unit="Hz")
    alpha = 0.2 * np.sqrt(freq_hz / 1e9)  # Np/m, skin-effect-like
    beta = 2 * np.pi * freq_hz * np.sqrt(eps_r) / 299792458.0
    dm = DefinedGammaZ0(freq, z0_port=100, z0=z_diff, gamma=alpha + 1j * beta).line(length_m, "m")
    cm = DefinedGammaZ0(freq, z0_port=25, z0=z_comm, gamma=alpha + 1j * beta).line(length_m, "m")
    s = np.zeros((freq_hz.size, 4, 4), dtype=complex)
    s[:, :2, :2] = dm.s
    s[:, 2:, 2:] = cm.s
    net = rf.Network(frequency=freq, s=s, z0=[100, 100, 25, 25])
    net.gmm2se(p=2, z0_se=50)
    return net, alpha


@pytest.fixture(scope="module")
def pair():
    freq = np.linspace(10e6, 40e9, 4000)
    net, alpha = coupled_pair(freq)
    _, s21 = analytic_line(freq, 95.0, 100.0, alpha, 1.5, 2.0)
    return net, float(np.interp(NYQ, freq, -20 * np.log10(np.abs(s21))))


# file position of (P_A, N_A, P_B, N_B) -> expected thru label
ORDERS = {
    (0, 1, 2, 3): "1-3,2-4",
    (0, 2, 1, 3): "1-2,3-4",
    (0, 3, 1, 2): "1-2,4-3",
    (1, 0, 3, 2): "2-4,1-3",
    (2, 0, 3, 1): "3-4,1-2",
}


@pytest.mark.parametrize(("positions", "label"), list(ORDERS.items()))
def test_any_port_order_gives_the_analytic_sdd21(tmp_path, pair, positions, label):
    net, il_expected = pair
    inverse = np.argsort(positions)  # file port k holds network port inverse[k]
    shuffled = net.subnetwork(list(inverse))
    path = write_network(shuffled, tmp_path / "pair.s4p")
    result = analyze_file(path, AnalysisOptions(baud=53.125e9))
    assert result.il_db == pytest.approx(il_expected, abs=0.01)
    # the P/N naming may swap (a sign flip of SDD21); the directed thru paths may not
    assert set(result.port_map["thru"].split(",")) == set(label.split(","))
    assert result.port_map["source"].startswith("auto")


def test_reference_cable_sdd21_at_nyquist(ca_thru):
    result = analyze_file(ca_thru)
    assert result.port_map["thru"] == "1-2,3-4"
    assert result.il_db == pytest.approx(19.74, abs=0.05)


def test_wrong_mapping_shifts_sdd21_by_about_2_db(ca_thru):
    """The trap the mapping exists for: scikit-rf on the raw order is about 2 dB off."""
    network = read_touchstone(ca_thru)
    f = network.f
    raw = float(np.interp(NYQ, f, -sdd21_db(network, [0, 1, 2, 3])))
    mapped = float(np.interp(NYQ, f, -sdd21_db(network, [0, 2, 1, 3])))
    assert abs(raw - mapped) > 1.0
    assert analyze(network).il_db == pytest.approx(mapped, abs=1e-9)
    with pytest.raises(BandError, match="port map"):
        analyze(network, AnalysisOptions(thru="1-3,2-4"))


def test_port_map_comment_is_honoured():
    network = read_touchstone(TOUCHSTONE / "P1TX1_P2RX1.s4p")
    pm = parse_port_map_comment(network.comments)
    assert pm is not None and pm.label == "1-2,3-4"
    chosen, warnings = resolve_port_map(network)
    assert chosen.source == "$PORT_MAP comment" and not warnings


def test_override_and_bad_override(ca_thru):
    assert parse_thru("1-2,3-4").order == [0, 2, 1, 3]
    assert parse_thru("2-1, 4-3").order == [1, 3, 0, 2]
    for bad in ("1-2", "1-2,2-3", "a-b,c-d", "1-5,2-3"):
        with pytest.raises(InputError):
            parse_thru(bad)


def test_crosstalk_file_alone_asks_for_thru():
    network = read_touchstone(TOUCHSTONE / "CA_19p75dB_fext1.s4p")
    with pytest.raises(TouchstoneError, match="NEXT/FEXT file is analysed on its own"):
        resolve_port_map(network)
