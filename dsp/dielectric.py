"""Causal dielectric of the twinax insulation (Djordjevic-Sarkar wideband Debye, via scikit-rf)."""

from __future__ import annotations

import numpy as np
import skrf as rf
from skrf.media import DefinedAEpTandZ0

from accbench.errors import InputError

# Typical values at 10 GHz for cable insulation: (relative permittivity, loss tangent).
DIELECTRICS: dict[str, tuple[float, float]] = {
    "foamed-pe": (1.50, 2.0e-4),
    "solid-pe": (2.25, 2.0e-4),
    "fep": (2.10, 5.0e-4),
    "foamed-fep": (1.60, 4.0e-4),
}
SPEC_FREQ_HZ = 10e9
"""Frequency at which eps_r and tan delta are specified (the Debye model spreads them)."""


def dielectric_constants(name: str, eps_r: float | None = None,
                         tan_delta: float | None = None) -> tuple[float, float]:
    """(eps_r, tan delta) of a named insulation, each overridable."""
    if name not in DIELECTRICS:
        raise InputError(f"unknown dielectric {name!r}; use one of {', '.join(DIELECTRICS)}")
    base_eps, base_tan = DIELECTRICS[name]
    eps = base_eps if eps_r is None else eps_r
    tan = base_tan if tan_delta is None else tan_delta
    if not 1.0 <= eps <= 20.0:
        raise InputError(f"eps_r {eps} is not a cable dielectric; use 1..20")
    if not 0.0 <= tan < 0.5:
        raise InputError(f"tan delta {tan} is out of range; use 0..0.5")
    return eps, tan


def complex_permittivity(freq_hz: np.ndarray, eps_r: float, tan_delta: float) -> np.ndarray:
    """Causal complex relative permittivity eps' - j eps'' (Djordjevic-Sarkar, 1 kHz..1 THz).

    scikit-rf's ``DefinedAEpTandZ0`` with ``model='djordjevicsvensson'`` supplies it, so the
    dielectric loss and dispersion obey Kramers-Kronig.
    """
    freq = rf.Frequency.from_f(np.asarray(freq_hz, dtype=float), unit="Hz")
    with np.errstate(invalid="ignore", divide="ignore"):  # its unused Z0 is 0/0 at DC
        media = DefinedAEpTandZ0(frequency=freq, ep_r=eps_r, tanD=tan_delta,
                                 f_low=1e3, f_high=1e12, f_ep=SPEC_FREQ_HZ,
                                 model="djordjevicsvensson")
        return np.asarray(media.ep_r_f)
