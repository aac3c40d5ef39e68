"""Statistical confidence of a BER measurement: the upper bound a gate must use, and test length.

With k errors in N bits, the one-sided upper bound on BER at confidence CL is
chi2.ppf(CL, 2(k + 1)) / (2 N) (the Poisson/chi-square bound). With zero errors it is
-ln(1 - CL) / N: 2.996 / N at 95 %, so zero errors never means BER = 0.
"""

from __future__ import annotations

from scipy.stats import chi2

from accbench.errors import InputError


def _check(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InputError(f"confidence {confidence} must be in (0, 1), e.g. 0.95")


def ber_upper_bound(errors: int, bits: float, confidence: float = 0.95) -> float:
    """Upper confidence bound on the BER after ``errors`` in ``bits`` compared bits."""
    _check(confidence)
    if bits <= 0 or errors < 0:
        raise InputError(f"need bits > 0 and errors >= 0 (got {bits}, {errors})")
    return float(chi2.ppf(confidence, 2 * (errors + 1)) / (2 * bits))


def bits_needed(ber: float, confidence: float = 0.95, errors: int = 0) -> float:
    """Bits to compare so that ``errors`` errors still claim BER <= ``ber`` at ``confidence``."""
    _check(confidence)
    if not 0 < ber < 1:
        raise InputError(f"BER {ber} must be in (0, 1)")
    return float(chi2.ppf(confidence, 2 * (errors + 1)) / (2 * ber))
