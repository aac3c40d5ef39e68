"""The run's model fit: the batched BER kernel against the closed form, the fit against counts of known scales."""

from __future__ import annotations

import numpy as np
import pytest
from accbench.bench.modelfit import _Batch, _Observation, fit_ber_model
from accbench.dsp.statistical import BINS_PER_HALF_EYE, ber_batch, interference_pdf
from scipy import optimize
from scipy.special import ndtr

CURSORS = (np.array([0.01, -0.03, 1.0, 0.08, -0.02, 0.01, 0.005]),
           np.array([-0.02, 1.0, 0.1, 0.04, -0.015]),
           np.array([0.005, 0.015, -0.04, 1.0, 0.06, -0.03, 0.02, 0.01]))  # equalised pulses: ISI ~0.15 of main


def _closed_form(v, pdf, main, sigma, dd):
    """BER = 0.75 min(1, sum_v pdf(v) (Phi((-d-v-A)/s) + Phi((-d-v+A)/s)) / 2), d = main / 3, over the whole grid."""
    d = main / 3
    return 0.75 * min(float(np.dot(pdf, 0.5 * (ndtr((-d - v - dd) / sigma) + ndtr((-d - v + dd) / sigma)))), 1.0)


def _distributions():
    parts = [interference_pdf(c, int(np.argmax(c))) for c in CURSORS]
    v = np.concatenate([p[0] for p in parts])
    pdf = np.concatenate([p[1] for p in parts])
    starts = np.concatenate([[0], np.cumsum([p[1].size for p in parts])])
    return parts, v, pdf, starts, np.array([p[2] for p in parts])


@pytest.mark.parametrize(("sigma", "dd"), [(0.03, 0.0), (0.06, 0.012), (0.12, 0.03), (0.5, 0.1)])
def test_batched_ber_is_the_closed_form_of_each_distribution(sigma, dd):
    parts, v, pdf, starts, main = _distributions()
    sigmas, dds = np.full(len(parts), sigma), np.full(len(parts), dd)
    ber, _, _ = ber_batch(v, pdf, starts, main, sigmas, dds)
    for got, (vj, pj, mj) in zip(ber, parts, strict=True):
        assert got == pytest.approx(_closed_form(vj, pj, mj, sigma, dd), rel=1e-11, abs=1e-300)


def test_batched_ber_derivatives_are_the_closed_forms_slopes():
    parts, v, pdf, starts, main = _distributions()
    sigma, dd = 0.07, 0.015
    _, by_sigma, by_dd = ber_batch(v, pdf, starts, main, np.full(3, sigma), np.full(3, dd))
    for j, (vj, pj, mj) in enumerate(parts):
        h = 1e-6
        slope_s = (_closed_form(vj, pj, mj, sigma + h, dd) - _closed_form(vj, pj, mj, sigma - h, dd)) / (2 * h)
        slope_a = (_closed_form(vj, pj, mj, sigma, dd + h) - _closed_form(vj, pj, mj, sigma, dd - h)) / (2 * h)
        assert by_sigma[j] == pytest.approx(slope_s, rel=1e-5)
        assert by_dd[j] == pytest.approx(slope_a, rel=1e-5)


def _model(k: int) -> dict:
    """A link model's noise parts for observation ``k`` (they differ, so noise and jitter can be told apart)."""
    return {"main": int(np.argmax(CURSORS[k % 3])), "dd_amplitude": 0.01 + 0.004 * (k % 5), "dfe": False,
            "sigma_parts": {"tx": 0.01, "rx": 0.03 + 0.004 * (k % 7), "acc": 0.012, "rj": 0.006 + 0.01 * (k % 4)}}


