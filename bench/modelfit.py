"""Model against measurement: fit the link model's noise and jitter to a run's BER counts, flag outliers.

For every (cable, rate, lane) the run keeps the equalised pulse the link model found from the
measured S-parameters and the model's noise parts. Two scale factors are fitted across the run
by maximum likelihood on the error counts (Poisson in bits x BER):
``noise_scale`` multiplies the rms of the host-RX and redriver noise, ``jitter_scale`` the random
and dual-Dirac jitter (the EQ is held at the model's choice). Their 95 % intervals are profile-likelihood
intervals (the other scale re-fitted at each value; deviance scaled by the over-dispersion of the
counts, chi-square with one degree of freedom), so they stay valid when a scale sits at its bound
(0.1x or 10x), where a curvature interval does not exist; an end at a bound means the run cannot
exclude that scale. The correlation of the two comes from the likelihood's Hessian, computed by
statsmodels' numerical differentiation (``approx_hess3``, steps scaled to the parameters). A measurement is an
outlier when its BER departs from the fitted model by more than its band: the count's Poisson
spread (3 sigma), the fitted parameters' 95 % intervals and the model's own accuracy (0.5 decade),
or when the fitted model expects clearly more errors than the zero counted. The fit is repeated
without the outliers until the flags settle. When that flags nothing, each cable is also held
against the fit of all the others (a deleted residual): one faulty unit that is the only one to
count errors would otherwise set the fit itself and inflate the bands that should catch it.
Watts are compared with the power model the same way: a scale fitted as the median ratio,
outliers beyond three robust deviations (at least 2 %).
"""

from __future__ import annotations

import numpy as np
from accbench.dsp.statistical import ber_given_noise, interference_pdf
from scipy import optimize, stats
from statsmodels.tools.numdiff import approx_hess3

MODEL_DECADES = 0.5  # the link model's own accuracy in BER (documented, not fitted)
MIN_POWER_SPREAD = 0.02
BOUNDS = (np.log(0.1), np.log(10.0))


class _Observation:
    """One gated BER measurement beside the link model's interference and noise for it."""

    def __init__(self, serial: str, gbd: float, lane: int, bits: int, errors: int, model: dict, cursors: np.ndarray):
        self.serial, self.gbd, self.lane, self.bits, self.errors = serial, gbd, lane, bits, errors
        parts = model["sigma_parts"]
        self.fixed2 = parts.get("tx", 0.0) ** 2
        self.noise2 = parts.get("rx", 0.0) ** 2 + parts.get("acc", 0.0) ** 2
        self.rj2 = parts.get("rj", 0.0) ** 2
        self.dd = model["dd_amplitude"]
        self.v, self.pdf, self.main = interference_pdf(cursors, model["main"], dfe=model.get("dfe", False))

    def ber(self, noise: float, jitter: float) -> float:
        sigma = np.sqrt(self.fixed2 + noise**2 * self.noise2 + jitter**2 * self.rj2)
        return ber_given_noise(self.v, self.pdf, self.main, sigma, jitter * self.dd)


def _nll(params: np.ndarray, obs: list[_Observation]) -> float:
    noise, jitter = np.exp(params)
    total = 0.0
    for o in obs:
        mu = max(o.bits * o.ber(noise, jitter), 1e-300)
        total += mu - o.errors * np.log(mu)
    return float(total)


def _with(index: int, value: float, other: float) -> np.ndarray:
    """The parameter vector with ``value`` at ``index`` and ``other`` at the other place."""
    return np.array([value, other]) if index == 0 else np.array([other, value])


