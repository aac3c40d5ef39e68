"""Model against measurement: fit the link model's noise and jitter to a run's BER counts, flag outliers.

For every (cable, rate, lane) the run keeps the equalised pulse the link model found from the
measured S-parameters and the model's noise parts. Two scale factors are fitted across the run
by maximum likelihood on the error counts (Poisson in bits x BER):
``noise_scale`` multiplies the rms of the host-RX and redriver noise, ``jitter_scale`` the random
and dual-Dirac jitter (the EQ is held at the model's choice). Their 95 % intervals come from the
curvature of the likelihood, widened by the over-dispersion of the counts. A measurement is an
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


def _hessian(f, x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            h[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * step * step)
    return h


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
    try:
        cov = np.linalg.inv(_hessian(lambda p: _nll(p, obs), result.x)) * dispersion
    except np.linalg.LinAlgError:
        out["note"] = "noise and jitter cannot be told apart by this run (singular likelihood)"
        return out
    if np.all(np.diag(cov) > 0) and np.all(np.isfinite(cov)):
        half = 1.96 * np.sqrt(np.diag(cov))
        out["noise_scale_ci95"] = [float(np.exp(result.x[0] - half[0])), float(np.exp(result.x[0] + half[0]))]
        out["jitter_scale_ci95"] = [float(np.exp(result.x[1] - half[1])), float(np.exp(result.x[1] + half[1]))]
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
            fit = _fit([o for o in obs if o.serial not in suspects])
            fit["left_out"] = sum(o.serial in suspects for o in obs)
            rows = _flag(obs, fit)
    return {"fit": fit, "rows": rows, "outliers": sorted({r["serial"] for r in rows if r["outlier"]})}


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
