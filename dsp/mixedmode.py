"""Mixed-mode conversion of a 4-port at matched references: the orthogonal transform, scikit-rf otherwise.

With every single-ended port at the same real reference z0 and the mixed-mode ports at 2 z0
(differential) and z0/2 (common), the conversion is S_mm = M S M^T with the real orthogonal
M below (ports in scikit-rf's se2gmm order: pair A = ports 1, 2; pair B = 3, 4; modes d1, d2,
c1, c2). scikit-rf's general ``se2gmm``/``gmm2se`` (any references, power or pseudo waves)
gives the same numbers but costs tens of milliseconds per 6000-point sweep; anything else
goes to it.
"""

from __future__ import annotations

import numpy as np
import skrf as rf

_R = 1 / np.sqrt(2.0)
M = np.array([[_R, -_R, 0.0, 0.0],
              [0.0, 0.0, _R, -_R],
              [_R, _R, 0.0, 0.0],
              [0.0, 0.0, _R, _R]])
"""Single-ended waves (P1, N1, P2, N2) to mixed-mode waves (d1, d2, c1, c2)."""


def _uniform_real(z0: np.ndarray) -> float | None:
    """The common real reference of every port and frequency, or None."""
    z = np.asarray(z0)
    first = z.flat[0]
    if np.iscomplexobj(z) and np.any(z.imag != 0):
        return None
    return float(np.real(first)) if np.all(z == first) else None


def se2gmm_s(network: rf.Network) -> np.ndarray:
    """Mixed-mode S (d1, d2, c1, c2) of a single-ended 4-port in se2gmm order, as ``Network.se2gmm(p=2)``."""
    if network.nports == 4 and _uniform_real(network.z0) is not None:
        return M @ network.s @ M.T
    mm = network.copy()
    mm.se2gmm(p=2)
    return mm.s


def gmm2se_network(s_mm: np.ndarray, freq_hz: np.ndarray, z0_se: float = 50.0, name: str = "") -> rf.Network:
    """The single-ended 4-port (se2gmm order, all ports at ``z0_se``) of mixed-mode S referred to 2 z0_se / z0_se/2,
    as ``Network.gmm2se(p=2, z0_se=z0_se)`` of that mixed-mode network."""
    return rf.Network(frequency=rf.Frequency.from_f(freq_hz, unit="Hz"), s=M.T @ s_mm @ M,
                      z0=np.full(4, float(z0_se)), name=name)