def _profile_ci(obs: list[_Observation], best: np.ndarray, best_nll: float, index: int,
                dispersion: float) -> list[float]:
    """95 % profile-likelihood interval of scale ``index`` (as a factor), bounded by ``BOUNDS``.

    The other log-scale is re-fitted at each value; the interval is where the deviance rises by at
    most chi2(0.95; 1) x ``dispersion``. Where it does not rise that far before a bound, the bound
    is the end (the run cannot exclude it).
    """
    allowance = 0.5 * float(stats.chi2.ppf(0.95, 1)) * dispersion

    def excess(value: float) -> float:
        inner = optimize.minimize_scalar(lambda w: _nll(_with(index, value, w), obs), bounds=BOUNDS,
                                         method="bounded", options={"xatol": 1e-3})
        return float(min(inner.fun, _nll(_with(index, value, best[1 - index]), obs)) - best_nll - allowance)

    ends = []
    for bound in BOUNDS:
        start = float(best[index])
        if abs(bound - start) < 1e-9 or excess(bound) <= 0:
            ends.append(bound)
        else:
            ends.append(optimize.brentq(excess, min(start, bound), max(start, bound), xtol=1e-3))
    return [float(np.exp(ends[0])), float(np.exp(ends[1]))]


def _log_residual(o: _Observation, predicted: float) -> float:
    return float(np.log10((o.errors + 0.5) / o.bits) - np.log10(max(predicted, 1e-300)))


def _fit(obs: list[_Observation]) -> dict:
    informative = [o for o in obs if o.errors > 0]
    if not informative:
        return {"noise_scale": None, "jitter_scale": None, "informative": 0,
                "note": "no measurement counted errors: the run cannot tell the model's noise and jitter"}
    result = optimize.minimize(_nll, np.zeros(2), args=(obs,), method="L-BFGS-B", bounds=[BOUNDS, BOUNDS])
    noise, jitter = np.exp(result.x)
    out = {"noise_scale": float(noise), "jitter_scale": float(jitter), "informative": len(informative),
           "noise_scale_ci95": None, "jitter_scale_ci95": None, "correlation": None, "dispersion": None}
    # over-dispersion: Pearson chi-square of the counts per degree of freedom (>= 1)
    mu = np.array([max(o.bits * o.ber(noise, jitter), 1e-300) for o in obs])
    counts = np.array([o.errors for o in obs])
    dof = max(len(informative) - 2, 1)
    dispersion = max(float(np.sum(((counts - mu) ** 2 / mu)[counts > 0]) / dof), 1.0)
    out["dispersion"] = dispersion
    out["_x"], out["_nll"] = result.x, float(result.fun)  # for the profile intervals of the reported fit
    step = 1e-3 * np.maximum(np.abs(result.x), 1.0)
    hessian = approx_hess3(result.x, lambda p: _nll(np.clip(p, *BOUNDS), obs), epsilon=step)
    try:
        cov = np.linalg.inv(hessian) * dispersion
    except np.linalg.LinAlgError:
        out["note"] = "noise and jitter cannot be told apart by this run (singular likelihood)"
        return out
    if np.all(np.diag(cov) > 0) and np.all(np.isfinite(cov)):
        half = 1.96 * np.sqrt(np.diag(cov))  # curvature intervals: the outlier bands while the flags settle
        ends = np.exp(np.clip([result.x - half, result.x + half], *BOUNDS))  # within the fitted range
        out["noise_scale_ci95"] = [float(ends[0, 0]), float(ends[1, 0])]
        out["jitter_scale_ci95"] = [float(ends[0, 1]), float(ends[1, 1])]
        out["correlation"] = float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))
        if abs(out["correlation"]) > 0.95:
            out["note"] = ("noise and jitter are confounded in this run (correlation "
                           f"{out['correlation']:+.3f}): their combined effect is fitted, each alone is not")
    else:
        out["note"] = "noise and jitter cannot be told apart by this run (likelihood not curved)"
    return out


def _flag(obs: list[_Observation], fit: dict) -> list[dict]:
    noise, jitter = fit.get("noise_scale") or 1.0, fit.get("jitter_scale") or 1.0
    corners = [(n, j) for n in (fit.get("noise_scale_ci95") or [noise])
               for j in (fit.get("jitter_scale_ci95") or [jitter])]
    rows = []
    for o in obs:
        p = o.ber(noise, jitter)
        # the fitted parameters' own uncertainty, in decades of BER
        spread = max((abs(np.log10(max(o.ber(n, j), 1e-300)) - np.log10(max(p, 1e-300))) for n, j in corners),
                     default=0.0)
        expected = o.bits * p
        if o.errors > 0:
            band = MODEL_DECADES + min(spread, 3.0) + 3 / (np.log(10) * np.sqrt(o.errors))
            residual = _log_residual(o, p)
            outlier = abs(residual) > band
        else:
            band, residual = None, None
            outlier = expected > 7.0 * 10 ** (MODEL_DECADES + min(spread, 3.0))  # P(0 errors) < 0.1 %
        rows.append({"serial": o.serial, "gbd": o.gbd, "lane": o.lane, "measured_ber": o.errors / o.bits,
                     "bits": o.bits, "errors": o.errors, "fitted_ber": p, "expected_errors": expected,
                     "log10_residual": residual, "band_decades": band, "outlier": bool(outlier)})
    return rows