def _counts(noise: float, jitter: float, n: int = 36, bits: int = 10**10, seed: int = 3) -> list[tuple]:
    """Error counts drawn (Poisson) from the closed-form BER at known noise and jitter scales."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        model, cursors = _model(k), CURSORS[k % 3] * (1.0 + 0.02 * k)
        parts = model["sigma_parts"]
        v, pdf, main = interference_pdf(cursors, model["main"])
        sigma = np.sqrt(parts["tx"] ** 2 + noise**2 * (parts["rx"] ** 2 + parts["acc"] ** 2)
                        + jitter**2 * parts["rj"] ** 2)
        ber = _closed_form(v, pdf, main, sigma, jitter * model["dd_amplitude"])
        rows.append((f"S-{k:02d}", 53.125, 0, bits, int(rng.poisson(bits * ber)), model, cursors))
    return rows


def test_the_fit_recovers_the_scales_the_counts_were_drawn_with():
    truth = (1.3, 0.8)
    result = fit_ber_model(_counts(*truth, bits=10**8))
    fit = result["fit"]
    assert fit["informative"] > 20 and result["outliers"] == []
    for name, value in zip(("noise_scale", "jitter_scale"), truth, strict=True):
        low, high = fit[f"{name}_ci95"]
        assert low < fit[name] < high and low <= value <= high and high / low < 1.05
    assert fit["noise_scale"] == pytest.approx(truth[0], rel=0.01)


def test_the_likelihood_gradient_and_optimum_agree_with_derivative_free_search():
    obs = [_Observation(*row) for row in _counts(1.1, 1.4, n=24, seed=5)]
    batch = _Batch(obs)
    x = np.array([0.2, 0.25])
    _, gradient = batch.nll_grad(x)
    h = 1e-6
    numeric = [(batch.nll(x + h * e) - batch.nll(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5)
    fitted = fit_ber_model([row for row in _counts(1.1, 1.4, n=24, seed=5)])["fit"]
    simplex = optimize.minimize(batch.nll, np.zeros(2), method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
    assert fitted["noise_scale"] == pytest.approx(np.exp(simplex.x[0]), rel=1e-3)
    assert fitted["jitter_scale"] == pytest.approx(np.exp(simplex.x[1]), rel=1e-3)


def test_one_faulty_unit_is_flagged_and_only_it():
    rows = _counts(1.0, 1.0, n=30, seed=11, bits=10**9)
    assert fit_ber_model(rows)["outliers"] == []
    serial, gbd, lane, bits, errors, model, cursors = rows[7]
    assert errors > 100
    rows[7] = (serial, gbd, lane, bits, errors * 10, model, cursors)  # a unit ten times worse than its model
    assert fit_ber_model(rows)["outliers"] == [serial]


def _scattered(cursors: np.ndarray, main_index: int) -> tuple[np.ndarray, np.ndarray]:
    """The interference distribution by a plain scatter: each cursor's four levels moved onto the grid with
    linear splitting (numpy's add.at), no support tracking."""
    v, pdf, main = interference_pdf(cursors, main_index)
    dv = main / 3 / BINS_PER_HALF_EYE  # the grid's step (v[1] - v[0] differs from it in the last bits)
    out = np.zeros_like(pdf)
    out[np.argmin(np.abs(v))] = 1.0
    for c in np.delete(cursors, main_index):
        if abs(c) < 1e-3 * dv:
            continue
        moved = np.zeros_like(out)
        for level in (-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0):
            shift = c * level / dv
            whole = int(np.floor(shift))
            frac = shift - whole
            source = np.arange(out.size)
            target = source + whole
            keep = (target >= 0) & (target < out.size - 1)
            np.add.at(moved, target[keep], 0.25 * (1 - frac) * out[source[keep]])
            np.add.at(moved, target[keep] + 1, 0.25 * frac * out[source[keep]])
        out = moved
    return v, out


@pytest.mark.parametrize("cursors", (*CURSORS, np.array([0.3, -0.2, 1.0, 0.45, -0.3, 0.2, -0.1, 0.05])))
def test_interference_distribution_is_a_plain_scatter_of_the_levels(cursors):
    _v, pdf, _ = interference_pdf(cursors, int(np.argmax(cursors)))
    _, expected = _scattered(cursors, int(np.argmax(cursors)))
    np.testing.assert_allclose(pdf, expected, rtol=1e-12, atol=1e-300)
    assert pdf.sum() == pytest.approx(1.0, abs=1e-12)
