"""Fixture removal with scikit-rf's IEEE P370 2x-thru de-embedding (mixed-mode, NZC)."""

from __future__ import annotations

import warnings

import skrf as rf
from skrf.calibration.deembedding import IEEEP370_MM_NZC_2xThru

from accbench.errors import InputError


def deembed_2xthru(dut: rf.Network, two_x_thru: rf.Network) -> rf.Network:
    """Remove the two fixture halves of ``two_x_thru`` from ``dut``.

    Both networks must be 4-ports in scikit-rf se2gmm port order (P_A, N_A, P_B, N_B)
    on the same frequency grid.
    """
    if two_x_thru.nports != 4:
        raise InputError(f"the 2x-thru file has {two_x_thru.nports} ports; it must be a 4-port")
    if dut.frequency != two_x_thru.frequency:
        raise InputError(
            "the 2x-thru and the DUT are on different frequency grids "
            f"({two_x_thru.frequency.npoints} vs {dut.frequency.npoints} points); measure both alike"
        )
    with warnings.catch_warnings():
        # scikit-rf announces that it interpolates the DC point of the error boxes
        warnings.filterwarnings("ignore", message="DC point detected")
        deembedding = IEEEP370_MM_NZC_2xThru(dummy_2xthru=two_x_thru, name="2xthru",
                                             port_order="second")
        return deembedding.deembed(dut)
