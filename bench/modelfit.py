"""Model against measurement: fit the link model's noise and jitter to a run's BER counts, flag outliers.

For every (cable, rate, lane) the run keeps the equalised pulse the link model found from the
measured S-parameters and the model's noise parts. Two scale factors are fitted across the run
by maximum likelihood on the error counts (Poisson in bits x BER):
``noise_scale`` multiplies the rms of the host-RX and redriver noise, ``jitter_scale`` the random
and dual-Dirac jitter (the EQ is held at the model's choice). Their 95 % intervals are profile-likelihood
intervals (the other scale re-fitted at each value; deviance scaled by the over-dispersion of the
counts, chi-square with one degree of freedom), so they stay valid when a scale sits at its bound
(0.1x or 10x), where a curvature interval does not exist; an end at a bound means the run cannot
exclude that scale. The likelihood and its exact gradient are one compiled pass over all measurements
(``accbench.dsp.statistical.ber_batch``); the correlation of the two scales comes from the likelihood's
Hessian, statsmodels' central differences of that gradient (steps scaled to the parameters). A measurement is an
outlier when its BER departs from the fitted model by more than its band: the count's Poisson
spread (3 sigma), the fitted parameters' 95 % intervals and the model's own accuracy (0.5 decade),
or when the fitted model expects clearly more errors than the zero counted. The fit is repeated
without the outliers until the flags settle. When that flags nothing, each cable is also held
against the fit of all the others (a deleted residual): one faulty unit that is the only one to
count errors would otherwise set the fit itself and inflate the bands that should catch it. Those
refits, and the two profiles, run on the process's cores at once (the kernel releases the GIL).
Watts are compared with the power model the same way: a scale fitted as the median ratio,
outliers beyond three robust deviations (at least 2 %).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from accbench.bench.parallel import usable_cores
from accbench.dsp.statistical import ber_batch, interference_pdf
from scipy import optimize, stats
from statsmodels.tools.numdiff import approx_fprime

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
        v, pdf, self.main = interference_pdf(cursors, model["main"], dfe=model.get("dfe", False))
        held = pdf != 0.0  # most of the grid is empty and adds nothing to a BER
        self.v, self.pdf = v[held], pdf[held]


class _Batch:
    """Observations side by side, so the likelihood and its gradient are one compiled pass over all of them."""

    def __init__(self, obs: list[_Observation]):
        self.v = np.concatenate([o.v for o in obs]) if obs else np.zeros(0)
        self.pdf = np.concatenate([o.pdf for o in obs]) if obs else np.zeros(0)
        self.starts = np.concatenate([[0], np.cumsum([o.pdf.size for o in obs])]).astype(np.int64)
        for name in ("main", "fixed2", "noise2", "rj2", "dd", "bits", "errors"):
            setattr(self, name, np.array([getattr(o, name) for o in obs], dtype=float))

    def ber(self, noise: float, jitter: float, with_gradient: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """BER of every observation at these scales, and its gradient by (log noise, log jitter) (n x 2; None
        unless asked for)."""
        sigma = np.sqrt(self.fixed2 + noise**2 * self.noise2 + jitter**2 * self.rj2)
        ber, by_sigma, by_dd = ber_batch(self.v, self.pdf, self.starts, self.main, sigma, jitter * self.dd,
                                         with_gradient)
        if not with_gradient:
            return ber, None
        return ber, np.stack([by_sigma * noise**2 * self.noise2 / sigma,
                              by_sigma * jitter**2 * self.rj2 / sigma + by_dd * jitter * self.dd], axis=1)

    def nll(self, params: np.ndarray) -> float:
        """Poisson negative log-likelihood of the counts at log-scales ``params`` (constant terms dropped)."""
        noise, jitter = np.exp(params)
        mu = np.maximum(self.bits * self.ber(noise, jitter, False)[0], 1e-300)
        return float(np.sum(mu - self.errors * np.log(mu)))

    def nll_grad(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """The negative log-likelihood and its exact gradient by the log-scales."""
        noise, jitter = np.exp(params)
        ber, gradient = self.ber(noise, jitter)
        raw = self.bits * ber
        mu = np.maximum(raw, 1e-300)
        slope = np.where(raw > 1e-300, 1.0 - self.errors / mu, 0.0) * self.bits
        return float(np.sum(mu - self.errors * np.log(mu))), slope @ gradient


def _threads(tasks: int) -> int:
    """Threads for ``tasks`` independent fits: one per core this process may use, no more than the tasks."""
    return max(1, min(tasks, usable_cores()))


def _with(index: int, value: float, other: float) -> np.ndarray:
    """The parameter vector with ``value`` at ``index`` and ``other`` at the other place."""
    return np.array([value, other]) if index == 0 else np.array([other, value])


def _profile_ci(batch: _Batch, best: np.ndarray, best_nll: float, index: int,
                dispersion: float) -> list[float]:
    """95 % profile-likelihood interval of scale ``index`` (as a factor), bounded by ``BOUNDS``.

    The other log-scale is re-fitted at each value; the interval is where the deviance rises by at
    most chi2(0.95; 1) x ``dispersion``. Where it does not rise that far before a bound, the bound
    is the end (the run cannot exclude it).
    """
    allowance = 0.5 * float(stats.chi2.ppf(0.95, 1)) * dispersion

    def inner(w: np.ndarray, value: float) -> tuple[float, np.ndarray]:
        nll, gradient = batch.nll_grad(_with(index, value, float(w[0])))
        return nll, gradient[1 - index: 2 - index]

    def excess(value: float) -> float:
        # the other scale re-fitted from its best value (exact gradient, a few steps)
        refit = optimize.minimize(inner, np.array([best[1 - index]]), args=(value,), jac=True, method="L-BFGS-B",
                                  bounds=[BOUNDS])
        return float(min(refit.fun, batch.nll(_with(index, value, best[1 - index]))) - best_nll - allowance)

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


def _fit(obs: list[_Observation], start: np.ndarray | None = None) -> dict:
    """Maximum-likelihood scales of ``obs`` (from ``start``, default 1x and 1x), dispersion and curvature intervals."""
    informative = [o for o in obs if o.errors > 0]
    if not informative:
        return {"noise_scale": None, "jitter_scale": None, "informative": 0,
                "note": "no measurement counted errors: the run cannot tell the model's noise and jitter"}
    batch = _Batch(obs)
    result = optimize.minimize(batch.nll_grad, np.zeros(2) if start is None else np.clip(start, *BOUNDS), jac=True,
                               method="L-BFGS-B", bounds=[BOUNDS, BOUNDS])
    noise, jitter = np.exp(result.x)
    out = {"noise_scale": float(noise), "jitter_scale": float(jitter), "informative": len(informative),
           "noise_scale_ci95": None, "jitter_scale_ci95": None, "correlation": None, "dispersion": None}
    # over-dispersion: Pearson chi-square of the counts per degree of freedom (>= 1)
    mu = np.maximum(batch.bits * batch.ber(noise, jitter, False)[0], 1e-300)
    counts = batch.errors
    dof = max(len(informative) - 2, 1)
    dispersion = max(float(np.sum(((counts - mu) ** 2 / mu)[counts > 0]) / dof), 1.0)
    out["dispersion"] = dispersion
    out["_x"], out["_nll"] = result.x, float(result.fun)  # for the profile intervals of the reported fit
    hessian = _hessian(batch, result.x)
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


def _hessian(batch: _Batch, x: np.ndarray) -> np.ndarray:
    """The likelihood's Hessian at ``x``: statsmodels' central differences of the exact gradient, symmetrised."""
    step = 1e-4 * np.maximum(np.abs(x), 1.0)
    hessian = approx_fprime(x, lambda p: batch.nll_grad(np.clip(p, *BOUNDS))[1], epsilon=step, centered=True)
    return 0.5 * (hessian + hessian.T)


def _flag(obs: list[_Observation], fit: dict) -> list[dict]:
    noise, jitter = fit.get("noise_scale") or 1.0, fit.get("jitter_scale") or 1.0
    corners = [(n, j) for n in (fit.get("noise_scale_ci95") or [noise])
               for j in (fit.get("jitter_scale_ci95") or [jitter])]
    batch = _Batch(obs)
    fitted = batch.ber(noise, jitter, False)[0]
    log_fitted = np.log10(np.maximum(fitted, 1e-300))
    # the fitted parameters' own uncertainty, in decades of BER
    spreads = np.max([np.abs(np.log10(np.maximum(batch.ber(n, j, False)[0], 1e-300)) - log_fitted) for n, j in corners],
                     axis=0)
    rows = []
    for o, p, spread in zip(obs, fitted, spreads, strict=True):
        p, spread = float(p), float(spread)
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
        # each refit starts from the fit of all (one cable barely moves it, so a few steps settle it); the
        # refits are independent and run on the cores at once (the likelihood's kernel releases the GIL)
        def deleted_outlier(serial: str) -> bool:
            alone = [o for o in obs if o.serial == serial]
            return any(r["outlier"] for r in _flag(alone, _fit([o for o in obs if o.serial != serial], fit.get("_x"))))

        ordered = sorted(counting)
        with ThreadPoolExecutor(_threads(len(ordered))) as pool:
            suspects = {serial for serial, out in zip(ordered, pool.map(deleted_outlier, ordered), strict=True) if out}
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
    batch = _Batch(kept)
    with ThreadPoolExecutor(_threads(2)) as pool:
        noise, jitter = pool.map(lambda index: _profile_ci(batch, x, best, index, fit["dispersion"]), (0, 1))
    fit["noise_scale_ci95"], fit["jitter_scale_ci95"] = noise, jitter
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