def fit_ber_model(observations: list[tuple]) -> dict:
    """Fit noise and jitter scales to ``(serial, gbd, lane, bits, errors, model, cursors)`` tuples.

    Returns the fit (scales, 95 % intervals, correlation, dispersion), the rows compared with the
    fitted model, and the outlier serials. The fit is repeated without the flagged measurements
    until the flags settle (at most four rounds). Sync-lost gates carry no counts and are left out.
    """
    obs = [_Observation(*o) for o in observations]
    flagged: set[tuple] = set()
    for _ in range(4):
        kept = [o for o in obs if (o.serial, o.gbd, o.lane) not in flagged]
        fit = _fit(kept)
        if flagged:
            fit["left_out"] = len(flagged)
        rows = _flag(obs, fit)
        now = {(r["serial"], r["gbd"], r["lane"]) for r in rows if r["outlier"]}
        if now == flagged or fit["noise_scale"] is None:
            break
        flagged = now
    if not any(r["outlier"] for r in rows) and len({o.serial for o in obs}) > 2:
        counting = {o.serial for o in obs if o.errors > 0}  # a zero-count cable barely moves the fit
        suspects = {serial for serial in counting
                    if any(r["outlier"] for r in _flag([o for o in obs if o.serial == serial],
                                                       _fit([o for o in obs if o.serial != serial])))}
        if suspects:
            kept = [o for o in obs if o.serial not in suspects]
            fit = _fit(kept)
            fit["left_out"] = sum(o.serial in suspects for o in obs)
            rows = _flag(obs, fit)
    _profile_intervals(fit, kept)
    return {"fit": fit, "rows": rows, "outliers": sorted({r["serial"] for r in rows if r["outlier"]})}


def _profile_intervals(fit: dict, kept: list[_Observation]) -> None:
    """Replace the reported fit's curvature intervals by profile-likelihood ones (valid at the bounds)."""
    x, best = fit.pop("_x", None), fit.pop("_nll", None)
    if x is None:
        return
    fit["noise_scale_ci95"] = _profile_ci(kept, x, best, 0, fit["dispersion"])
    fit["jitter_scale_ci95"] = _profile_ci(kept, x, best, 1, fit["dispersion"])
    fit["ci_method"] = "profile likelihood (deviance scaled by the dispersion)"


def fit_power_model(pairs: list[tuple[str, float, float]]) -> dict:
    """Compare ``(serial, measured_w, predicted_w)``: the run's measured/model scale and the outliers."""
    pairs = [(s, m, p) for s, m, p in pairs if m is not None and p]
    if not pairs:
        return {"scale": None, "scale_ci95": None, "rows": [], "outliers": []}
    ratios = np.array([m / p for _, m, p in pairs])
    scale = float(np.median(ratios))
    spread = max(1.4826 * float(np.median(np.abs(ratios - scale))), MIN_POWER_SPREAD * scale)
    n = ratios.size
    half = float(stats.t.ppf(0.975, max(n - 1, 1)) * 1.2533 * spread / np.sqrt(n))  # median's standard error
    rows = [{"serial": s, "measured_w": m, "model_w": p, "ratio": m / p,
             "outlier": bool(abs(m / p - scale) > 3 * spread)} for s, m, p in pairs]
    return {"scale": scale, "scale_ci95": [scale - half, scale + half], "spread": spread, "rows": rows,
            "outliers": [r["serial"] for r in rows if r["outlier"]]}
