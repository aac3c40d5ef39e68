"""Hygiene metrics against numpy's SVD and the mixed-mode transform."""

import numpy as np
import pytest
from accbench.dsp import read_touchstone
from accbench.dsp.quality import max_singular_value, recommended_step_hz

from .conftest import TOUCHSTONE


@pytest.mark.parametrize("n", [2, 4])
def test_max_singular_value_equals_svd(n):
    rng = np.random.default_rng(n)
    s = rng.normal(size=(500, n, n)) + 1j * rng.normal(size=(500, n, n))
    np.testing.assert_allclose(max_singular_value(s), np.linalg.norm(s, ord=2, axis=(1, 2)), rtol=1e-10)


def test_mixed_mode_transform_keeps_singular_values():
    network = read_touchstone(TOUCHSTONE / "CA_19p75dB_thru.s4p").subnetwork([0, 2, 1, 3])
    mm = network.copy()
    mm.se2gmm(p=2)
    np.testing.assert_allclose(max_singular_value(mm.s), max_singular_value(network.s), rtol=1e-9)


def test_recommended_step():
    assert recommended_step_hz(25e-9) == pytest.approx(10e6)
    assert recommended_step_hz(0.0) == np.inf
