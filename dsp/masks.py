"""Insertion-loss limit masks: named built-ins and user CSV files of (frequency, max dB).

The built-ins are the cable-assembly IL limits of the clause tables (``dsp/com/tables/*.toml``):
``[limits] il_max_db_at_nyquist`` at f_b / 2, with the table's sources. A clause without a sourced
limit (802.3dj-cr) has no built-in mask.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
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


CLAUSE_TABLES = Path(__file__).parent / "com" / "tables"  # read directly: importing dsp.com takes seconds


def _clause_masks() -> tuple[dict[str, IlMask], list[str]]:
    """(single-point IL masks of the clause tables that give a limit, names of those that give none)."""
    masks, unsourced = {}, []
    for path in sorted(CLAUSE_TABLES.glob("*.toml")):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        limit = table.get("limits", {}).get("il_max_db_at_nyquist")
        if limit is None:
            unsourced.append(path.stem)
            continue
        nyquist_hz = float(table["signal"]["f_b_gbd"]) * 1e9 / 2
        masks[path.stem] = IlMask(path.stem, np.array([nyquist_hz]), np.array([float(limit)]))
    return masks, unsourced


_CLAUSE_MASKS, _UNSOURCED = _clause_masks()
BUILTIN_MASKS: dict[str, IlMask] = dict(_CLAUSE_MASKS)
if "802.3ck-cr" in _CLAUSE_MASKS:  # the historical name of the 802.3ck CR cable-assembly mask (19.75 dB at 26.5625 GHz)
    BUILTIN_MASKS["ieee802.3ck-ca"] = replace(_CLAUSE_MASKS["802.3ck-cr"], name="ieee802.3ck-ca")
_ALIASES = {"802.3ck-ca": "ieee802.3ck-ca", "ieee8023ck-ca": "ieee802.3ck-ca",
            "802.3ck": "ieee802.3ck-ca"}


def load_mask(name_or_path: str) -> IlMask:
    """A built-in mask by name, or a CSV of ``frequency_hz, max_il_db`` rows (header optional).

    Frequencies in the CSV may carry a unit column header such as ``freq_ghz``.
    """
    key = _ALIASES.get(name_or_path.lower(), name_or_path.lower())
    if key in BUILTIN_MASKS:
        return BUILTIN_MASKS[key]
    if key in _UNSOURCED:
        raise InputError(f"mask {name_or_path!r}: the {key} table gives no sourced cable-assembly IL limit; "
                         "give a CSV of frequency, max dB instead")
    path = Path(name_or_path)
    if path.suffix.lower() != ".csv":
        raise InputError(
            f"unknown mask {name_or_path!r}: use a built-in ({', '.join(BUILTIN_MASKS)}) "
            "or a CSV file of frequency, max dB"
        )
    if not path.is_file():
        raise InputError(f"mask file {path}: no such file; check the path")
    lines = _mask_lines(path)
    scale = 1.0
    if lines and not _is_number(lines[0][1].split(",")[0]):
        header = lines.pop(0)[1].split(",")[0].strip().lower()
        scale = {"freq_ghz": 1e9, "frequency_ghz": 1e9, "freq_mhz": 1e6, "frequency_mhz": 1e6}.get(header, 1.0)
    rows = []
    for number, line in lines:  # the file's text is never echoed: a wrong path may name a secret file
        values = line.split(",")
        if len(values) < 2 or not all(_is_number(v) for v in values[:2]):
            raise InputError(f"mask file {path}: line {number} is not 'frequency, max_il_db' (two numbers)")
        rows.append([float(values[0]), float(values[1])])
    if not rows:
        raise InputError(f"mask file {path}: need rows of 'frequency, max_il_db'")
    table = np.array(rows)
    if not np.isfinite(table).all():
        raise InputError(f"mask file {path}: a frequency or limit is NaN or infinite; give finite numbers")
    freq = table[:, 0] * scale
    if np.any(freq <= 0):
        raise InputError(f"mask file {path}: frequencies must be > 0")
    if np.any(np.diff(freq) <= 0):
        raise InputError(f"mask file {path}: frequencies must increase")
    if np.any(table[:, 1] < 0):
        raise InputError(f"mask file {path}: max IL must be positive dB (loss), not gain")
    rows = table
    return IlMask(path.stem, freq, rows[:, 1])


MAX_MASK_BYTES = 2**20
"""An IL mask is a few hundred bytes of rows; a file past 1 MiB is not one."""


def _mask_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the mask file's data lines (comments and blanks dropped), size- and text-checked."""
    if path.stat().st_size > MAX_MASK_BYTES:
        raise InputError(f"mask file {path}: larger than 1 MiB, not a mask of frequency, max_il_db rows")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"mask file {path}: cannot read ({why})") from None
    lines = ((n, ln.strip()) for n, ln in enumerate(text.splitlines(), start=1))
    return [(n, ln) for n, ln in lines if ln and not ln.startswith("#")]


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
