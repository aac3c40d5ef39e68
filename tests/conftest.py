"""Shared test helpers: paths of the bundled reference files and Touchstone writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skrf as rf

pytest_plugins = ["pytester"]  # the accbench pytest plugin is tested in a pytester sandbox

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOUCHSTONE = FIXTURES / "touchstone"


@pytest.fixture(scope="session")
def ca_thru() -> Path:
    return TOUCHSTONE / "CA_19p75dB_thru.s4p"


def write_network(network: rf.Network, path: Path) -> Path:
    """Write a Network with scikit-rf's own writer (RI, Hz) and return the file path."""
    network.write_touchstone(filename=path.stem, dir=str(path.parent), form="ri")
    return path.with_suffix(f".s{network.nports}p")


def sdd21_db(network: rf.Network, order: list[int]) -> np.ndarray:
    """SDD21 in dB computed directly with scikit-rf from a known port order."""
    mm = network.subnetwork(order)
    mm.se2gmm(p=2)
    return 20 * np.log10(np.abs(mm.s[:, 1, 0]))
