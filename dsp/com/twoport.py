"""Two-port S-parameter building blocks of the COM device, package and host models (Annex 93A.1.2, 178A.1.4).

Plain functions over frequency arrays (Hz) returning S as arrays of shape (F, 2, 2), all referenced to one
real impedance ``r0`` per port. The single-ended formulae of 93A.1.2 at ``R0`` give the differential-mode
S-parameters at ``2 R0`` directly, which is how COM uses them.
"""

from __future__ import annotations

import numpy as np


def _sym(s11: np.ndarray, s21: np.ndarray) -> np.ndarray:
    out = np.empty((s11.size, 2, 2), dtype=complex)
    out[:, 0, 0] = out[:, 1, 1] = s11
    out[:, 0, 1] = out[:, 1, 0] = s21
    return out


def series_z(z: np.ndarray, r0: float) -> np.ndarray:
    """A series impedance ``z`` (ohm) between ports of reference ``r0``: s11 = z/(z+2r0), s21 = 2r0/(z+2r0)."""
    return _sym(z / (z + 2 * r0), 2 * r0 / (z + 2 * r0))


def shunt_y(y: np.ndarray, r0: float) -> np.ndarray:
    """A shunt admittance ``y`` (S): s11 = -y r0/(2 + y r0), s21 = 2/(2 + y r0) (93A-8 for y = j w C)."""
    return _sym(-y * r0 / (2 + y * r0), 2 / (2 + y * r0))


def shunt_c(freq_hz: np.ndarray, c_f: float, r0: float) -> np.ndarray:
    return shunt_y(2j * np.pi * freq_hz * c_f, r0)


def series_l(freq_hz: np.ndarray, l_h: float, r0: float) -> np.ndarray:
    return series_z(2j * np.pi * freq_hz * l_h, r0)


def tline_gamma(freq_hz: np.ndarray, gamma0_per_mm: float, a1: float, a2: float, tau_ns_per_mm: float) -> np.ndarray:
    """Propagation coefficient per mm of the COM transmission line (93A-9..12), f in GHz inside:
    gamma0 + a1 (1 + j) sqrt(f) + f (a2 (1 - j (2/pi) ln f) + j 2 pi tau); gamma0 at DC."""
    f = np.asarray(freq_hz, dtype=float) / 1e9
    out = np.full(f.shape, gamma0_per_mm, dtype=complex)
    pos = f > 0
    fp = f[pos]
    loss = a1 * (1 + 1j) * np.sqrt(fp) + fp * a2 * (1 - 1j * (2 / np.pi) * np.log(fp))
    out[pos] += loss + 2j * np.pi * tau_ns_per_mm * fp
    return out


def tline(freq_hz: np.ndarray, zc_ohm: float, length_mm: float, gamma_per_mm: np.ndarray, r0: float) -> np.ndarray:
    """A line of (differential) impedance ``zc_ohm`` and ``length_mm`` against ``2 r0`` (93A-13, 93A-14)."""
    rho = (zc_ohm - 2 * r0) / (zc_ohm + 2 * r0)
    e1 = np.exp(-gamma_per_mm * length_mm)
    e2 = e1 * e1
    den = 1 - rho**2 * e2
    return _sym(rho * (1 - e2) / den, (1 - rho**2) * e1 / den)


def cascade(*stages: np.ndarray) -> np.ndarray:
    """Cascade two-ports left to right (Redheffer star product; port 2 of each faces port 1 of the next)."""
    out = stages[0]
    for b in stages[1:]:
        a = out
        d = 1.0 / (1.0 - a[:, 1, 1] * b[:, 0, 0])
        s = np.empty_like(a)
        s[:, 0, 0] = a[:, 0, 0] + a[:, 0, 1] * b[:, 0, 0] * a[:, 1, 0] * d
        s[:, 0, 1] = a[:, 0, 1] * b[:, 0, 1] * d
        s[:, 1, 0] = a[:, 1, 0] * b[:, 1, 0] * d
        s[:, 1, 1] = b[:, 1, 1] + b[:, 1, 0] * a[:, 1, 1] * b[:, 0, 1] * d
        out = s
    return out


def flip(s: np.ndarray) -> np.ndarray:
    """The same two-port seen from the other side (ports swapped)."""
    return s[:, ::-1, ::-1].copy()


def renormalize(s: np.ndarray, z_from: float, z_to: float) -> np.ndarray:
    """A two-port referenced to ``z_from`` on both ports, re-referenced to ``z_to`` (real impedances)."""
    if z_from == z_to:
        return s
    g = (z_to - z_from) / (z_to + z_from)
    eye = np.eye(2)
    return np.linalg.solve((eye - g * s).transpose(0, 2, 1), (s - g * eye).transpose(0, 2, 1)).transpose(0, 2, 1)


def transfer(s: np.ndarray, gamma1: float = 0.0, gamma2: float = 0.0) -> np.ndarray:
    """Voltage transfer function of a terminated two-port (93A-18)."""
    s11, s12, s21, s22 = s[:, 0, 0], s[:, 0, 1], s[:, 1, 0], s[:, 1, 1]
    det = s11 * s22 - s12 * s21
    return s21 * (1 - gamma1) * (1 + gamma2) / (1 - s11 * gamma1 - s22 * gamma2 + gamma1 * gamma2 * det)
