"""Insertion-loss limit masks: named built-ins and user CSV files of (frequency, max dB)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accbench.errors import InputError


@dataclass(frozen=True)
class IlMask:
    """Maximum insertion loss (positive dB) at given frequencies; linear between points."""

    name: str
    freq_hz: np.ndarray
    max_il_db: np.ndarray

    def limit_at(self, freq_hz: np.ndarray) -> np.ndarray:
        return np.interp(freq_hz, self.freq_hz, self.max_il_db)


BUILTIN_MASKS: dict[str, IlMask] = {
    # IEEE 802.3ck 100GBASE-CR1 cable assembly: at most 19.75 dB at 26.5625 GHz (Nyquist).
    "ieee802.3ck-ca": IlMask("ieee802.3ck-ca", np.array([26.5625e9]), np.array([19.75])),
}
_ALIASES = {"802.3ck-ca": "ieee802.3ck-ca", "ieee8023ck-ca": "ieee802.3ck-ca",
            "802.3ck": "ieee802.3ck-ca"}


def load_mask(name_or_path: str) -> IlMask:
    """A built-in mask by name, or a CSV of ``frequency_hz, max_il_db`` rows (header optional).

    Frequencies in the CSV may carry a unit column header such as ``freq_ghz``.
    """
    key = _ALIASES.get(name_or_path.lower(), name_or_path.lower())
    if key in BUILTIN_MASKS:
        return BUILTIN_MASKS[key]
    path = Path(name_or_path)
    if path.suffix.lower() != ".csv":
        raise InputError(
            f"unknown mask {name_or_path!r}: use a built-in ({', '.join(BUILTIN_MASKS)}) "
            "or a CSV file of frequency, max dB"
        )
    if not path.is_file():
        raise InputError(f"mask file {path}: no such file; check the path")
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    scale = 1.0
    if lines and not _is_number(lines[0].split(",")[0]):
        header = lines.pop(0).split(",")[0].strip().lower()
        scale = {"freq_ghz": 1e9, "frequency_ghz": 1e9, "freq_mhz": 1e6, "frequency_mhz": 1e6}.get(header, 1.0)
    try:
        rows = np.array([[float(v) for v in ln.split(",")[:2]] for ln in lines])
    except ValueError as exc:
        raise InputError(f"mask file {path}: {exc}; each row must be 'frequency, max_il_db'") from exc
    if rows.ndim != 2 or rows.shape[0] < 1 or rows.shape[1] != 2:
        raise InputError(f"mask file {path}: need rows of 'frequency, max_il_db'")
    freq = rows[:, 0] * scale
    if np.any(np.diff(freq) <= 0):
        raise InputError(f"mask file {path}: frequencies must increase")
    if np.any(rows[:, 1] < 0):
        raise InputError(f"mask file {path}: max IL must be positive dB (loss), not gain")
    return IlMask(path.stem, freq, rows[:, 1])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def mask_margin_db(mask: IlMask, freq_hz: np.ndarray, il_db: np.ndarray) -> tuple[float, float]:
    """(worst margin in dB, frequency of it): limit - IL over the mask's points inside the data.

    Positive margin passes. A mask reaching outside the data band is an error.
    """
    if mask.freq_hz[0] < freq_hz[0] or mask.freq_hz[-1] > freq_hz[-1]:
        raise InputError(
            f"mask {mask.name} spans {mask.freq_hz[0] / 1e9:g}-{mask.freq_hz[-1] / 1e9:g} GHz "
            f"but the data covers {freq_hz[0] / 1e9:g}-{freq_hz[-1] / 1e9:g} GHz"
        )
    if mask.freq_hz.size == 1:
        f = mask.freq_hz
    else:
        inside = (freq_hz >= mask.freq_hz[0]) & (freq_hz <= mask.freq_hz[-1])
        f = np.union1d(freq_hz[inside], mask.freq_hz)
    margin = mask.limit_at(f) - np.interp(f, freq_hz, il_db)
    k = int(np.argmin(margin))
    return float(margin[k]), float(f[k])
